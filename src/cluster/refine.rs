//! Spherical k-means refinement in the full TF-IDF space: LSA keeps 100 directions, which is what makes
//! k-means fast and robust to start, but it blurs words that only a few clusters use. Starting from the
//! LSA clustering, each cluster's centroid is the normalised sum of its unit-length TF-IDF rows (Dhillon
//! and Modha 2001), a quote's own cluster is scored without the quote itself (with it, short quotes
//! mostly match themselves and never move), and each quote moves to the cluster of highest cosine, until
//! fewer than one quote in a thousand moves. Measured (k = true labels, seeds 1-3): 20 Newsgroups NMI
//! 0.642 -> 0.669 (0.658 keeping each quote in its own centroid); BBC News 0.888 -> 0.884.

use rayon::prelude::*;

use crate::vocab::Csr;

/// Refines `labels` (clusters `0..k` of the rows of `matrix`, whose rows are unit length) by spherical
/// k-means for at most `max_iter` rounds; returns the rounds run. Ties keep the lowest cluster. A cluster
/// left empty keeps no centroid and gets no rows back.
pub fn spherical_refine(matrix: &Csr<f64>, labels: &mut [usize], k: usize, max_iter: usize) -> usize {
    let by_term = matrix.transpose();
    for round in 1..=max_iter {
        let (centroids, norms) = normalised_sums(&by_term, labels, k);
        let moved: usize = labels
            .par_iter_mut()
            .enumerate()
            .map_init(
                || vec![0.0f64; k],
                |scores, (r, label)| {
                    // One pass over the row: each term adds its weight times the k centroid loadings,
                    // which sit together (term-major layout).
                    let (cols, values) = matrix.row(r);
                    super::sparse::accumulate_rows(scores, cols, values, &centroids, k);
                    // Leave the quote out of its own centroid: otherwise a quote's own weight pulls it
                    // to stay where it is.
                    let own = *label;
                    let self_dot: f64 = values.iter().map(|x| x * x).sum();
                    let dot_own = scores[own] * norms[own];
                    let rest = (norms[own] * norms[own] - 2.0 * dot_own + self_dot).max(0.0).sqrt();
                    scores[own] = if rest > 0.0 { (dot_own - self_dot) / rest } else { 0.0 };
                    let mut best = (*label, f64::NEG_INFINITY);
                    for (c, &score) in scores.iter().enumerate() {
                        if score > best.1 {
                            best = (c, score);
                        }
                    }
                    // An empty row scores 0 everywhere: it stays where it is.
                    let moves = best.1 > 0.0 && best.0 != *label;
                    if moves {
                        *label = best.0;
                    }
                    usize::from(moves)
                },
            )
            .sum();
        // Leaving each quote out of its own centroid lets a handful of borderline quotes flip back and
        // forth for ever: stop when fewer than one in a thousand move.
        if moved == 0 || moved * 1000 < matrix.n_rows() {
            return round;
        }
    }
    max_iter
}

/// Per cluster, the sum of its rows scaled to unit length, dense and term-major (`n_cols x k`: entry
/// `j * k + c`), from the matrix's transpose (`by_term`: one row per term, its quotes in order). Each
/// term's k sums are one task's, added in quote order: the result does not depend on the thread count,
/// and no task needs a private `n_cols x k` array (allocating and adding those was half of each round).
fn normalised_sums(by_term: &Csr<f64>, labels: &[usize], k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut sums = vec![0.0f64; k * by_term.n_rows()];
    sums.par_chunks_mut(k.max(1)).with_min_len(256).enumerate().for_each(|(term, loadings)| {
        let (rows, values) = by_term.row(term);
        for (&r, &x) in rows.iter().zip(values) {
            loadings[labels[r as usize]] += x;
        }
    });
    let mut norms = vec![0.0f64; k];
    for loadings in sums.chunks(k.max(1)) {
        norms.iter_mut().zip(loadings).for_each(|(n, x)| *n += x * x);
    }
    let scale: Vec<f64> = norms.iter().map(|n| if *n > 0.0 { 1.0 / n.sqrt() } else { 0.0 }).collect();
    for loadings in sums.chunks_mut(k.max(1)) {
        loadings.iter_mut().zip(&scale).for_each(|(x, s)| *x *= s);
    }
    (sums, norms.iter().map(|n| n.sqrt()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(rows: &[&[(u32, f64)]], n_cols: usize) -> Csr<f64> {
        let mut m = Csr { n_cols, indptr: vec![0], indices: Vec::new(), data: Vec::new() };
        for row in rows {
            let norm = row.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
            for &(j, x) in *row {
                m.indices.push(j);
                m.data.push(x / norm);
            }
            m.indptr.push(m.indices.len());
        }
        m
    }

    #[test]
    fn misplaced_rows_move_to_the_cluster_sharing_their_words() {
        // Words 0-1 belong to one topic, 2-3 to another; rows 2 and 5 start in the wrong cluster.
        let m = csr(
            &[
                &[(0, 1.0), (1, 1.0)],
                &[(0, 2.0), (1, 1.0)],
                &[(0, 1.0), (1, 2.0)],
                &[(2, 1.0), (3, 1.0)],
                &[(2, 1.0), (3, 2.0)],
                &[(2, 2.0), (3, 1.0)],
            ],
            4,
        );
        let mut labels = vec![0, 0, 1, 1, 1, 0];
        let rounds = spherical_refine(&m, &mut labels, 2, 10);
        assert_eq!(labels, [0, 0, 0, 1, 1, 1]);
        assert!(rounds >= 2, "a round to move, a round to see nothing moves");
    }

    #[test]
    fn a_fixed_point_stays_and_threads_do_not_matter() {
        let m = csr(&[&[(0, 1.0)], &[(0, 1.0), (1, 0.1)], &[(1, 1.0)], &[(1, 1.0), (2, 1.0)], &[]], 3);
        let mut one = vec![0, 0, 1, 1, 1];
        let mut two = one.clone();
        crate::parallel::with_threads(1, || spherical_refine(&m, &mut one, 2, 10));
        crate::parallel::with_threads(2, || spherical_refine(&m, &mut two, 2, 10));
        assert_eq!(one, two);
        assert_eq!(one, [0, 0, 1, 1, 1], "the empty last row stays put");
    }
}
