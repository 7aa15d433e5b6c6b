//! The `tfidf` stage: weights for a count matrix, exactly as scikit-learn's `TfidfTransformer`.
//!
//! Typestate: [`TfidfParams`] (plain values) -> [`TfidfParams::fit`] -> [`FittedTfidf`] (vocabulary and
//! idf, computed once) -> [`FittedTfidf::transform`] (new counts reuse the fitted idf; terms outside the
//! vocabulary are ignored). The weight of term `t` in quote `d` is `tf(t, d) * idf(t)`, then each row is
//! normalised.
//!
//! ```
//! use themata::tfidf::TfidfParams;
//! use themata::tokenize::{Compat, TokenizerParams};
//! use themata::vocab::{VocabParams, count_terms};
//! let tokenizer = TokenizerParams::for_compat(Compat::Sklearn).build().unwrap();
//! let texts = ["helping others helped me", "peer support helped"];
//! let (vocab, counts) = VocabParams::default().prune(count_terms(&tokenizer, &texts, None, 1)).unwrap();
//! let model = TfidfParams::default().fit(vocab);
//! let weights = model.transform(&counts);
//! assert!((model.idf()[model.column("helped").unwrap() as usize] - 1.0).abs() < 1e-12); // in every quote
//! assert_eq!(weights.n_rows(), 2);
//! ```

use rayon::prelude::*;

use crate::tokenize::{Scratch, StrInterner, Tokenizer};
use crate::vocab::{Csr, Vocabulary};

/// Term frequency: how a raw count becomes `tf`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Tf {
    /// `tf = count` (scikit-learn's default).
    #[default]
    Raw,
    /// `tf = 1` for a present term (scikit-learn's `binary=True`).
    Binary,
    /// `tf = 1 + ln(count)` (scikit-learn's `sublinear_tf=True`).
    Sublinear,
}

/// Inverse document frequency, with `n` documents and a term in `df` of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Idf {
    /// `idf = ln((1 + n) / (1 + df)) + 1`, as if one extra document held every term (scikit-learn's
    /// `smooth_idf=True`, the default).
    #[default]
    Smooth,
    /// `idf = ln(n / df) + 1` (scikit-learn's `smooth_idf=False`).
    Plain,
    /// `idf = 1` (scikit-learn's `use_idf=False`).
    None,
}

/// Row normalisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Divide by the Euclidean length, `sqrt(sum w^2)` (scikit-learn's default).
    #[default]
    L2,
    /// Divide by `sum |w|`.
    L1,
    /// Leave rows as they are.
    None,
}

/// How to weight counts. Defaults are scikit-learn's `TfidfVectorizer` defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TfidfParams {
    /// Default: [`Tf::Raw`].
    pub tf: Tf,
    /// Default: [`Idf::Smooth`].
    pub idf: Idf,
    /// Default: [`Norm::L2`].
    pub norm: Norm,
}

/// A fitted model: the vocabulary and its idf, fixed at fit time.
#[derive(Clone, Debug)]
pub struct FittedTfidf {
    params: TfidfParams,
    vocabulary: Vocabulary,
    idf: Vec<f64>,
    /// Each term's column, built on the first [`FittedTfidf::column`] call: `vectorize` never asks, and
    /// building it took a fifth of its weighting stage (129 thousand terms).
    columns: std::sync::OnceLock<StrInterner>,
}

impl TfidfParams {
    /// Computes the idf of every term of the vocabulary.
    pub fn fit(&self, vocabulary: Vocabulary) -> FittedTfidf {
        let n = vocabulary.n_docs as f64;
        let idf = vocabulary
            .df
            .iter()
            .map(|&df| {
                let df = df as f64;
                match self.idf {
                    Idf::Smooth => ((1.0 + n) / (1.0 + df)).ln() + 1.0,
                    Idf::Plain => (n / df).ln() + 1.0,
                    Idf::None => 1.0,
                }
            })
            .collect();
        FittedTfidf { params: *self, vocabulary, idf, columns: std::sync::OnceLock::new() }
    }
}

impl FittedTfidf {
    /// The params it was fitted with.
    pub fn params(&self) -> &TfidfParams {
        &self.params
    }

    /// The vocabulary; a term's index is its column.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The idf of each column.
    pub fn idf(&self) -> &[f64] {
        &self.idf
    }

    /// The column of a term, if it is in the vocabulary.
    pub fn column(&self, term: &str) -> Option<u32> {
        let columns = self.columns.get_or_init(|| {
            let mut columns = StrInterner::default();
            for term in &self.vocabulary.terms {
                columns.intern(term);
            }
            columns
        });
        columns.get(term)
    }

    /// Weights a count matrix whose columns follow this vocabulary.
    pub fn transform(&self, counts: &Csr<u32>) -> Csr<f64> {
        self.transform_into(counts.clone())
    }

    /// Like [`FittedTfidf::transform`], but reuses the count matrix's row and column arrays instead of
    /// copying them (the big corpora path: one copy of the sparsity pattern fewer at peak).
    pub fn transform_into(&self, counts: Csr<u32>) -> Csr<f64> {
        assert_eq!(counts.n_cols, self.idf.len(), "count matrix columns must follow the fitted vocabulary");
        // Rows in blocks of about 64 thousand entries, each weighted and normalised in one pass while
        // it is in cache, rather than two passes over the whole array (real.jsonl: 0.042-0.057 s ->
        // 0.038-0.050 s on two threads).
        const BLOCK_ENTRIES: usize = 1 << 16;
        let mut data = vec![0.0f64; counts.nnz()];
        let mut blocks: Vec<(std::ops::Range<usize>, &mut [f64])> = Vec::new();
        let mut rest = data.as_mut_slice();
        let mut first_row = 0;
        for row in 1..=counts.n_rows() {
            let entries = counts.indptr[row] - counts.indptr[first_row];
            if entries >= BLOCK_ENTRIES || row == counts.n_rows() {
                let (block, tail) = rest.split_at_mut(entries);
                blocks.push((first_row..row, block));
                rest = tail;
                first_row = row;
            }
        }
        let norm = self.params.norm;
        blocks.into_par_iter().for_each(|(rows, block)| {
            let offset = counts.indptr[rows.start];
            for row in rows {
                let range = counts.indptr[row]..counts.indptr[row + 1];
                let weights = &mut block[range.start - offset..range.end - offset];
                for ((w, &col), &count) in
                    weights.iter_mut().zip(&counts.indices[range.clone()]).zip(&counts.data[range])
                {
                    *w = self.tf(count) * self.idf[col as usize];
                }
                normalise(weights, norm);
            }
        });
        Csr { n_cols: counts.n_cols, indptr: counts.indptr, indices: counts.indices, data }
    }

    /// Tokenizes and weights new quotes with the fitted vocabulary and idf; unseen terms are ignored.
    pub fn transform_texts(&self, tokenizer: &Tokenizer, texts: &[&str]) -> Csr<f64> {
        let mut scratch = Scratch::default();
        let mut indptr = vec![0];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        let mut row: Vec<(u32, u32)> = Vec::new();
        for text in texts {
            row.clear();
            tokenizer.for_each_term(text, &mut scratch, |term, _| {
                if let Some(col) = self.column(term) {
                    row.push((col, 1));
                }
            });
            row.sort_unstable();
            row.dedup_by(|b, a| {
                let same = a.0 == b.0;
                if same {
                    a.1 += b.1;
                }
                same
            });
            indices.extend(row.iter().map(|&(c, _)| c));
            data.extend(row.iter().map(|&(_, n)| n));
            indptr.push(indices.len());
        }
        self.transform(&Csr { n_cols: self.idf.len(), indptr, indices, data })
    }

    fn tf(&self, count: u32) -> f64 {
        match self.params.tf {
            Tf::Raw => f64::from(count),
            Tf::Binary => 1.0,
            Tf::Sublinear => 1.0 + f64::from(count).ln(),
        }
    }
}

/// Normalises one row in place; an all-zero row stays zero.
fn normalise(row: &mut [f64], norm: Norm) {
    let length = match norm {
        Norm::L2 => row.iter().map(|w| w * w).sum::<f64>().sqrt(),
        Norm::L1 => row.iter().map(|w| w.abs()).sum::<f64>(),
        Norm::None => return,
    };
    if length > 0.0 {
        row.iter_mut().for_each(|w| *w /= length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::{Compat, TokenizerParams};
    use crate::vocab::{VocabParams, count_terms};

    use crate::test_fixtures::PARITY_QUOTES as FIXTURE;

    fn fit(params: TfidfParams) -> (FittedTfidf, Csr<f64>) {
        let tokenizer = TokenizerParams::for_compat(Compat::Sklearn).build().unwrap();
        let (vocab, counts) = VocabParams::default().prune(count_terms(&tokenizer, &FIXTURE, None, 2)).unwrap();
        let model = params.fit(vocab);
        let weights = model.transform(&counts);
        (model, weights)
    }

    fn weight(model: &FittedTfidf, weights: &Csr<f64>, row: usize, term: &str) -> f64 {
        let col = model.column(term).unwrap();
        let (cols, values) = weights.row(row);
        values[cols.iter().position(|&c| c == col).unwrap()]
    }

    /// `check(params, row, expected)`: SKLEARN_PARITY.md's fixture values, to 1e-6 (they have 6 decimals).
    fn check(params: TfidfParams, row: usize, expected: &[(&str, f64)]) {
        let (model, weights) = fit(params);
        assert_eq!(weights.row(row).0.len(), expected.len(), "terms in row {row}");
        for &(term, value) in expected {
            let got = weight(&model, &weights, row, term);
            assert!((got - value).abs() < 1e-6, "{params:?} row {row} {term}: {got} vs {value}");
        }
    }

    const D4: [&str; 7] = ["and", "helped", "me", "my", "others", "sharing", "story"];

    fn d4(values: [f64; 7]) -> Vec<(&'static str, f64)> {
        D4.iter().copied().zip(values).collect()
    }

    #[test]
    fn sklearn_fixture_idf() {
        let (model, _) = fit(TfidfParams::default());
        let idf = |t: &str| model.idf()[model.column(t).unwrap() as usize];
        assert!((idf("peer") - 1.405465).abs() < 1e-6);
        assert!((idf("low") - 1.693147).abs() < 1e-6);
        assert!((idf("story") - 2.098612).abs() < 1e-6);
        let (plain, _) = fit(TfidfParams { idf: Idf::Plain, ..TfidfParams::default() });
        let idf = |t: &str| plain.idf()[plain.column(t).unwrap() as usize];
        assert!((idf("peer") - 1.510826).abs() < 1e-6);
        assert!((idf("low") - 1.916291).abs() < 1e-6);
        assert!((idf("story") - 2.609438).abs() < 1e-6);
    }

    #[test]
    fn sklearn_fixture_rows() {
        check(TfidfParams::default(), 4, &d4([0.269064, 0.538129, 0.324139, 0.324139, 0.324139, 0.401761, 0.401761]));
        check(
            TfidfParams { tf: Tf::Sublinear, ..TfidfParams::default() },
            4,
            &d4([0.280831, 0.475488, 0.338314, 0.338314, 0.338314, 0.419331, 0.419331]),
        );
        check(
            TfidfParams { norm: Norm::None, ..TfidfParams::default() },
            4,
            &d4([1.405465, 2.810930, 1.693147, 1.693147, 1.693147, 2.098612, 2.098612]),
        );
        check(
            TfidfParams { idf: Idf::Plain, ..TfidfParams::default() },
            4,
            &d4([0.251637, 0.503274, 0.319170, 0.319170, 0.319170, 0.434618, 0.434618]),
        );
        let d0 = [
            ("helped", 0.243766),
            ("helping", 0.363987),
            ("others", 0.293662),
            ("peer", 0.243766),
            ("said", 0.363987),
            ("stay", 0.363987),
            ("them", 0.363987),
            ("well", 0.363987),
            ("workers", 0.363987),
        ];
        check(TfidfParams::default(), 0, &d0);
    }

    /// The naive oracle: dense rows, formulas written out.
    #[test]
    fn sparse_equals_dense_oracle_for_every_option() {
        for tf in [Tf::Raw, Tf::Binary, Tf::Sublinear] {
            for idf in [Idf::Smooth, Idf::Plain, Idf::None] {
                for norm in [Norm::L2, Norm::L1, Norm::None] {
                    let params = TfidfParams { tf, idf, norm };
                    let (model, weights) = fit(params);
                    let v = model.vocabulary();
                    let tokenizer = TokenizerParams::for_compat(Compat::Sklearn).build().unwrap();
                    for (r, text) in FIXTURE.iter().enumerate() {
                        let mut dense = vec![0.0f64; v.terms.len()];
                        for t in tokenizer.tokenize(text) {
                            dense[model.column(&t.term).unwrap() as usize] += 1.0;
                        }
                        let n = v.n_docs as f64;
                        for (c, w) in dense.iter_mut().enumerate() {
                            if *w == 0.0 {
                                continue;
                            }
                            let df = v.df[c] as f64;
                            let tf_value = match tf {
                                Tf::Raw => *w,
                                Tf::Binary => 1.0,
                                Tf::Sublinear => 1.0 + w.ln(),
                            };
                            let idf_value = match idf {
                                Idf::Smooth => ((1.0 + n) / (1.0 + df)).ln() + 1.0,
                                Idf::Plain => (n / df).ln() + 1.0,
                                Idf::None => 1.0,
                            };
                            *w = tf_value * idf_value;
                        }
                        let length: f64 = match norm {
                            Norm::L2 => dense.iter().map(|w| w * w).sum::<f64>().sqrt(),
                            Norm::L1 => dense.iter().sum(),
                            Norm::None => 1.0,
                        };
                        let (cols, values) = weights.row(r);
                        let mut sparse = vec![0.0f64; v.terms.len()];
                        for (&c, &x) in cols.iter().zip(values) {
                            sparse[c as usize] = x;
                        }
                        for (a, b) in dense.iter().zip(&sparse) {
                            assert!((a / length - b).abs() < 1e-12, "{params:?} row {r}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn transform_reuses_fitted_idf_and_ignores_unseen_terms() {
        let (model, weights) = fit(TfidfParams::default());
        let tokenizer = TokenizerParams::for_compat(Compat::Sklearn).build().unwrap();
        let again = model.transform_texts(&tokenizer, &FIXTURE);
        for (a, b) in again.data.iter().zip(&weights.data) {
            assert!((a - b).abs() < 1e-15);
        }
        assert_eq!(again.indices, weights.indices);
        let new = model.transform_texts(&tokenizer, &["peer zebra zebra", "nothing known here", ""]);
        assert_eq!(new.row(0).0, [model.column("peer").unwrap()]);
        assert!((new.row(0).1[0] - 1.0).abs() < 1e-15, "l2-normalised single term");
        assert!(new.row(1).0.is_empty() && new.row(2).0.is_empty());
    }
}
