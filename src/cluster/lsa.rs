//! Latent semantic analysis: a seeded randomized truncated SVD of the sparse TF-IDF matrix (Halko,
//! Martinsson and Tropp 2011, as scikit-learn's `TruncatedSVD(algorithm="randomized")`), in pure Rust.
//!
//! Every reduction over quotes runs over fixed-size chunks summed in chunk order, so results are the
//! same for any thread count.

use ndarray::{Array2, Axis};
use rayon::prelude::*;

use super::REDUCE_ROWS;
use super::rng::Rng;
use super::sparse::{BLOCK, accumulate_rows};
use crate::vocab::Csr;

/// The LSA embedding of each quote, `U * Sigma` (as `TruncatedSVD.fit_transform`), and the singular values.
#[derive(Clone, Debug)]
pub struct Lsa {
    /// One row per quote, `n_components` columns.
    pub embedding: Array2<f64>,
    /// Singular values, largest first.
    pub singular_values: Vec<f64>,
}

/// Computes a rank-`n_components` LSA of `matrix` with `n_iter` power iterations (scikit-learn uses 5).
///
/// Subspace iteration on the quote side only: `Q <- orth(A (A^T Q))`, starting from `A` applied to
/// random signs; then the eigenproblem of `(A^T Q)^T (A^T Q)`: `2 n_iter + 2` sparse products in all,
/// as scikit-learn's randomized_svd. Only the `n_rows x l` basis is orthonormalised; the `n_cols x l`
/// products `A^T Q` are never orthonormalised nor stored beyond one step. With bigrams the vocabulary is
/// often 20 times the number of quotes, and orthonormalising that side (as scikit-learn does) was most
/// of the time. One Cholesky QR per application of `A A^T` keeps the basis well conditioned (its
/// condition grows by at most `(s_1 / s_l)^2` per step); the final basis gets a second pass.
pub fn lsa(matrix: &Csr<f64>, n_components: usize, n_iter: usize, seed: u64) -> Lsa {
    let (n_rows, n_cols) = (matrix.n_rows(), matrix.n_cols);
    let k = n_components.min(n_rows).min(n_cols).max(1);
    let l = (k + 10).min(n_rows).min(n_cols).max(k);
    // The products with A and A^T run in f32: they stream the dense factors once per non-zero and are
    // bound by memory, so half the bytes is about half the time. Each output element sums a few dozen
    // terms, far within f32's precision for an approximate range finder; everything else (the
    // orthonormalisation, the small eigenproblem, the embedding) stays in f64.
    let forward = to_f32(matrix);
    let transposed = forward.transpose();
    // Buffers reused by every application of A A^T.
    let mut basis = ColumnBlocks::zeros(n_rows, l);
    let mut side = ColumnBlocks::zeros(n_cols, l);
    let mut image = ColumnBlocks::zeros(n_rows, l);
    let rng = Rng::new(seed, 0x15A);
    // The range finder starts from A applied to random signs (Rademacher: as good as Gaussians here, and
    // one bit each), as scikit-learn's randomized_svd starts from A times a random matrix. Entry (r, c)
    // is draw r l + c + 1 of the stream, so the blocks can be drawn in parallel.
    side.fill(l, |r, c| if rng.nth_ahead((r * l + c + 1) as u64) >> 63 == 0 { 1.0 } else { -1.0 });
    sparse_times_dense_into(&forward, &side, &mut image);
    let mut q = cholesky_qr(image.to_f64(l));
    let mut apply_aat = |q: &Array2<f64>| {
        basis.assign(q);
        sparse_times_dense_into(&transposed, &basis, &mut side);
        sparse_times_dense_into(&forward, &side, &mut image);
        image.to_f64(l)
    };
    for _ in 0..n_iter {
        q = cholesky_qr(apply_aat(&q));
    }
    // A second pass on the final basis (CholeskyQR2): it is the one the embedding is made of.
    let q = cholesky_qr(q);
    // The small problem: B B^T = Q^T A A^T Q, l x l, as Q^T (A (A^T Q)): one more sparse product, then
    // a cross product over the quotes, cheaper than the Gram of A^T Q over the terms (often many more).
    let product = cross(&q, &apply_aat(&q));
    let gram = (&product + &product.t()) * 0.5; // symmetric against rounding
    let (values, vectors) = symmetric_eigen(gram);
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let order = &order[..k];
    let singular_values: Vec<f64> = order.iter().map(|&i| values[i].max(0.0).sqrt()).collect();
    // Embedding = Q W Sigma (one matrix product), with a sign convention: each component's largest
    // |loading| is positive.
    let w = vectors.select(Axis(1), order);
    let mut embedding = times_small(&q, &w);
    for (c, mut column) in embedding.axis_iter_mut(Axis(1)).enumerate() {
        let largest = column.iter().copied().fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        column.mapv_inplace(|x| sign * x * singular_values[c]);
    }
    Lsa { embedding, singular_values }
}

/// The matrix with its values rounded to f32.
fn to_f32(matrix: &Csr<f64>) -> Csr<f32> {
    Csr {
        n_cols: matrix.n_cols,
        indptr: matrix.indptr.clone(),
        indices: matrix.indices.clone(),
        data: matrix.data.iter().map(|&v| v as f32).collect(),
    }
}

/// `out = A X`, into a buffer of the right shape (reused across power iterations), one column block at
/// a time; each output row of a block depends on one input row only.
fn sparse_times_dense_into(a: &Csr<f32>, x: &ColumnBlocks, out: &mut ColumnBlocks) {
    let out_block_len = out.block_len();
    for (x_block, out_block) in x.data.chunks(x.block_len()).zip(out.data.chunks_mut(out_block_len)) {
        out_block.par_chunks_mut(BLOCK).with_min_len(64).enumerate().for_each(|(r, row)| {
            let (cols, values) = a.row(r);
            accumulate_rows(row, cols, values, x_block, BLOCK);
        });
    }
}

/// A dense `f32` matrix stored as blocks of [`BLOCK`] columns (the last one padded with zeros), each
/// block row-major and contiguous. The sparse products read one row of the dense factor per non-zero,
/// at random: with all 110 columns side by side those reads came from L3 cache (a 30,000-term factor
/// is 13 MB); one block at a time they read one cache line each from a block a seventh of that size
/// (2 MB for 30,000 terms; 0.7 MB, within L2, for 11,000 quotes).
/// Each output value is the same sum in the same order as with whole rows, so the same bits; measured on
/// 20 Newsgroups (11,293 x 30,555, 938 thousand non-zeros, one thread): LSA 1.05 -> 0.77 s.
struct ColumnBlocks {
    n_rows: usize,
    data: Vec<f32>,
}

impl ColumnBlocks {
    fn zeros(n_rows: usize, n_cols: usize) -> Self {
        ColumnBlocks { n_rows, data: vec![0.0; n_cols.div_ceil(BLOCK) * n_rows * BLOCK] }
    }

    fn block_len(&self) -> usize {
        self.n_rows * BLOCK
    }

    fn at(&self, r: usize, c: usize) -> usize {
        (c / BLOCK) * self.block_len() + r * BLOCK + c % BLOCK
    }

    /// Sets entry (r, c) of the first `n_cols` columns to `value(r, c)`, block by block in parallel.
    fn fill(&mut self, n_cols: usize, value: impl Fn(usize, usize) -> f32 + Sync) {
        let block_len = self.block_len();
        self.data.par_chunks_mut(block_len).enumerate().for_each(|(b, block)| {
            let first = b * BLOCK;
            let width = n_cols.saturating_sub(first).min(BLOCK);
            for (r, row) in block.chunks_exact_mut(BLOCK).enumerate() {
                for (j, out) in row[..width].iter_mut().enumerate() {
                    *out = value(r, first + j);
                }
            }
        });
    }

    /// Copies `q` (rounded to `f32`) into the first `q.ncols()` columns.
    fn assign(&mut self, q: &Array2<f64>) {
        debug_assert_eq!(q.nrows(), self.n_rows);
        self.fill(q.ncols(), |r, c| q[[r, c]] as f32);
    }

    /// The first `n_cols` columns as an `f64` array, row by row in parallel.
    fn to_f64(&self, n_cols: usize) -> Array2<f64> {
        let mut out = Array2::zeros((self.n_rows, n_cols));
        out.axis_iter_mut(Axis(0)).into_par_iter().enumerate().for_each(|(r, mut row)| {
            for (c, x) in row.iter_mut().enumerate() {
                *x = f64::from(self.data[self.at(r, c)]);
            }
        });
        out
    }
}

/// `X^T X`, summed over fixed chunks of rows in order.
pub(crate) fn gram(x: &Array2<f64>) -> Array2<f64> {
    cross(x, x)
}

/// `X^T Y` for matrices with the same rows, summed over fixed chunks of rows in order.
fn cross(x: &Array2<f64>, y: &Array2<f64>) -> Array2<f64> {
    let partials: Vec<Array2<f64>> = x
        .axis_chunks_iter(Axis(0), REDUCE_ROWS)
        .into_par_iter()
        .zip(y.axis_chunks_iter(Axis(0), REDUCE_ROWS).into_par_iter())
        .map(|(a, b)| a.t().dot(&b))
        .collect();
    partials.into_iter().fold(Array2::zeros((x.ncols(), y.ncols())), |acc, p| acc + p)
}

/// One pass of Cholesky QR: `Y L^-T` with `Y^T Y = L L^T`, made of matrix products, so fast on the tall
/// matrices here. Its columns are orthonormal up to `cond(Y)^2` times the rounding error: enough to keep
/// a power iteration's basis well conditioned; two passes (CholeskyQR2) are as accurate as Householder
/// QR for the well-conditioned bases of a randomized SVD.
fn cholesky_qr(y: Array2<f64>) -> Array2<f64> {
    let l_inv_t = inverse_lower(&cholesky(&gram(&y))).reversed_axes();
    times_small(&y, &l_inv_t)
}

/// `Y M` for a tall `Y` and a small `M`, by blocks of rows in parallel (each row on its own: the same
/// bits for any thread count).
fn times_small(y: &Array2<f64>, m: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((y.nrows(), m.ncols()));
    out.axis_chunks_iter_mut(Axis(0), REDUCE_ROWS)
        .into_par_iter()
        .zip(y.axis_chunks_iter(Axis(0), REDUCE_ROWS).into_par_iter())
        .for_each(|(mut block, rows)| block.assign(&rows.dot(m)));
    out
}

/// Lower Cholesky factor of a symmetric positive semi-definite matrix; a tiny ridge keeps it defined when
/// the matrix is singular (a column dependent on others then comes out near zero, harmlessly).
fn cholesky(g: &Array2<f64>) -> Array2<f64> {
    let n = g.nrows();
    let trace: f64 = (0..n).map(|i| g[[i, i]]).sum();
    let ridge = 1e-12 * trace.max(f64::MIN_POSITIVE) / n as f64;
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut d = g[[j, j]] + ridge;
        for k in 0..j {
            d -= l[[j, k]] * l[[j, k]];
        }
        let d = d.max(ridge).sqrt();
        l[[j, j]] = d;
        for i in j + 1..n {
            let mut v = g[[i, j]];
            for k in 0..j {
                v -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = v / d;
        }
    }
    l
}

/// Inverse of a lower triangular matrix (forward substitution, column by column).
fn inverse_lower(l: &Array2<f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut inv = Array2::<f64>::zeros((n, n));
    for c in 0..n {
        inv[[c, c]] = 1.0 / l[[c, c]];
        for i in c + 1..n {
            let mut v = 0.0;
            for k in c..i {
                v -= l[[i, k]] * inv[[k, c]];
            }
            inv[[i, c]] = v / l[[i, i]];
        }
    }
    inv
}

/// Eigenvalues and eigenvectors (as columns) of a small symmetric matrix, by cyclic Jacobi rotations.
///
/// On flat row-major arrays, with the eigenvectors kept transposed so that each rotation of them runs
/// along contiguous memory: the same arithmetic in the same order as textbook indexing, about twice as
/// fast as ndarray's checked two-dimensional indexing at the sizes of LSA (110 x 110: 47 -> 18-24 ms).
pub(crate) fn symmetric_eigen(a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut a: Vec<f64> = a.iter().copied().collect(); // row-major
    let mut vt = vec![0.0; n * n]; // vt[p * n + k] = V[k, p]
    for i in 0..n {
        vt[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
        if off <= 1e-24 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < f64::MIN_POSITIVE {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.chunks_exact_mut(n) {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                rotate_rows(&mut a, n, p, q, c, s);
                rotate_rows(&mut vt, n, p, q, c, s);
            }
        }
    }
    let values = (0..n).map(|i| a[i * n + i]).collect();
    let v = Array2::from_shape_vec((n, n), vt).expect("n x n").reversed_axes();
    (values, v.as_standard_layout().into_owned())
}

/// Rows `p < q` of a flat `n`-wide matrix become `c p - s q` and `s p + c q`.
fn rotate_rows(m: &mut [f64], n: usize, p: usize, q: usize, c: f64, s: f64) {
    let (head, tail) = m.split_at_mut(q * n);
    let (row_p, row_q) = (&mut head[p * n..(p + 1) * n], &mut tail[..n]);
    for (x, y) in row_p.iter_mut().zip(row_q.iter_mut()) {
        let (xp, xq) = (*x, *y);
        *x = c * xp - s * xq;
        *y = s * xp + c * xq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(dense: &[&[f64]]) -> Csr<f64> {
        let mut indptr = vec![0];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for row in dense {
            for (c, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    indices.push(c as u32);
                    data.push(v);
                }
            }
            indptr.push(indices.len());
        }
        Csr { n_cols: dense[0].len(), indptr, indices, data }
    }

    /// The column-block product gives the bits of a plain loop over whole rows (the same sums in the same
    /// order), for a width that leaves the last block padded; the blocks give back what they were given.
    #[test]
    fn column_block_product_equals_a_plain_product() {
        let mut rng = Rng::new(11, 4);
        let (n_rows, n_cols, width) = (37, 23, BLOCK + 5);
        let mut uniform = || (rng.next_u64() >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
        let dense: Vec<Vec<f64>> =
            (0..n_rows).map(|_| (0..n_cols).map(|_| if uniform() > 0.2 { uniform() } else { 0.0 }).collect()).collect();
        let rows: Vec<&[f64]> = dense.iter().map(Vec::as_slice).collect();
        let a = to_f32(&csr(&rows));
        let x = Array2::from_shape_fn((n_cols, width), |_| f64::from(uniform() as f32));
        let mut blocks = ColumnBlocks::zeros(n_cols, width);
        blocks.assign(&x);
        assert_eq!(blocks.to_f64(width), x, "f32 values come back unchanged");
        let mut out = ColumnBlocks::zeros(n_rows, width);
        sparse_times_dense_into(&a, &blocks, &mut out);
        let product = out.to_f64(width);
        for r in 0..n_rows {
            let (cols, values) = a.row(r);
            for c in 0..width {
                let mut plain = 0.0f32;
                for (&j, &v) in cols.iter().zip(values) {
                    plain += v * x[[j as usize, c]] as f32;
                }
                assert_eq!(product[[r, c]].to_bits(), f64::from(plain).to_bits(), "row {r}, column {c}");
            }
        }
        assert!(product.iter().any(|&v| v != 0.0), "a real product");
    }

    #[test]
    fn jacobi_finds_known_eigenvalues() {
        let a = ndarray::arr2(&[[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 5.0]]);
        let (mut values, vectors) = symmetric_eigen(a.clone());
        for (i, &lambda) in values.iter().enumerate() {
            let v = vectors.column(i);
            let av = a.dot(&v);
            for k in 0..3 {
                assert!((av[k] - lambda * v[k]).abs() < 1e-10);
            }
        }
        values.sort_by(f64::total_cmp);
        assert!((values[0] - 1.0).abs() < 1e-10 && (values[1] - 3.0).abs() < 1e-10 && (values[2] - 5.0).abs() < 1e-10);
    }

    #[test]
    fn singular_values_of_a_small_matrix_are_exact() {
        // Block-diagonal: singular values are those of the blocks, 3 (from [[3]]) and 2 and 1 (diag).
        let m = csr(&[&[3.0, 0.0, 0.0, 0.0], &[0.0, 2.0, 0.0, 0.0], &[0.0, 0.0, 1.0, 0.0], &[0.0, 0.0, 0.0, 0.5]]);
        let result = lsa(&m, 3, 5, 1);
        let expected = [3.0, 2.0, 1.0];
        // The sparse products run in f32: about 7 significant digits.
        for (got, want) in result.singular_values.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6 * want, "{:?}", result.singular_values);
        }
        // U * Sigma reproduces A V: the norm of each row's embedding is the row's norm in the top space.
        assert!((result.embedding.row(0).iter().map(|x| x * x).sum::<f64>().sqrt() - 3.0).abs() < 3e-6);
    }

    #[test]
    fn agrees_with_an_exact_svd_when_the_basis_spans_every_column() {
        // 150 x 30 sparse, k = 20: l = k + 10 = 30 columns span the whole row space, so the randomized
        // SVD must equal the exact one (eigenvectors of the dense A^T A, in f64) up to f32 rounding.
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        let rows: Vec<Vec<f64>> =
            (0..150).map(|_| (0..30).map(|_| if next() < 0.2 { next() + 0.1 } else { 0.0 }).collect()).collect();
        let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let m = csr(&refs);
        let ours = lsa(&m, 20, 5, 11);

        let dense = Array2::from_shape_fn((150, 30), |(i, j)| rows[i][j]);
        let (values, vectors) = symmetric_eigen(dense.t().dot(&dense));
        let mut order: Vec<usize> = (0..30).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let top = ours.singular_values[0];
        for (c, &i) in order[..20].iter().enumerate() {
            let exact = values[i].sqrt();
            assert!(
                (ours.singular_values[c] - exact).abs() < 1e-5 * top,
                "component {c}: {} vs {exact}",
                ours.singular_values[c]
            );
            // The embedding column is A v up to sign.
            let column = dense.dot(&vectors.column(i));
            let sign = if column.dot(&ours.embedding.column(c)) < 0.0 { -1.0 } else { 1.0 };
            for (a, b) in ours.embedding.column(c).iter().zip(&column) {
                assert!((a - sign * b).abs() < 1e-4 * top, "component {c}: {a} vs {}", sign * b);
            }
        }
    }

    #[test]
    fn same_embedding_for_any_thread_count() {
        let rows: Vec<Vec<f64>> = (0..300)
            .map(|i| (0..40).map(|j| if (i * 7 + j * 3) % 11 < 3 { ((i + j) % 5) as f64 } else { 0.0 }).collect())
            .collect();
        let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let m = csr(&refs);
        let one = crate::parallel::with_threads(1, || lsa(&m, 10, 5, 3));
        let two = crate::parallel::with_threads(2, || lsa(&m, 10, 5, 3));
        assert_eq!(one.embedding, two.embedding);
        assert_eq!(one.singular_values, two.singular_values);
    }
}
