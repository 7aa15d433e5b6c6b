//! The `cluster` stage: LSA of the TF-IDF matrix, L2-normalised, then k-means.
//!
//! - [`lsa`]: seeded randomized truncated SVD (pure Rust), `U * Sigma` as the quote embedding.
//! - [`kmeans`]: greedy k-means++ and Lloyd iterations with seeded restarts.
//! - `k` is given, or chosen over a range by the highest mean silhouette (Euclidean distance between the
//!   unit-length embeddings, on a seeded sample of at most [`SILHOUETTE_SAMPLE`] quotes) times the
//!   squared stability of the k-means restarts (mean pairwise adjusted Rand index); silhouette alone keeps rising
//!   with k on text, stability falls once k splits real groups. When no k reaches a stability of
//!   [`STABLE`], the most stable k is kept instead (scores of unstable ks differ by noise) and a warning
//!   says the number of themes is the analyst's choice. The table of every k tried is kept for the report.

mod dense;
pub mod kmeans;
pub mod lsa;
pub mod refine;
pub mod rng;
mod sparse;

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

pub use kmeans::{KMeans, KMeansParams, kmeans, kmeans_runs};
pub use lsa::{Lsa, lsa};
use rng::Rng;

use crate::progress::Progress;
use crate::vocab::Csr;

/// Rows per chunk in every floating-point reduction of the stage: fixed, so that sums never depend on
/// the thread count.
pub(crate) const REDUCE_ROWS: usize = 2048;

/// Quotes sampled to compute a silhouette (the full computation is quadratic).
pub const SILHOUETTE_SAMPLE: usize = 2000;

/// How many clusters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KChoice {
    /// Exactly this many.
    Fixed(usize),
    /// The k in `min..=max` with the highest silhouette times restart stability ([`KScore::score`]).
    Auto {
        /// Smallest k tried.
        min: usize,
        /// Largest k tried.
        max: usize,
    },
}

/// Settings of the cluster stage.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ClusterParams {
    /// LSA dimensions. Default: 100 (capped by the number of quotes and terms).
    pub n_components: usize,
    /// Power iterations of the randomized SVD. Default: 3 (scikit-learn's `TruncatedSVD` makes 5; on
    /// 20 Newsgroups, BBC News and the shipped corpus 3 cluster as well, within the NMI's spread across
    /// seeds, and make the LSA about a third faster: see the README).
    pub n_iter: usize,
    /// Number of clusters. Default: `Auto { min: 4, max: 20 }`.
    pub k: KChoice,
    /// k-means restarts. Default: 4.
    pub n_init: usize,
    /// The seed of every random choice. Default: 42.
    pub seed: u64,
    /// Rounds of spherical k-means in the full TF-IDF space after the LSA clustering (0: none); see
    /// [`refine`]. Default: 10 (it stops earlier once fewer than one quote in a thousand moves).
    pub refine_rounds: usize,
}

impl Default for ClusterParams {
    fn default() -> Self {
        ClusterParams {
            n_components: 100,
            n_iter: 3,
            k: KChoice::Auto { min: 4, max: 20 },
            n_init: 4,
            seed: 42,
            refine_rounds: 10,
        }
    }
}

/// One row of the table that chose k.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct KScore {
    /// Clusters.
    pub k: usize,
    /// Mean silhouette (higher is better, in [-1, 1]).
    pub silhouette: f64,
    /// Mean adjusted Rand index between the k-means restarts (1: every restart finds the same clusters;
    /// 1 when there is a single restart).
    pub stability: f64,
    /// `silhouette * max(stability, 0)^2`: what `--k auto` maximises.
    pub score: f64,
    /// k-means inertia.
    pub inertia: f64,
}

/// Restart stability below which no k is trusted: most pairs of restarts then disagree.
pub const STABLE: f64 = 0.5;

/// The row of the k table to keep: the highest score, or, when no k is stable, the most stable k (the
/// scores of unstable ks differ by noise; the most stable is the one the warning names). Ties go to the
/// smaller k.
pub fn chosen_k_row(k_table: &[KScore]) -> usize {
    let most_stable =
        (0..k_table.len()).fold(0, |b, i| if k_table[i].stability > k_table[b].stability { i } else { b });
    if k_table.len() > 1 && k_table[most_stable].stability < STABLE {
        return most_stable;
    }
    (0..k_table.len()).fold(0, |b, i| if k_table[i].score > k_table[b].score { i } else { b })
}

/// A warning when no k of an automatic choice is stable (`None` for a single k or when one is stable).
pub fn k_warning(k_table: &[KScore]) -> Option<String> {
    let best = k_table.get(chosen_k_row(k_table))?;
    (k_table.len() > 1 && best.stability < STABLE).then(|| {
        format!(
            "no k in the range is stable (the most stable, k = {}, kept, has stability {:.2}; {STABLE} or more is \
             stable): the quotes have little cluster structure in their words, so the number of themes is a choice \
             to make (--k N), not a finding",
            best.k, best.stability
        )
    })
}

/// The result of the cluster stage.
#[derive(Clone, Debug)]
pub struct Clustering {
    /// Unit-length LSA embedding of each quote.
    pub embedding: Array2<f64>,
    /// LSA singular values.
    pub singular_values: Vec<f64>,
    /// The chosen clustering.
    pub kmeans: KMeans,
    /// Every k tried, with its scores (one row when k was given).
    pub k_table: Vec<KScore>,
}

impl ClusterParams {
    /// Reduces, normalises and clusters the rows of `matrix`.
    pub fn fit(&self, matrix: &Csr<f64>) -> Clustering {
        self.fit_with_progress(matrix, &crate::progress::Silent)
    }

    /// [`ClusterParams::fit`], reporting progress (LSA, then one step per k tried).
    pub fn fit_with_progress(&self, matrix: &Csr<f64>, progress: &dyn Progress) -> Clustering {
        progress.start("LSA", None);
        let Lsa { mut embedding, singular_values } = lsa(matrix, self.n_components, self.n_iter, self.seed);
        normalise_rows(&mut embedding);
        progress.finish(&format!(
            "LSA: {} x {} TF-IDF matrix reduced to {} dimensions",
            matrix.n_rows(),
            matrix.n_cols,
            singular_values.len()
        ));
        let n = embedding.nrows();
        let ks: Vec<usize> = match self.k {
            KChoice::Fixed(k) => vec![k.clamp(1, n.max(1))],
            KChoice::Auto { min, max } => (min.max(2)..=max.min(n.saturating_sub(1)).max(min.max(2))).collect(),
        };
        let sample = sample_rows(n, SILHOUETTE_SAMPLE, self.seed);
        let mut k_table = Vec::new();
        let mut fits = Vec::new();
        progress.start("k-means", Some(ks.len() as u64));
        for &k in &ks {
            let runs = kmeans_runs(
                embedding.view(),
                &KMeansParams { k, n_init: self.n_init, ..KMeansParams::new(k, self.seed) },
            );
            let stability = restart_agreement(&runs);
            let fit = kmeans::lowest_inertia(runs);
            let sil = silhouette(embedding.view(), &fit.labels, &sample);
            // Stability counts twice: silhouette alone keeps rising with k on text (measured on BBC News
            // and 20 Newsgroups: silhouette x stability picked 6 and 28 for 5 and 20 labels; squared, 5 and 21).
            let score = sil * stability.max(0.0).powi(2);
            k_table.push(KScore { k, silhouette: sil, stability, score, inertia: fit.inertia });
            fits.push(fit);
            progress.advance(1);
        }
        let mut kmeans = fits.swap_remove(chosen_k_row(&k_table));
        progress.finish(&format!(
            "k-means: k = {} ({} value{} tried, {} restarts each)",
            kmeans.centroids.nrows(),
            ks.len(),
            if ks.len() == 1 { "" } else { "s" },
            self.n_init
        ));
        if self.refine_rounds > 0 {
            progress.start("refine", None);
            let before = kmeans.labels.clone();
            let k = kmeans.centroids.nrows();
            let rounds = refine::spherical_refine(matrix, &mut kmeans.labels, k, self.refine_rounds);
            let moved = before.iter().zip(&kmeans.labels).filter(|(a, b)| a != b).count();
            // Centroids and inertia in the LSA space follow the refined clusters (an emptied cluster keeps
            // its centroid; nothing is assigned to it).
            let (sums, counts) = kmeans::cluster_sums(embedding.view(), &kmeans.labels, k);
            for (c, &count) in counts.iter().enumerate() {
                if count > 0 {
                    kmeans.centroids.row_mut(c).assign(&(&sums.row(c) / count as f64));
                }
            }
            kmeans.inertia = embedding
                .rows()
                .into_iter()
                .zip(&kmeans.labels)
                .map(|(row, &l)| row.iter().zip(kmeans.centroids.row(l)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
                .sum();
            progress.finish(&format!(
                "refine: {moved} quotes moved in {rounds} round{} of spherical k-means on the TF-IDF rows",
                if rounds == 1 { "" } else { "s" }
            ));
        }
        Clustering { embedding, singular_values, kmeans, k_table }
    }

    /// k-means on an embedding with this stage's settings and a given seed.
    pub fn kmeans_for(&self, embedding: &Array2<f64>, k: usize, seed: u64) -> KMeans {
        kmeans(embedding.view(), &KMeansParams { k, n_init: self.n_init, ..KMeansParams::new(k, seed) })
    }
}

/// Mean adjusted Rand index over every pair of k-means restarts; 1 for a single restart. A k whose
/// restarts disagree has no structure the data insists on.
fn restart_agreement(runs: &[KMeans]) -> f64 {
    use crate::evaluate::metrics::{Contingency, adjusted_rand_index};
    let labels: Vec<Vec<u32>> = runs.iter().map(|r| r.labels.iter().map(|&l| l as u32).collect()).collect();
    let mut total = 0.0;
    let mut pairs = 0;
    for a in 0..labels.len() {
        for b in a + 1..labels.len() {
            total += adjusted_rand_index(&Contingency::new(&labels[a], &labels[b]));
            pairs += 1;
        }
    }
    if pairs == 0 { 1.0 } else { total / pairs as f64 }
}

/// Scales each row to unit length (zero rows stay zero).
pub fn normalise_rows(x: &mut Array2<f64>) {
    x.axis_iter_mut(Axis(0)).into_par_iter().for_each(|mut row| {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    });
}

/// A seeded sample of at most `max` row indices, sorted (all rows when there are few).
pub fn sample_rows(n: usize, max: usize, seed: u64) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut rng = Rng::new(seed, 0x51);
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..max {
        let j = i + rng.below(n - i);
        all.swap(i, j);
    }
    let mut sample = all[..max].to_vec();
    sample.sort_unstable();
    sample
}

/// Mean silhouette of the rows in `sample` (Euclidean distance), as scikit-learn's `silhouette_score`:
/// `s = (b - a) / max(a, b)` with `a` the mean distance to the rest of the row's cluster and `b` the
/// smallest mean distance to another cluster; rows alone in their cluster score 0.
///
/// Distances come from one matrix product, `|x|^2 + |y|^2 - 2 x.y` (as scikit-learn's
/// `euclidean_distances`), in blocks of rows so memory stays at a block times the sample.
pub fn silhouette(x: ArrayView2<f64>, labels: &[usize], sample: &[usize]) -> f64 {
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    if k < 2 || sample.len() < 2 {
        return 0.0;
    }
    let points = x.select(Axis(0), sample);
    let norms: Vec<f64> = points.rows().into_iter().map(|r| r.dot(&r)).collect();
    const BLOCK: usize = 256;
    let blocks: Vec<usize> = (0..sample.len()).step_by(BLOCK).collect();
    let scores: Vec<f64> = blocks
        .par_iter()
        .flat_map_iter(|&start| {
            let end = (start + BLOCK).min(sample.len());
            let products = points.slice(ndarray::s![start..end, ..]).dot(&points.t());
            (start..end)
                .map(|i| {
                    let mut sums = vec![0.0f64; k];
                    let mut counts = vec![0usize; k];
                    for (j, &row) in sample.iter().enumerate() {
                        if j == i {
                            continue;
                        }
                        let squared = norms[i] + norms[j] - 2.0 * products[[i - start, j]];
                        sums[labels[row]] += squared.max(0.0).sqrt();
                        counts[labels[row]] += 1;
                    }
                    silhouette_of(labels[sample[i]], &sums, &counts)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    scores.iter().sum::<f64>() / scores.len() as f64
}

/// One row's silhouette from its summed distances to each cluster.
fn silhouette_of(own: usize, sums: &[f64], counts: &[usize]) -> f64 {
    if counts[own] == 0 {
        return 0.0;
    }
    let a = sums[own] / counts[own] as f64;
    let b = (0..sums.len())
        .filter(|&c| c != own && counts[c] > 0)
        .map(|c| sums[c] / counts[c] as f64)
        .fold(f64::INFINITY, f64::min);
    if !b.is_finite() {
        return 0.0;
    }
    (b - a) / a.max(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, distance by distance: the reference for the matrix-product version.
    fn naive_silhouette(x: ArrayView2<f64>, labels: &[usize], sample: &[usize]) -> f64 {
        let k = labels.iter().copied().max().map_or(0, |m| m + 1);
        let scores: Vec<f64> = sample
            .iter()
            .map(|&i| {
                let mut sums = vec![0.0f64; k];
                let mut counts = vec![0usize; k];
                for &j in sample.iter().filter(|&&j| j != i) {
                    sums[labels[j]] += x.row(i).iter().zip(x.row(j)).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
                    counts[labels[j]] += 1;
                }
                silhouette_of(labels[i], &sums, &counts)
            })
            .collect();
        scores.iter().sum::<f64>() / scores.len() as f64
    }

    #[test]
    fn silhouette_equals_the_naive_definition() {
        let mut rng = Rng::new(5, 1);
        let x = Array2::from_shape_fn((700, 6), |_| rng.below(1000) as f64 / 100.0);
        let labels: Vec<usize> = (0..700).map(|i| (i * 7 + i / 13) % 5).collect();
        let sample: Vec<usize> = (0..700).step_by(2).collect();
        let fast = silhouette(x.view(), &labels, &sample);
        let naive = naive_silhouette(x.view(), &labels, &sample);
        assert!((fast - naive).abs() < 1e-9, "{fast} vs {naive}");
    }

    #[test]
    fn silhouette_matches_sklearn_fixture() {
        let x = ndarray::arr2(&[[0.0, 0.0], [0.0, 1.0], [4.0, 4.0], [4.0, 5.0], [9.0, 0.0]]);
        let s = silhouette(x.view(), &[0, 0, 1, 1, 1], &[0, 1, 2, 3, 4]);
        assert!((s - 0.519033).abs() < 1e-6, "{s}");
    }
}
