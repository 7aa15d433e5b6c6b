//! The `themes` stage: turns clusters into candidate themes an analyst can read and check.
//!
//! For each cluster (themes are numbered by size, largest first):
//! - **label terms** by class-based TF-IDF (c-TF-IDF, as BERTopic): for term `t` and theme `c`,
//!   `w(t, c) = tf(t, c) / sum_t' tf(t', c) * ln(1 + A / f(t))`, where `tf(t, c)` is the count of `t` in
//!   the theme's quotes, `A` the mean number of terms per theme and `f(t)` the count of `t` in all
//!   quotes. Words (stems shown as their most frequent surface form) and phrases (n-grams) are ranked
//!   apart; the short label joins the top three words;
//! - **size** and **cohesion**: the mean cosine of the theme's quotes to its centroid (LSA space);
//! - **representative quotes**: closest to the centroid, at most one per study until every supporting
//!   study has one;
//! - **study support**: studies, the largest study's share, and warnings when one study gives more than
//!   half of the quotes or fewer than 3 studies support the theme;
//! - **stability**: the mean Jaccard overlap of the theme with its best match over reseeded k-means runs,
//!   and over leave-one-study-out runs (the theme without that study's quotes against a clustering of
//!   the other quotes).

use std::collections::BTreeMap;

use ndarray::{Array2, Axis};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::cluster::{ClusterParams, KMeans};
use crate::progress::Progress;
use crate::tokenize::{Scratch, Tokenizer, TokenizerParams};
use crate::vocab::{Csr, Vocabulary};

/// Settings of the themes stage.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ThemeParams {
    /// Representative quotes per theme. Default: 5.
    pub n_quotes: usize,
    /// Label words and phrases per theme. Default: 10.
    pub n_terms: usize,
    /// Reseeded k-means runs for stability. Default: 10.
    pub stability_runs: usize,
    /// Also measure leave-one-study-out stability (one k-means run per study). Default: true.
    pub leave_one_study_out: bool,
}

impl Default for ThemeParams {
    fn default() -> Self {
        ThemeParams { n_quotes: 5, n_terms: 10, stability_runs: 10, leave_one_study_out: true }
    }
}

/// A weighted label term.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LabelTerm {
    /// The term as shown (most frequent surface form of a stem).
    pub term: String,
    /// The term as counted (stem or n-gram of stems).
    pub key: String,
    /// c-TF-IDF weight.
    pub weight: f64,
    /// Quotes of the theme that contain it.
    pub quotes: usize,
}

/// A quote chosen to represent a theme.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RepresentativeQuote {
    /// The quote's id.
    pub id: String,
    /// Its study.
    pub study: Option<String>,
    /// Cosine to the theme's centroid.
    pub score: f64,
    /// The quote.
    pub text: String,
}

/// A candidate theme.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Theme {
    /// 1-based number, by size.
    pub id: usize,
    /// Short label: the top three words.
    pub label: String,
    /// Top words by c-TF-IDF.
    pub words: Vec<LabelTerm>,
    /// Top phrases (n-grams) by c-TF-IDF.
    pub phrases: Vec<LabelTerm>,
    /// Quotes in the theme.
    pub size: usize,
    /// Mean cosine of its quotes to its centroid.
    pub cohesion: f64,
    /// Representative quotes.
    pub quotes: Vec<RepresentativeQuote>,
    /// Number of supporting studies.
    pub n_studies: usize,
    /// Quotes per study, most first (ties by study).
    pub studies: Vec<(String, usize)>,
    /// Share of the theme's quotes from its largest study.
    pub largest_study_share: f64,
    /// Mean best-match Jaccard over reseeded runs, when measured (`--stability-runs` above 0).
    pub stability_reseeded: Option<f64>,
    /// Mean best-match Jaccard over leave-one-study-out runs, when measured.
    pub stability_leave_one_study_out: Option<f64>,
    /// What an analyst should know before trusting it.
    pub warnings: Vec<String>,
}

/// Where one quote went.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Assignment {
    /// Theme id.
    pub theme: usize,
    /// Cosine to that theme's centroid.
    pub score: f64,
    /// The next closest theme, if there are two or more.
    pub second_theme: Option<usize>,
}

/// What the themes stage needs to know about the quotes.
pub struct QuoteInfo<'a> {
    /// Ids.
    pub ids: &'a [&'a str],
    /// Studies.
    pub studies: &'a [Option<&'a str>],
    /// Texts.
    pub texts: &'a [&'a str],
}

/// Builds the themes and every quote's assignment.
#[allow(clippy::too_many_arguments)]
pub fn describe(
    quotes: &QuoteInfo,
    tokenizer: &Tokenizer,
    vocabulary: &Vocabulary,
    counts: &Csr<u32>,
    embedding: &Array2<f64>,
    clustering: &KMeans,
    cluster_params: &ClusterParams,
    params: &ThemeParams,
    progress: &dyn Progress,
) -> (Vec<Theme>, Vec<Assignment>) {
    let n = embedding.nrows();
    let k = clustering.centroids.nrows();
    // Number themes by size, largest first; ties by the first quote's position.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &l) in clustering.labels.iter().enumerate() {
        members[l].push(i);
    }
    let mut order: Vec<usize> = (0..k).filter(|&c| !members[c].is_empty()).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(members[c].len()), members[c][0]));
    let mut theme_of_cluster = vec![usize::MAX; k];
    for (t, &c) in order.iter().enumerate() {
        theme_of_cluster[c] = t;
    }
    let centroid_dirs: Vec<Vec<f64>> = order
        .iter()
        .map(|&c| {
            let row = clustering.centroids.row(c);
            let norm = row.dot(&row).sqrt().max(f64::MIN_POSITIVE);
            row.iter().map(|x| x / norm).collect()
        })
        .collect();
    let cosine = |i: usize, t: usize| embedding.row(i).iter().zip(&centroid_dirs[t]).map(|(a, b)| a * b).sum::<f64>();

    let assignments: Vec<Assignment> = (0..n)
        .map(|i| {
            let theme = theme_of_cluster[clustering.labels[i]];
            let second = (0..order.len())
                .filter(|&t| t != theme)
                .max_by(|&a, &b| cosine(i, a).total_cmp(&cosine(i, b)).then(b.cmp(&a)));
            Assignment { theme: theme + 1, score: cosine(i, theme), second_theme: second.map(|t| t + 1) }
        })
        .collect();

    let mut labels = c_tf_idf(counts, &clustering.labels, &order, vocabulary, params.n_terms);
    // Stems are not for reading: show each label word as its most frequent spoken form. Only the words
    // in some label are looked up.
    let needed: FxHashSet<&str> = labels
        .iter()
        .flat_map(|(words, phrases)| words.iter().chain(phrases))
        .flat_map(|term| term.key.split(' '))
        .collect();
    let surfaces = surface_forms(tokenizer, quotes.texts, &needed);
    for term in labels.iter_mut().flat_map(|(words, phrases)| words.iter_mut().chain(phrases.iter_mut())) {
        term.term =
            term.key.split(' ').map(|w| surfaces.get(w).map_or(w, String::as_str)).collect::<Vec<_>>().join(" ");
    }
    let stability = stability(embedding, &members, &order, quotes.studies, cluster_params, params, k, progress);

    let themes = order
        .iter()
        .enumerate()
        .map(|(t, &c)| {
            let rows = &members[c];
            let cohesion = rows.iter().map(|&i| cosine(i, t)).sum::<f64>() / rows.len() as f64;
            let mut per_study: BTreeMap<&str, usize> = BTreeMap::new();
            for &i in rows {
                if let Some(s) = quotes.studies[i] {
                    *per_study.entry(s).or_default() += 1;
                }
            }
            let mut studies: Vec<(String, usize)> = per_study.iter().map(|(s, &n)| (s.to_string(), n)).collect();
            studies.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let largest_study_share = studies.first().map_or(0.0, |s| s.1 as f64 / rows.len() as f64);
            let (words, phrases) = labels[t].clone();
            let label = words.iter().take(3).map(|w| w.term.as_str()).collect::<Vec<_>>().join(" / ");
            let quotes_shown = representatives(rows, |i| cosine(i, t), quotes, params.n_quotes);
            let (reseeded, leave_one_out) = stability[t];
            let mut warnings = Vec::new();
            if let Some((study, n)) = studies.first()
                && largest_study_share > 0.5
            {
                warnings.push(format!(
                    "one study dominates: {study} gives {n} of {} quotes ({:.0}%)",
                    rows.len(),
                    100.0 * largest_study_share
                ));
            }
            if !studies.is_empty() && studies.len() < 3 {
                warnings.push(format!("fewer than 3 studies support it ({})", studies.len()));
            }
            if let Some(reseeded) = reseeded
                && reseeded < 0.5
            {
                warnings.push(format!("unstable: mean overlap {reseeded:.2} with its best match when reseeded"));
            }
            Theme {
                id: t + 1,
                label,
                words,
                phrases,
                size: rows.len(),
                cohesion,
                quotes: quotes_shown,
                n_studies: studies.len(),
                studies,
                largest_study_share,
                stability_reseeded: reseeded,
                stability_leave_one_study_out: leave_one_out,
                warnings,
            }
        })
        .collect();
    (themes, assignments)
}

/// The most frequent lowercased surface form of each unigram term in `needed` (ties: the smallest form).
/// Quotes are tokenized again in parallel chunks; counts add up, so the result does not depend on the
/// chunking or the thread count.
fn surface_forms(tokenizer: &Tokenizer, texts: &[&str], needed: &FxHashSet<&str>) -> FxHashMap<String, String> {
    use rayon::prelude::*;
    // Single words only: building the n-grams would be wasted work here.
    let unigrams = TokenizerParams { ngram_range: (1, 1), ..tokenizer.params().clone() }.build();
    let tokenizer = unigrams.as_ref().unwrap_or(tokenizer);
    type Forms = FxHashMap<String, FxHashMap<String, usize>>;
    let count_chunk = |scratch: &mut Scratch, chunk: &[&str]| -> Forms {
        let mut forms: Forms = FxHashMap::default();
        for text in chunk {
            tokenizer.for_each_term(text, scratch, |term, range| {
                if term.contains(' ') || !needed.contains(term) {
                    return;
                }
                let form = text[range].to_lowercase();
                let per_term = match forms.get_mut(term) {
                    Some(per_term) => per_term,
                    None => forms.entry(term.to_string()).or_default(),
                };
                *per_term.entry(form).or_default() += 1;
            });
        }
        forms
    };
    let partials: Vec<Forms> = crate::parallel::doc_chunks(texts)
        .into_par_iter()
        .map_init(|| tokenizer.scratch(), |scratch, range| count_chunk(scratch, &texts[range]))
        .collect();
    let mut all: Forms = FxHashMap::default();
    for partial in partials {
        for (term, forms) in partial {
            let into = all.entry(term).or_default();
            for (form, n) in forms {
                *into.entry(form).or_default() += n;
            }
        }
    }
    all.into_iter()
        .map(|(term, forms)| {
            let best = forms.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(f, _)| f.clone());
            (term.clone(), best.unwrap_or(term))
        })
        .collect()
}

/// Top words and phrases of each theme by c-TF-IDF.
fn c_tf_idf(
    counts: &Csr<u32>,
    labels: &[usize],
    order: &[usize],
    vocabulary: &Vocabulary,
    n_terms: usize,
) -> Vec<(Vec<LabelTerm>, Vec<LabelTerm>)> {
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let n_cols = counts.n_cols;
    let mut tf = Array2::<f64>::zeros((k, n_cols));
    let mut docs = Array2::<f64>::zeros((k, n_cols));
    for (row, &l) in labels.iter().enumerate() {
        let (cols, values) = counts.row(row);
        for (&c, &v) in cols.iter().zip(values) {
            tf[[l, c as usize]] += f64::from(v);
            docs[[l, c as usize]] += 1.0;
        }
    }
    let total: Vec<f64> = tf.sum_axis(Axis(0)).to_vec();
    let mean_per_class = total.iter().sum::<f64>() / order.len().max(1) as f64;
    order
        .iter()
        .map(|&c| {
            let class_total = tf.row(c).sum().max(f64::MIN_POSITIVE);
            let mut scored: Vec<(f64, usize)> = (0..n_cols)
                .filter(|&t| tf[[c, t]] > 0.0)
                .map(|t| (tf[[c, t]] / class_total * (1.0 + mean_per_class / total[t]).ln(), t))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let make = |&(weight, t): &(f64, usize)| {
                let key = &vocabulary.terms[t];
                // `term` becomes the spoken form once the surface forms are known.
                LabelTerm { term: key.clone(), key: key.clone(), weight, quotes: docs[[c, t]] as usize }
            };
            let words =
                scored.iter().filter(|(_, t)| !vocabulary.terms[*t].contains(' ')).take(n_terms).map(make).collect();
            let phrases =
                scored.iter().filter(|(_, t)| vocabulary.terms[*t].contains(' ')).take(n_terms).map(make).collect();
            (words, phrases)
        })
        .collect()
}

/// Closest to the centroid first, one per study until each supporting study has one, then the rest.
fn representatives(
    rows: &[usize],
    score: impl Fn(usize) -> f64,
    quotes: &QuoteInfo,
    n: usize,
) -> Vec<RepresentativeQuote> {
    let mut ranked: Vec<(f64, usize)> = rows.iter().map(|&i| (score(i), i)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<(f64, usize)> = Vec::new();
    let mut seen_studies: Vec<Option<&str>> = Vec::new();
    for &(s, i) in &ranked {
        if chosen.len() == n {
            break;
        }
        let study = quotes.studies[i];
        if study.is_none() || !seen_studies.contains(&study) {
            seen_studies.push(study);
            chosen.push((s, i));
        }
    }
    for &(s, i) in &ranked {
        if chosen.len() == n {
            break;
        }
        if !chosen.iter().any(|&(_, j)| j == i) {
            chosen.push((s, i));
        }
    }
    chosen
        .into_iter()
        .map(|(score, i)| RepresentativeQuote {
            id: quotes.ids[i].to_string(),
            study: quotes.studies[i].map(str::to_string),
            score,
            text: quotes.texts[i].to_string(),
        })
        .collect()
}

/// Jaccard overlap of two sorted sets of indices.
fn jaccard(a: &[usize], b: &[usize]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 { 1.0 } else { both as f64 / union as f64 }
}

fn groups(labels: &[usize], rows: &[usize], k: usize) -> Vec<Vec<usize>> {
    let mut g = vec![Vec::new(); k];
    for (&l, &row) in labels.iter().zip(rows) {
        g[l].push(row);
    }
    g
}

fn best_match(theme: &[usize], clusters: &[Vec<usize>]) -> f64 {
    clusters.iter().map(|c| jaccard(theme, c)).fold(0.0, f64::max)
}

/// (reseeded, leave-one-study-out) stability of each theme, in theme order.
#[allow(clippy::too_many_arguments)]
fn stability(
    embedding: &Array2<f64>,
    members: &[Vec<usize>],
    order: &[usize],
    studies: &[Option<&str>],
    cluster_params: &ClusterParams,
    params: &ThemeParams,
    k: usize,
    progress: &dyn Progress,
) -> Vec<(Option<f64>, Option<f64>)> {
    let all: Vec<usize> = (0..embedding.nrows()).collect();
    let distinct: Vec<&str> = {
        let mut s: Vec<&str> = studies.iter().flatten().copied().collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let leave_out_runs = if params.leave_one_study_out && distinct.len() >= 2 { distinct.len() } else { 0 };
    progress.start("stability", Some((params.stability_runs + leave_out_runs) as u64));
    let mut reseeded = vec![0.0; order.len()];
    for run in 1..=params.stability_runs {
        let fit = cluster_params.kmeans_for(embedding, k, cluster_params.seed.wrapping_add(run as u64));
        let clusters = groups(&fit.labels, &all, k);
        for (t, &c) in order.iter().enumerate() {
            reseeded[t] += best_match(&members[c], &clusters) / params.stability_runs as f64;
        }
        progress.advance(1);
    }
    let reseeded: Vec<Option<f64>> = reseeded.into_iter().map(|r| (params.stability_runs > 0).then_some(r)).collect();
    let leave_one_out: Vec<Option<f64>> = if leave_out_runs > 0 {
        let mut sums = vec![0.0; order.len()];
        let mut runs = vec![0usize; order.len()];
        for study in &distinct {
            progress.advance(1);
            let kept: Vec<usize> = all.iter().copied().filter(|&i| studies[i] != Some(study)).collect();
            if kept.len() <= k {
                continue;
            }
            let sub = embedding.select(Axis(0), &kept);
            let fit = cluster_params.kmeans_for(&sub, k, cluster_params.seed);
            let clusters = groups(&fit.labels, &kept, k);
            for (t, &c) in order.iter().enumerate() {
                let remaining: Vec<usize> = members[c].iter().copied().filter(|&i| studies[i] != Some(study)).collect();
                if !remaining.is_empty() {
                    sums[t] += best_match(&remaining, &clusters);
                    runs[t] += 1;
                }
            }
        }
        sums.iter().zip(&runs).map(|(s, &r)| (r > 0).then(|| s / r as f64)).collect()
    } else {
        vec![None; order.len()]
    };
    progress.finish(&format!(
        "stability: {} reseeded k-means runs, {} leave-one-study-out runs",
        params.stability_runs, leave_out_runs
    ));
    reseeded.into_iter().zip(leave_one_out).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_of_sorted_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[2]), 0.0);
    }

    #[test]
    fn representatives_spread_over_studies_first() {
        let ids = ["a", "b", "c", "d"];
        let studies = [Some("S1"), Some("S1"), Some("S2"), Some("S1")];
        let texts = ["", "", "", ""];
        let info = QuoteInfo { ids: &ids, studies: &studies, texts: &texts };
        let scores = [0.9, 0.8, 0.1, 0.7];
        let chosen = representatives(&[0, 1, 2, 3], |i| scores[i], &info, 3);
        let got: Vec<&str> = chosen.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(got, ["a", "c", "b"]);
    }
}
