//! k-means (Lloyd) with greedy k-means++ seeding and seeded restarts, keeping the lowest inertia.
//!
//! Distances come from dot products (`|x - c|^2 = |x|^2 - 2 x.c + |c|^2`), each row's computed on its own
//! by the stage's dense kernel (`dense.rs`), in parallel over quotes; centroid sums run over fixed chunks
//! of quotes added in chunk order, then change by the rows that move, in row order; so labels and
//! centroids are the same for any thread count. Per-chunk sums are partial results that merge by
//! addition.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::REDUCE_ROWS;
use super::dense::dots_into;
use super::rng::Rng;

/// k-means settings. Defaults follow scikit-learn's `KMeans` where it has them.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct KMeansParams {
    /// Number of clusters.
    pub k: usize,
    /// Seeded restarts; the run with the lowest inertia wins (ties: the earlier run). Default: 4.
    pub n_init: usize,
    /// Iteration limit per run. Default: 300 (scikit-learn's).
    pub max_iter: usize,
    /// Stop when the centroids move less than this, relative to the data (scikit-learn's rule: the sum
    /// of squared centroid shifts below `tol` times the mean variance of the features). Default: 1e-4.
    pub tol: f64,
    /// Seed of the first restart; restart `r` uses stream `r`.
    pub seed: u64,
}

impl KMeansParams {
    /// Defaults for `k` clusters and a seed.
    pub fn new(k: usize, seed: u64) -> Self {
        KMeansParams { k, n_init: 4, max_iter: 300, tol: 1e-4, seed }
    }
}

/// A fitted clustering.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeans {
    /// Cluster of each row.
    pub labels: Vec<usize>,
    /// One centroid per row.
    pub centroids: Array2<f64>,
    /// Sum of squared distances of rows to their centroid.
    pub inertia: f64,
    /// Iterations of the winning run.
    pub n_iter: usize,
}

/// Clusters the rows of `x`: the run of lowest inertia among `params.n_init` seeded restarts.
pub fn kmeans(x: ArrayView2<f64>, params: &KMeansParams) -> KMeans {
    lowest_inertia(kmeans_runs(x, params))
}

/// The run of lowest inertia (the first on ties).
pub fn lowest_inertia(runs: Vec<KMeans>) -> KMeans {
    let best = (0..runs.len()).fold(0, |b, r| if runs[r].inertia < runs[b].inertia { r } else { b });
    runs.into_iter().nth(best).expect("at least one run")
}

/// Every seeded restart of k-means, in run order (for the stability of a k across restarts).
pub fn kmeans_runs(x: ArrayView2<f64>, params: &KMeansParams) -> Vec<KMeans> {
    assert!(params.k >= 1 && params.k <= x.nrows(), "1 <= k <= number of quotes");
    // Rows as plain slices for the dense kernel (a copy only if the caller's rows are not contiguous).
    let x = x.as_standard_layout();
    let x = x.view();
    let norms: Array1<f64> = x.rows().into_iter().map(|r| r.dot(&r)).collect();
    let n = x.nrows() as f64;
    let mean = x.sum_axis(Axis(0)) / n;
    let mean_variance = (norms.sum() / n - mean.dot(&mean)).max(0.0) / x.ncols().max(1) as f64;
    let tol = params.tol * mean_variance;
    // Restarts are independent and seeded by their number: run them side by side, collect in run order.
    (0..params.n_init.max(1))
        .into_par_iter()
        .map(|run| {
            let mut rng = Rng::new(params.seed, run as u64);
            let centroids = plus_plus(x, &norms, params.k, &mut rng);
            lloyd(x, &norms, centroids, params, tol)
        })
        .collect()
}

/// Greedy k-means++ (as scikit-learn): each new centre is the best of `2 + ln k` candidates drawn in
/// proportion to the squared distance to the nearest centre so far.
fn plus_plus(x: ArrayView2<f64>, norms: &Array1<f64>, k: usize, rng: &mut Rng) -> Array2<f64> {
    let n = x.nrows();
    let trials = 2 + (k as f64).ln() as usize;
    let mut centres = vec![rng.below(n)];
    let d = x.ncols();
    let rows = x.as_slice().expect("standard layout");
    let row = |i: usize| row_of(rows, d, i);
    // Each row's squared distance to every centre in `centres`, capped by `cap` (row-major, n x m).
    let distances = |centres: &[usize], cap: &[f64]| -> Vec<f64> {
        let m = centres.len();
        let packed: Vec<f64> = centres.iter().flat_map(|&c| row(c).iter().copied()).collect();
        let mut out = vec![0.0; n * m];
        out.par_chunks_mut(m).with_min_len(256).enumerate().for_each(|(i, out)| {
            dots_into(row(i), &packed, out);
            for (o, &c) in out.iter_mut().zip(centres) {
                *o = cap[i].min((norms[i] + norms[c] - 2.0 * *o).max(0.0));
            }
        });
        out
    };
    let mut closest = distances(&centres, &vec![f64::INFINITY; n]);
    while centres.len() < k {
        let total: f64 = closest.iter().sum();
        // Every candidate is drawn from the same distribution, so all are drawn first; then one pass over
        // the rows scores them all (each row read once, not once per candidate).
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                if total > 0.0 {
                    let target = rng.uniform() * total;
                    let mut acc = 0.0;
                    closest
                        .iter()
                        .position(|&d| {
                            acc += d;
                            acc > target
                        })
                        .unwrap_or(n - 1)
                } else {
                    rng.below(n)
                }
            })
            .collect();
        // Row-major `n x trials`: each row's distance to every candidate, capped by its current closest.
        let updated = distances(&candidates, &closest);
        let mut best: Option<(f64, usize)> = None;
        for t in 0..trials {
            let potential: f64 = (0..n).map(|i| updated[i * trials + t]).sum();
            if best.is_none_or(|b| potential < b.0) {
                best = Some((potential, t));
            }
        }
        let (_, t) = best.expect("at least one trial");
        centres.push(candidates[t]);
        closest = (0..n).map(|i| updated[i * trials + t]).collect();
    }
    let mut centroids = Array2::zeros((k, x.ncols()));
    for (c, &i) in centres.iter().enumerate() {
        centroids.row_mut(c).assign(&x.row(i));
    }
    centroids
}

/// Nearest centroid of every row, with the squared distance.
pub fn assign(x: ArrayView2<f64>, norms: &Array1<f64>, centroids: &Array2<f64>) -> Vec<(usize, f64)> {
    let centroid_norms: Vec<f64> = centroids.rows().into_iter().map(|c| c.dot(&c)).collect();
    let x = x.as_standard_layout();
    let products = products(x.view(), centroids); // n x k
    products
        .par_chunks(centroids.nrows())
        .enumerate()
        .map(|(i, row)| {
            let mut best = (0, f64::INFINITY);
            for (c, &p) in row.iter().enumerate() {
                let d = (norms[i] - 2.0 * p + centroid_norms[c]).max(0.0);
                if d < best.1 {
                    best = (c, d);
                }
            }
            best
        })
        .collect()
}

/// Lloyd's iterations with Hamerly's bounds (Hamerly 2010, "Making k-means even faster"): each row keeps
/// an upper bound on the distance to its centroid and a lower bound on the distance to any other; when
/// centroids move, the bounds move by the shifts, and a row whose upper bound stays below both its lower
/// bound and half the distance from its centroid to the nearest other one cannot change cluster, so its
/// distances are not computed. Same assignments as plain Lloyd (tested against it), far fewer distances
/// once clusters settle. Each row's update depends on that row alone, so threads do not matter.
fn lloyd(
    x: ArrayView2<f64>,
    norms: &Array1<f64>,
    mut centroids: Array2<f64>,
    params: &KMeansParams,
    tol: f64,
) -> KMeans {
    let k = params.k;
    let rows = x.as_slice().expect("standard layout");
    let row = |i: usize| row_of(rows, x.ncols(), i);
    // (label, upper bound, lower bound) per row; the first pass computes them exactly.
    let mut state: Vec<(usize, f64, f64)> = nearest_two(x, norms, &centroids);
    let mut n_iter = 0;
    let mut first = true;
    // Each cluster's sum of rows and size, kept from one iteration to the next: a pass over every row
    // when the labels start afresh, then only the rows that changed cluster, in row order (a pass over
    // all 11,293 x 100 values of 20 Newsgroups was a fifth of every iteration, for a few hundred moves).
    let mut totals = (Array2::<f64>::zeros((k, x.ncols())), vec![0usize; k]);
    for iter in 0..params.max_iter {
        n_iter = iter + 1;
        let fresh = first;
        // (row, former cluster) of every row that changed cluster, in row order.
        let mut moved: Vec<(usize, usize)> = Vec::new();
        let changed = if first {
            first = false;
            true
        } else {
            let centroid_norms: Vec<f64> = centroids.rows().into_iter().map(|c| c.dot(&c)).collect();
            let half_gap = half_gaps(&centroids, &centroid_norms);
            // Rows whose bounds hold keep their cluster; the others get their distance to their own
            // centroid, and if the bounds still fail, to every centroid.
            let scan: Vec<usize> = state
                .par_iter_mut()
                .enumerate()
                .filter_map(|(i, (label, upper, lower))| {
                    let bound = half_gap[*label].max(*lower);
                    if *upper <= bound {
                        return None;
                    }
                    let mut own = [0.0];
                    let centroid = row_of(centroids.as_slice().expect("standard layout"), centroids.ncols(), *label);
                    dots_into(row(i), centroid, &mut own);
                    let own = own[0];
                    *upper = (norms[i] + centroid_norms[*label] - 2.0 * own).max(0.0).sqrt();
                    (*upper > bound).then_some(i)
                })
                .collect();
            let flat = centroids.as_slice().expect("standard layout");
            let rescanned: Vec<(usize, f64, f64)> = scan
                .par_iter()
                .map_init(
                    || vec![0.0; k],
                    |products, &i| {
                        dots_into(row(i), flat, products);
                        nearest_of(norms[i], products.iter().copied(), &centroid_norms)
                    },
                )
                .collect();
            for (&i, new) in scan.iter().zip(rescanned) {
                if new.0 != state[i].0 {
                    moved.push((i, state[i].0));
                }
                state[i] = new;
            }
            !moved.is_empty()
        };
        if fresh {
            let labels: Vec<usize> = state.iter().map(|s| s.0).collect();
            totals = cluster_sums(x, &labels, k);
        } else {
            let (sums, counts) = &mut totals;
            let sums = sums.as_slice_mut().expect("standard layout");
            let d = x.ncols();
            for &(i, from) in &moved {
                let to = state[i].0;
                sums[from * d..(from + 1) * d].iter_mut().zip(row(i)).for_each(|(s, v)| *s -= v);
                sums[to * d..(to + 1) * d].iter_mut().zip(row(i)).for_each(|(s, v)| *s += v);
                counts[from] -= 1;
                counts[to] += 1;
            }
        }
        let (sums, counts) = &totals;
        let mut new = centroids.clone();
        let mut emptied = false;
        for (c, &count) in counts.iter().enumerate() {
            if count > 0 {
                new.row_mut(c).assign(&(&sums.row(c) / count as f64));
            } else {
                // An empty cluster takes the row farthest from its centroid (deterministic: lowest index),
                // by exact distances.
                let exact = assign(x, norms, &centroids);
                let far = exact
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.1.total_cmp(&b.1.1).then(b.0.cmp(&a.0)))
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                new.row_mut(c).assign(&x.row(far));
                emptied = true;
            }
        }
        let shifts: Vec<f64> = (0..k)
            .map(|c| new.row(c).iter().zip(centroids.row(c)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .collect();
        let shift: f64 = shifts.iter().sum();
        centroids = new;
        if !changed || shift <= tol {
            break;
        }
        if emptied {
            // A centroid jumped: start the bounds afresh.
            state = nearest_two(x, norms, &centroids);
            first = true;
            continue;
        }
        // Move the bounds by the shifts: the own centroid's for the upper bound, the largest other's for
        // the lower bound.
        let moves: Vec<f64> = shifts.iter().map(|s| s.sqrt()).collect();
        let (mut top, mut top_at, mut second) = (0.0f64, 0usize, 0.0f64);
        for (c, &m) in moves.iter().enumerate() {
            if m > top {
                (second, top, top_at) = (top, m, c);
            } else if m > second {
                second = m;
            }
        }
        state.par_iter_mut().for_each(|(label, upper, lower)| {
            *upper += moves[*label];
            *lower -= if *label == top_at { second } else { top };
        });
    }
    let assigned = assign(x, norms, &centroids);
    let labels = assigned.iter().map(|a| a.0).collect();
    let inertia = assigned.iter().map(|a| a.1).sum();
    KMeans { labels, centroids, inertia, n_iter }
}

/// The nearest centroid, its distance and the distance to the second nearest, from a row's squared norm,
/// its dot products with the centroids and their squared norms.
#[inline]
fn nearest_of(norm: f64, products: impl Iterator<Item = f64>, centroid_norms: &[f64]) -> (usize, f64, f64) {
    // Squared distances compared, and only the two kept get a square root (not one per centroid).
    let (mut best, mut d1, mut d2) = (0, f64::INFINITY, f64::INFINITY);
    for (c, p) in products.enumerate() {
        let d = (norm - 2.0 * p + centroid_norms[c]).max(0.0);
        if d < d1 {
            (d2, d1, best) = (d1, d, c);
        } else if d < d2 {
            d2 = d;
        }
    }
    (best, d1.sqrt(), d2.sqrt())
}

/// Each row's nearest centroid with its distance, and the distance to the second nearest (Euclidean).
fn nearest_two(x: ArrayView2<f64>, norms: &Array1<f64>, centroids: &Array2<f64>) -> Vec<(usize, f64, f64)> {
    let centroid_norms: Vec<f64> = centroids.rows().into_iter().map(|c| c.dot(&c)).collect();
    products(x, centroids)
        .par_chunks(centroids.nrows())
        .enumerate()
        .map(|(i, row)| nearest_of(norms[i], row.iter().copied(), &centroid_norms))
        .collect()
}

/// Dot products of every row with every centroid, row-major (`n x k`); each row's own, so the same for
/// any thread count.
fn products(x: ArrayView2<f64>, centroids: &Array2<f64>) -> Vec<f64> {
    let (d, k) = (x.ncols(), centroids.nrows());
    let rows = x.as_slice().expect("standard layout");
    let flat = centroids.as_slice().expect("standard layout");
    let mut out = vec![0.0; x.nrows() * k];
    out.par_chunks_mut(k.max(1)).with_min_len(64).enumerate().for_each(|(i, out)| {
        dots_into(row_of(rows, d, i), flat, out);
    });
    out
}

/// Row `i` of a row-major matrix `width` wide, given as one slice.
fn row_of(flat: &[f64], width: usize, i: usize) -> &[f64] {
    &flat[i * width..(i + 1) * width]
}

/// Half the distance from each centroid to its nearest other centroid.
fn half_gaps(centroids: &Array2<f64>, centroid_norms: &[f64]) -> Vec<f64> {
    let k = centroids.nrows();
    let products = centroids.dot(&centroids.t());
    (0..k)
        .map(|a| {
            (0..k)
                .filter(|&b| b != a)
                .map(|b| (centroid_norms[a] + centroid_norms[b] - 2.0 * products[[a, b]]).max(0.0).sqrt())
                .fold(f64::INFINITY, f64::min)
                * 0.5
        })
        .collect()
}

/// Sum of the rows of each cluster and its size, over fixed chunks added in order.
pub(crate) fn cluster_sums(x: ArrayView2<f64>, labels: &[usize], k: usize) -> (Array2<f64>, Vec<usize>) {
    let partials: Vec<(Array2<f64>, Vec<usize>)> = x
        .axis_chunks_iter(Axis(0), REDUCE_ROWS)
        .into_par_iter()
        .zip(labels.par_chunks(REDUCE_ROWS))
        .map(|(rows, labels)| {
            let d = x.ncols();
            let mut sums = Array2::zeros((k, d));
            let mut counts = vec![0usize; k];
            // Plain slices: ndarray's row-by-row add was a tenth of a `suggest` run on 20 Newsgroups.
            let sum = sums.as_slice_mut().expect("standard layout");
            for (row, &l) in rows.rows().into_iter().zip(labels) {
                let into = &mut sum[l * d..(l + 1) * d];
                match row.as_slice() {
                    Some(values) => into.iter_mut().zip(values).for_each(|(s, v)| *s += v),
                    None => into.iter_mut().zip(row.iter()).for_each(|(s, v)| *s += v),
                }
                counts[l] += 1;
            }
            (sums, counts)
        })
        .collect();
    partials.into_iter().fold((Array2::zeros((k, x.ncols())), vec![0; k]), |(s, c), (ps, pc)| {
        (s + ps, c.iter().zip(&pc).map(|(a, b)| a + b).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(n_per: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]];
        let mut rng = Rng::new(seed, 9);
        let mut x = Array2::zeros((n_per * centres.len(), 2));
        let mut truth = Vec::new();
        for (c, centre) in centres.iter().enumerate() {
            for i in 0..n_per {
                let r = c * n_per + i;
                x[[r, 0]] = centre[0] + rng.normal();
                x[[r, 1]] = centre[1] + rng.normal();
                truth.push(c);
            }
        }
        (x, truth)
    }

    #[test]
    fn recovers_separated_blobs() {
        let (x, truth) = blobs(50, 1);
        let fit = kmeans(x.view(), &KMeansParams::new(4, 7));
        // Same partition up to renaming: every true blob maps to one label.
        for c in 0..4 {
            let labels: std::collections::BTreeSet<usize> =
                truth.iter().zip(&fit.labels).filter(|(t, _)| **t == c).map(|(_, l)| *l).collect();
            assert_eq!(labels.len(), 1);
        }
        // Inertia is about n * dims * variance = 200 * 2 * 1.
        assert!(fit.inertia > 300.0 && fit.inertia < 500.0, "{}", fit.inertia);
    }

    /// linfa's KMeans is the oracle: on the same data and k, the two objectives must agree closely
    /// (different seeds can land in different local optima, so compare the best of several runs).
    #[test]
    fn inertia_agrees_with_linfa() {
        use linfa::prelude::*;
        let (x, _) = blobs(120, 5);
        for k in [2, 4, 6] {
            let ours = kmeans(x.view(), &KMeansParams { n_init: 8, ..KMeansParams::new(k, 11) });
            let dataset = linfa::DatasetBase::from(x.clone());
            let model = linfa_clustering::KMeans::params(k)
                .n_runs(8)
                .max_n_iterations(300)
                .tolerance(1e-4)
                .fit(&dataset)
                .unwrap();
            // linfa reports the mean squared distance; ours is the sum (scikit-learn's inertia).
            let theirs = model.inertia() * x.nrows() as f64;
            let relative = (ours.inertia - theirs).abs() / theirs;
            assert!(relative < 0.02, "k={k}: themata {} vs linfa {theirs}", ours.inertia);
        }
    }

    /// Plain Lloyd (every distance, every iteration): the reference for the bounded version.
    fn lloyd_plain(x: ArrayView2<f64>, params: &KMeansParams) -> KMeans {
        let norms: Array1<f64> = x.rows().into_iter().map(|r| r.dot(&r)).collect();
        let n = x.nrows() as f64;
        let mean = x.sum_axis(Axis(0)) / n;
        let tol = params.tol * (norms.sum() / n - mean.dot(&mean)).max(0.0) / x.ncols() as f64;
        let mut rng = Rng::new(params.seed, 0);
        let mut centroids = plus_plus(x, &norms, params.k, &mut rng);
        let mut labels = vec![usize::MAX; x.nrows()];
        for _ in 0..params.max_iter {
            let assigned = assign(x, &norms, &centroids);
            let changed = assigned.iter().zip(&labels).any(|(a, &l)| a.0 != l);
            labels = assigned.iter().map(|a| a.0).collect();
            let (sums, counts) = cluster_sums(x, &labels, params.k);
            let mut new = centroids.clone();
            for (c, &count) in counts.iter().enumerate() {
                if count > 0 {
                    new.row_mut(c).assign(&(&sums.row(c) / count as f64));
                }
            }
            let shift: f64 = (&new - &centroids).iter().map(|d| d * d).sum();
            centroids = new;
            if !changed || shift <= tol {
                break;
            }
        }
        let assigned = assign(x, &norms, &centroids);
        KMeans {
            labels: assigned.iter().map(|a| a.0).collect(),
            centroids,
            inertia: assigned.iter().map(|a| a.1).sum(),
            n_iter: 0,
        }
    }

    #[test]
    fn bounded_lloyd_equals_plain_lloyd() {
        let mut rng = Rng::new(3, 4);
        // Overlapping clusters in 8 dimensions, so that rows do move between clusters for a while.
        let x = Array2::from_shape_fn((900, 8), |(i, j)| (i % 6 == j % 6) as u8 as f64 * 1.5 + rng.normal());
        for (k, seed) in [(3, 1), (6, 2), (12, 3)] {
            let params = KMeansParams { n_init: 1, ..KMeansParams::new(k, seed) };
            let bounded = kmeans(x.view(), &params);
            let plain = lloyd_plain(x.view(), &params);
            assert_eq!(bounded.labels, plain.labels, "k={k}");
            assert!((bounded.inertia - plain.inertia).abs() < 1e-9 * plain.inertia, "k={k}");
            assert!(bounded.n_iter > 3, "k={k}: a real test needs several iterations ({})", bounded.n_iter);
        }
    }

    #[test]
    fn naive_objective_matches_and_threads_do_not_matter() {
        let (x, _) = blobs(300, 2);
        let params = KMeansParams::new(5, 3);
        let one = crate::parallel::with_threads(1, || kmeans(x.view(), &params));
        let two = crate::parallel::with_threads(2, || kmeans(x.view(), &params));
        assert_eq!(one, two);
        let naive: f64 = x
            .rows()
            .into_iter()
            .zip(&one.labels)
            .map(|(r, &l)| r.iter().zip(one.centroids.row(l)).map(|(a, b)| (a - b).powi(2)).sum::<f64>())
            .sum();
        assert!((naive - one.inertia).abs() < 1e-6 * naive);
        // Lloyd's fixed point: each row's label is its nearest centroid, by brute force.
        for (i, r) in x.rows().into_iter().enumerate() {
            let d = |c: usize| r.iter().zip(one.centroids.row(c)).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
            assert!((0..5).all(|c| d(one.labels[i]) <= d(c) + 1e-9));
        }
    }
}
