//! One-to-one matching of themes to codes by maximum total overlap: the Hungarian algorithm (Kuhn 1955;
//! the O(n^2 m) potentials form of Jonker and Volgenant), on a rectangular table.

/// Matches rows to columns one to one, maximising the total weight; returns `(row, column)` pairs in row
/// order, `min(rows, columns)` of them. `weights` is row-major with `n_cols` columns.
///
/// Deterministic: among equally good matchings it returns the same one for the same table.
pub fn max_weight_matching(weights: &[u64], n_cols: usize) -> Vec<(usize, usize)> {
    if n_cols == 0 || weights.is_empty() {
        return Vec::new();
    }
    let n_rows = weights.len() / n_cols;
    let top = weights.iter().copied().max().unwrap_or(0) as i64;
    // Minimise cost = top - weight, with the shorter side as the rows of the solver.
    let transposed = n_rows > n_cols;
    let (n, m) = if transposed { (n_cols, n_rows) } else { (n_rows, n_cols) };
    let cost = |i: usize, j: usize| -> i64 {
        let w = if transposed { weights[j * n_cols + i] } else { weights[i * n_cols + j] };
        top - w as i64
    };
    // 1-based arrays, index 0 is the virtual start column, as in the classic formulation.
    let mut u = vec![0i64; n + 1];
    let mut v = vec![0i64; m + 1];
    let mut row_of_col = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        row_of_col[0] = i;
        let mut j0 = 0;
        let mut min_to = vec![i64::MAX; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = row_of_col[j0];
            let mut delta = i64::MAX;
            let mut j1 = 0;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let reduced = cost(i0 - 1, j - 1) - u[i0] - v[j];
                if reduced < min_to[j] {
                    min_to[j] = reduced;
                    way[j] = j0;
                }
                if min_to[j] < delta {
                    delta = min_to[j];
                    j1 = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of_col[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            j0 = j1;
            if row_of_col[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            row_of_col[j0] = row_of_col[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = (1..=m)
        .filter(|&j| row_of_col[j] != 0)
        .map(|j| if transposed { (j - 1, row_of_col[j] - 1) } else { (row_of_col[j] - 1, j - 1) })
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The best total over every one-to-one matching, by brute force: the naive reference.
    fn brute_force_best(weights: &[u64], n_rows: usize, n_cols: usize) -> u64 {
        fn go(row: usize, used: &mut Vec<bool>, w: &[u64], n_rows: usize, n_cols: usize) -> u64 {
            if row == n_rows {
                return 0;
            }
            // A row may stay unmatched only when there are more rows than columns.
            let mut best = if n_rows > n_cols { go(row + 1, used, w, n_rows, n_cols) } else { 0 };
            for j in 0..n_cols {
                if !used[j] {
                    used[j] = true;
                    best = best.max(w[row * n_cols + j] + go(row + 1, used, w, n_rows, n_cols));
                    used[j] = false;
                }
            }
            best
        }
        go(0, &mut vec![false; n_cols], weights, n_rows, n_cols)
    }

    #[test]
    fn small_known_case() {
        // Greedy would take 9 first and end with 9 + 1; the best is 8 + 7.
        let weights = [9, 8, 7, 1];
        assert_eq!(max_weight_matching(&weights, 2), vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn rectangular_both_ways() {
        let wide = [1, 5, 2, 4, 0, 3];
        let pairs = max_weight_matching(&wide, 3);
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs.iter().map(|&(i, j)| wide[i * 3 + j]).sum::<u64>(), 9);
        let tall = [1, 4, 5, 0, 2, 3];
        let pairs = max_weight_matching(&tall, 2);
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs.iter().map(|&(i, j)| tall[i * 2 + j]).sum::<u64>(), 9);
    }

    proptest! {
        #[test]
        fn optimal_like_brute_force(n_rows in 1usize..6, n_cols in 1usize..6, seed in any::<u64>()) {
            let mut state = seed;
            let weights: Vec<u64> = (0..n_rows * n_cols)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (state >> 59) % 12
                })
                .collect();
            let pairs = max_weight_matching(&weights, n_cols);
            prop_assert_eq!(pairs.len(), n_rows.min(n_cols));
            let mut rows: Vec<usize> = pairs.iter().map(|p| p.0).collect();
            let mut cols: Vec<usize> = pairs.iter().map(|p| p.1).collect();
            rows.dedup();
            cols.sort_unstable();
            cols.dedup();
            prop_assert_eq!(rows.len(), pairs.len());
            prop_assert_eq!(cols.len(), pairs.len());
            let total: u64 = pairs.iter().map(|&(i, j)| weights[i * n_cols + j]).sum();
            prop_assert_eq!(total, brute_force_best(&weights, n_rows, n_cols));
        }
    }
}
