//! The `evaluate` stage: compares candidate themes with the analysts' manual coding, so that people can
//! see where the machine and the synthesis agree, where they differ, and which quotes to re-read.
//!
//! - **Partition agreement** on the single-label view (each quote's first code against its theme): ARI,
//!   NMI and AMI (arithmetic mean), homogeneity, completeness, V-measure, Fowlkes-Mallows, purity and
//!   inverse purity, with scikit-learn's definitions ([`metrics`]).
//! - **Theme-to-code matching**, multi-label aware: the overlap of theme `t` and code `c` counts the
//!   quotes of `t` that carry `c` among any of their codes; themes and codes are matched one to one by
//!   maximum total overlap (Hungarian assignment, [`assign`]). Each pair gets precision (share of the
//!   theme's quotes that carry the code), recall (share of the code's quotes in the theme), F1 and Cohen's
//!   kappa (quote in the theme vs quote carries the code, over all compared quotes).
//! - **Krippendorff's alpha** (nominal), with themata as one more coder: for each quote, the analysts'
//!   first code against the code matched to its theme (a theme without a match is a category of its own).
//! - **Gaps**: themes without a code (candidate new themes), codes without a theme, and for each pair the
//!   disagreeing quotes, most confident first.
//!
//! Quotes on one side only, and quotes the analysts left uncoded, are listed and left out of every number.

pub mod assign;
pub mod metrics;

use std::collections::{BTreeMap, HashMap};

use crate::corpus::{CodingLayout, ManualCoding, Suggestion};
use metrics::Contingency;

/// Version of the compare.json schema; bump it when a field changes meaning or disappears.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// What the partition metrics compare, stated in every output.
pub const LABEL_VIEW: &str = "single-label: each quote's first code against its theme";

/// Why a comparison cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// The two sides share no coded quote.
    #[error(
        "no coded quote is on both sides: {n_suggested} quotes in {suggested}, {n_manual} in {manual} \
         ({n_common} ids in common, {n_coded} of them coded); expected the same quote ids (check --id-col)"
    )]
    NothingToCompare {
        /// The suggestion folder.
        suggested: String,
        /// The manual coding file.
        manual: String,
        /// Quotes in the suggestion.
        n_suggested: usize,
        /// Quotes in the manual coding.
        n_manual: usize,
        /// Ids on both sides.
        n_common: usize,
        /// Of those, quotes with at least one code.
        n_coded: usize,
    },
}

/// One matched theme and code.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ThemeCodePair {
    /// The theme's number.
    pub theme: usize,
    /// The theme's label.
    pub label: String,
    /// The code.
    pub code: String,
    /// The code's name in the codebook, when one was given.
    pub code_name: Option<String>,
    /// Compared quotes in the theme that carry the code.
    pub overlap: u64,
    /// Compared quotes in the theme.
    pub theme_size: u64,
    /// Compared quotes that carry the code.
    pub code_size: u64,
    /// overlap / theme_size.
    pub precision: f64,
    /// overlap / code_size.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Cohen's kappa of "in the theme" against "carries the code"; `null` when undefined.
    pub kappa: Option<f64>,
    /// Quotes in the theme without the code.
    pub in_theme_not_coded: u64,
    /// Quotes with the code outside the theme.
    pub coded_not_in_theme: u64,
}

/// A theme no code was matched to: a candidate new theme.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UnmatchedTheme {
    /// The theme's number.
    pub theme: usize,
    /// Its label.
    pub label: String,
    /// Compared quotes in it.
    pub size: u64,
    /// The code most of its quotes carry, and how many (it went to another theme).
    pub most_common_code: Option<(String, u64)>,
}

/// A code no theme was matched to: a theme the words did not reveal.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UnmatchedCode {
    /// The code.
    pub code: String,
    /// The code's name in the codebook, when one was given.
    pub name: Option<String>,
    /// Compared quotes that carry it.
    pub size: u64,
    /// The theme holding most of its quotes, and how many.
    pub most_common_theme: Option<(usize, u64)>,
}

/// The theme x code overlap table (multi-label counts), for heat maps.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OverlapTable {
    /// Row labels: theme numbers.
    pub themes: Vec<usize>,
    /// Column labels: codes, sorted.
    pub codes: Vec<String>,
    /// `counts[row][column]`: quotes of the theme that carry the code.
    pub counts: Vec<Vec<u64>>,
}

/// Why a quote is listed for re-reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisagreementKind {
    /// In the theme, but the analysts did not give it the matched code.
    InThemeNotCoded,
    /// Carries the matched code, but the machine put it in another theme.
    CodedNotInTheme,
    /// In a theme that matches no code.
    UnmatchedTheme,
    /// Carries a code that matches no theme.
    UnmatchedCode,
}

impl Comparison {
    /// A code with its codebook name, as "A4 (Role ambiguity)", or the code alone.
    pub fn named(&self, code: &str) -> String {
        match self.code_names.get(code) {
            Some(name) if !name.is_empty() => format!("{code} ({name})"),
            _ => code.to_string(),
        }
    }
}

impl DisagreementKind {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            DisagreementKind::InThemeNotCoded => "in_theme_not_coded",
            DisagreementKind::CodedNotInTheme => "coded_not_in_theme",
            DisagreementKind::UnmatchedTheme => "unmatched_theme",
            DisagreementKind::UnmatchedCode => "unmatched_code",
        }
    }
}

/// A quote to re-read.
#[derive(Clone, Debug, PartialEq)]
pub struct Disagreement {
    /// Why.
    pub kind: DisagreementKind,
    /// The theme of the pair (or the unmatched theme).
    pub theme: Option<usize>,
    /// The code of the pair (or the unmatched code).
    pub code: Option<String>,
    /// The quote's id.
    pub id: String,
    /// Its study.
    pub study: Option<String>,
    /// The theme the machine put it in.
    pub assigned_theme: usize,
    /// Its cosine to that theme's centroid: how sure the machine is.
    pub score: f64,
    /// The machine's second choice.
    pub second_theme: Option<usize>,
    /// The analysts' codes.
    pub codes: Vec<String>,
    /// The quote, when the manual file has text.
    pub text: Option<String>,
}

/// Everything `compare` found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Comparison {
    /// Always "themata.compare".
    pub schema: &'static str,
    /// [`COMPARE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The suggestion folder.
    pub suggested: String,
    /// The manual coding file.
    pub manual: String,
    /// Its layout.
    pub manual_layout: CodingLayout,
    /// [`LABEL_VIEW`].
    pub label_view: &'static str,
    /// Quotes in the suggestion.
    pub n_suggested: usize,
    /// Quotes in the manual coding.
    pub n_manual: usize,
    /// Quotes on both sides with at least one code: every number below is over these.
    pub n_compared: usize,
    /// Themes among the compared quotes.
    pub n_themes: usize,
    /// Codes among the compared quotes.
    pub n_codes: usize,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Normalised mutual information (arithmetic mean).
    pub nmi: f64,
    /// Adjusted mutual information (arithmetic mean).
    pub ami: f64,
    /// Homogeneity: each theme holds one code.
    pub homogeneity: f64,
    /// Completeness: each code sits in one theme.
    pub completeness: f64,
    /// V-measure (beta 1).
    pub v_measure: f64,
    /// Fowlkes-Mallows index.
    pub fowlkes_mallows: f64,
    /// Purity.
    pub purity: f64,
    /// Inverse purity.
    pub inverse_purity: f64,
    /// Krippendorff's alpha (nominal), analysts' first code vs matched code; `null` when undefined.
    pub krippendorff_alpha: Option<f64>,
    /// Matched theme-code pairs, by theme.
    pub pairs: Vec<ThemeCodePair>,
    /// Themes without a code.
    pub unmatched_themes: Vec<UnmatchedTheme>,
    /// Codes without a theme.
    pub unmatched_codes: Vec<UnmatchedCode>,
    /// The theme x code overlap table.
    pub overlap: OverlapTable,
    /// Names of the compared codes, from the codebook (empty without one).
    pub code_names: BTreeMap<String, String>,
    /// Ids in the suggestion only.
    pub only_suggested: Vec<String>,
    /// Ids in the manual coding only.
    pub only_manual: Vec<String>,
    /// Ids on both sides that the analysts left uncoded.
    pub uncoded: Vec<String>,
    /// Quotes to re-read, for disagreements.csv (not in compare.json).
    #[serde(skip)]
    pub disagreements: Vec<Disagreement>,
}

/// Compares a suggestion with a manual coding. See the module documentation for every number.
/// `code_names` (code -> name, from a codebook; may be empty) only labels the codes in the outputs.
pub fn compare(
    suggestion: &Suggestion,
    manual: &ManualCoding,
    code_names: &BTreeMap<String, String>,
) -> Result<Comparison, EvaluateError> {
    let manual_index: HashMap<&str, usize> =
        manual.quotes.iter().enumerate().map(|(i, q)| (q.id.as_str(), i)).collect();
    let suggested_ids: HashMap<&str, ()> = suggestion.quotes.iter().map(|q| (q.id.as_str(), ())).collect();
    let only_manual: Vec<String> =
        manual.quotes.iter().filter(|q| !suggested_ids.contains_key(q.id.as_str())).map(|q| q.id.clone()).collect();
    let mut only_suggested = Vec::new();
    let mut uncoded = Vec::new();
    // (suggested quote, manual quote) of every compared quote, in the suggestion's order.
    let mut compared: Vec<(usize, usize)> = Vec::new();
    for (s, quote) in suggestion.quotes.iter().enumerate() {
        match manual_index.get(quote.id.as_str()) {
            None => only_suggested.push(quote.id.clone()),
            Some(&m) if manual.quotes[m].codes.is_empty() => uncoded.push(quote.id.clone()),
            Some(&m) => compared.push((s, m)),
        }
    }
    if compared.is_empty() {
        return Err(EvaluateError::NothingToCompare {
            suggested: suggestion.dir.display().to_string(),
            manual: manual.path.display().to_string(),
            n_suggested: suggestion.quotes.len(),
            n_manual: manual.quotes.len(),
            n_common: uncoded.len(),
            n_coded: 0,
        });
    }

    // Dense indices: codes sorted by name, themes by number.
    let mut codes: Vec<&str> =
        compared.iter().flat_map(|&(_, m)| manual.quotes[m].codes.iter().map(String::as_str)).collect();
    codes.sort_unstable();
    codes.dedup();
    let code_index: HashMap<&str, usize> = codes.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut themes: Vec<usize> = compared.iter().map(|&(s, _)| suggestion.quotes[s].theme).collect();
    themes.sort_unstable();
    themes.dedup();
    let theme_index: HashMap<usize, usize> = themes.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let label_of = |theme: usize| -> String {
        suggestion.themes.iter().find(|t| t.id == theme).map_or_else(|| format!("theme {theme}"), |t| t.label.clone())
    };

    // Single-label partition metrics.
    let first_code: Vec<u32> =
        compared.iter().map(|&(_, m)| code_index[manual.quotes[m].codes[0].as_str()] as u32).collect();
    let theme_label: Vec<u32> = compared.iter().map(|&(s, _)| suggestion.quotes[s].theme as u32).collect();
    let table = Contingency::new(&first_code, &theme_label);
    let (homogeneity, completeness, v_measure) = metrics::homogeneity_completeness_v_measure(&table);
    let (purity, inverse_purity) = metrics::purity_and_inverse(&table);

    // Multi-label overlap and the one-to-one matching.
    let (n_themes, n_codes) = (themes.len(), codes.len());
    let mut overlap = vec![0u64; n_themes * n_codes];
    let mut theme_size = vec![0u64; n_themes];
    let mut code_size = vec![0u64; n_codes];
    for &(s, m) in &compared {
        let t = theme_index[&suggestion.quotes[s].theme];
        theme_size[t] += 1;
        for code in &manual.quotes[m].codes {
            let c = code_index[code.as_str()];
            overlap[t * n_codes + c] += 1;
            code_size[c] += 1;
        }
    }
    let matching: Vec<(usize, usize)> = assign::max_weight_matching(&overlap, n_codes)
        .into_iter()
        .filter(|&(t, c)| overlap[t * n_codes + c] > 0)
        .collect();
    let code_of_theme: BTreeMap<usize, usize> = matching.iter().copied().collect();
    let theme_of_code: BTreeMap<usize, usize> = matching.iter().map(|&(t, c)| (c, t)).collect();

    let n = compared.len() as u64;
    let pairs: Vec<ThemeCodePair> = matching
        .iter()
        .map(|&(t, c)| {
            let both = overlap[t * n_codes + c];
            let (in_theme, coded) = (theme_size[t], code_size[c]);
            let precision = both as f64 / in_theme as f64;
            let recall = both as f64 / coded as f64;
            ThemeCodePair {
                theme: themes[t],
                label: label_of(themes[t]),
                code: codes[c].to_string(),
                code_name: code_names.get(codes[c]).cloned(),
                overlap: both,
                theme_size: in_theme,
                code_size: coded,
                precision,
                recall,
                f1: if both == 0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) },
                kappa: metrics::cohen_kappa(both, in_theme - both, coded - both, n + both - in_theme - coded),
                in_theme_not_coded: in_theme - both,
                coded_not_in_theme: coded - both,
            }
        })
        .collect();

    // Krippendorff's alpha: the analysts' first code and the code matched to the quote's theme.
    let analysts: Vec<Option<u32>> = first_code.iter().map(|&c| Some(c)).collect();
    let machine: Vec<Option<u32>> = compared
        .iter()
        .map(|&(s, _)| {
            let t = theme_index[&suggestion.quotes[s].theme];
            Some(code_of_theme.get(&t).map_or((n_codes + t) as u32, |&c| c as u32))
        })
        .collect();
    let krippendorff_alpha = metrics::krippendorff_alpha_nominal(&[analysts, machine]);

    let unmatched_themes = (0..n_themes)
        .filter(|t| !code_of_theme.contains_key(t))
        .map(|t| {
            let best = (0..n_codes).max_by_key(|&c| (overlap[t * n_codes + c], std::cmp::Reverse(c)));
            UnmatchedTheme {
                theme: themes[t],
                label: label_of(themes[t]),
                size: theme_size[t],
                most_common_code: best
                    .filter(|&c| overlap[t * n_codes + c] > 0)
                    .map(|c| (codes[c].to_string(), overlap[t * n_codes + c])),
            }
        })
        .collect::<Vec<_>>();
    let unmatched_codes = (0..n_codes)
        .filter(|c| !theme_of_code.contains_key(c))
        .map(|c| {
            let best = (0..n_themes).max_by_key(|&t| (overlap[t * n_codes + c], std::cmp::Reverse(t)));
            UnmatchedCode {
                code: codes[c].to_string(),
                name: code_names.get(codes[c]).cloned(),
                size: code_size[c],
                most_common_theme: best
                    .filter(|&t| overlap[t * n_codes + c] > 0)
                    .map(|t| (themes[t], overlap[t * n_codes + c])),
            }
        })
        .collect::<Vec<_>>();

    // Quotes to re-read, grouped by pair, then unmatched themes, then unmatched codes; most confident first.
    let make = |kind, theme: Option<usize>, code: Option<usize>, s: usize, m: usize| {
        let (sq, mq) = (&suggestion.quotes[s], &manual.quotes[m]);
        Disagreement {
            kind,
            theme: theme.map(|t| themes[t]),
            code: code.map(|c| codes[c].to_string()),
            id: sq.id.clone(),
            study: sq.study.clone().or_else(|| mq.study.clone()),
            assigned_theme: sq.theme,
            score: sq.score,
            second_theme: sq.second_theme,
            codes: mq.codes.clone(),
            text: mq.text.clone(),
        }
    };
    let carries = |m: usize, c: usize| manual.quotes[m].codes.iter().any(|x| x == codes[c]);
    let theme_of = |s: usize| theme_index[&suggestion.quotes[s].theme];
    let mut disagreements = Vec::new();
    let mut push_sorted = |mut group: Vec<Disagreement>| {
        // Stable sort: equal scores keep the suggestion's order.
        group.sort_by(|a, b| b.score.total_cmp(&a.score));
        disagreements.extend(group);
    };
    for &(t, c) in &matching {
        push_sorted(
            compared
                .iter()
                .filter(|&&(s, m)| theme_of(s) == t && !carries(m, c))
                .map(|&(s, m)| make(DisagreementKind::InThemeNotCoded, Some(t), Some(c), s, m))
                .collect(),
        );
        push_sorted(
            compared
                .iter()
                .filter(|&&(s, m)| theme_of(s) != t && carries(m, c))
                .map(|&(s, m)| make(DisagreementKind::CodedNotInTheme, Some(t), Some(c), s, m))
                .collect(),
        );
    }
    for t in (0..n_themes).filter(|t| !code_of_theme.contains_key(t)) {
        push_sorted(
            compared
                .iter()
                .filter(|&&(s, _)| theme_of(s) == t)
                .map(|&(s, m)| make(DisagreementKind::UnmatchedTheme, Some(t), None, s, m))
                .collect(),
        );
    }
    for c in (0..n_codes).filter(|c| !theme_of_code.contains_key(c)) {
        push_sorted(
            compared
                .iter()
                .filter(|&&(_, m)| carries(m, c))
                .map(|&(s, m)| make(DisagreementKind::UnmatchedCode, None, Some(c), s, m))
                .collect(),
        );
    }

    Ok(Comparison {
        schema: "themata.compare",
        schema_version: COMPARE_SCHEMA_VERSION,
        suggested: suggestion.dir.display().to_string(),
        manual: manual.path.display().to_string(),
        manual_layout: manual.layout,
        label_view: LABEL_VIEW,
        n_suggested: suggestion.quotes.len(),
        n_manual: manual.quotes.len(),
        n_compared: compared.len(),
        n_themes,
        n_codes,
        ari: metrics::adjusted_rand_index(&table),
        nmi: metrics::normalized_mutual_information(&table),
        ami: metrics::adjusted_mutual_information(&table),
        homogeneity,
        completeness,
        v_measure,
        fowlkes_mallows: metrics::fowlkes_mallows(&table),
        purity,
        inverse_purity,
        krippendorff_alpha,
        pairs,
        unmatched_themes,
        unmatched_codes,
        overlap: OverlapTable {
            themes: themes.clone(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
            counts: (0..n_themes).map(|t| overlap[t * n_codes..(t + 1) * n_codes].to_vec()).collect(),
        },
        code_names: codes.iter().filter_map(|&c| code_names.get(c).map(|n| (c.to_string(), n.clone()))).collect(),
        only_suggested,
        only_manual,
        uncoded,
        disagreements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{CodedQuote, SuggestedQuote, SuggestedTheme};
    use std::path::PathBuf;

    fn suggestion(rows: &[(&str, usize, f64)]) -> Suggestion {
        let mut ids: Vec<usize> = rows.iter().map(|r| r.1).collect();
        ids.sort_unstable();
        ids.dedup();
        Suggestion {
            dir: PathBuf::from("out"),
            themes: ids.iter().map(|&id| SuggestedTheme { id, label: format!("t{id}"), size: 0 }).collect(),
            quotes: rows
                .iter()
                .map(|&(id, theme, score)| SuggestedQuote {
                    id: id.to_string(),
                    study: None,
                    theme,
                    score,
                    second_theme: None,
                })
                .collect(),
        }
    }

    fn manual(rows: &[(&str, &[&str])]) -> ManualCoding {
        ManualCoding {
            path: PathBuf::from("codes.csv"),
            layout: CodingLayout::IdCodeRows,
            quotes: rows
                .iter()
                .map(|(id, codes)| CodedQuote {
                    id: id.to_string(),
                    codes: codes.iter().map(|c| c.to_string()).collect(),
                    study: None,
                    text: None,
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn matches_pairs_and_lists_every_gap() {
        let s = suggestion(&[
            ("q1", 1, 0.9),
            ("q2", 1, 0.8),
            ("q3", 1, 0.7),
            ("q4", 2, 0.6),
            ("q5", 3, 0.5),
            ("q9", 2, 0.4),
        ]);
        let m =
            manual(&[("q1", &["A"]), ("q2", &["A", "B"]), ("q3", &["B"]), ("q4", &["B"]), ("q5", &[]), ("q7", &["C"])]);
        let c = compare(&s, &m, &BTreeMap::new()).unwrap();
        assert_eq!(c.n_compared, 4);
        assert_eq!(c.only_suggested, ["q9"]);
        assert_eq!(c.only_manual, ["q7"]);
        assert_eq!(c.uncoded, ["q5"]);
        // Overlap: theme 1 has A twice and B twice; theme 2 has B once. Best: 1-A (2) + 2-B (1).
        let pairs: Vec<(usize, &str, u64)> = c.pairs.iter().map(|p| (p.theme, p.code.as_str(), p.overlap)).collect();
        assert_eq!(pairs, [(1, "A", 2), (2, "B", 1)]);
        assert_eq!(c.overlap.counts, [vec![2, 2], vec![0, 1]]);
        let p = &c.pairs[0];
        assert_eq!((p.precision, p.recall, p.in_theme_not_coded, p.coded_not_in_theme), (2.0 / 3.0, 1.0, 1, 0));
        let listed: Vec<(&str, &str)> = c.disagreements.iter().map(|d| (d.kind.as_str(), d.id.as_str())).collect();
        assert_eq!(listed, [("in_theme_not_coded", "q3"), ("coded_not_in_theme", "q2"), ("coded_not_in_theme", "q3")]);
        assert!(c.unmatched_themes.is_empty() && c.unmatched_codes.is_empty());
    }

    #[test]
    fn unmatched_sides_become_candidates() {
        let s = suggestion(&[("a", 1, 0.9), ("b", 1, 0.8), ("c", 2, 0.7), ("d", 3, 0.6)]);
        let m = manual(&[("a", &["X"]), ("b", &["X"]), ("c", &["X"]), ("d", &["X"])]);
        let c = compare(&s, &m, &BTreeMap::new()).unwrap();
        assert_eq!(c.pairs.len(), 1);
        let unmatched: Vec<usize> = c.unmatched_themes.iter().map(|u| u.theme).collect();
        assert_eq!(unmatched, [2, 3]);
        assert_eq!(c.unmatched_themes[0].most_common_code, Some(("X".to_string(), 1)));
        assert_eq!(c.ari, 0.0);
    }

    #[test]
    fn nothing_in_common_is_an_error() {
        let s = suggestion(&[("a", 1, 0.9)]);
        let m = manual(&[("b", &["X"])]);
        assert!(matches!(compare(&s, &m, &BTreeMap::new()), Err(EvaluateError::NothingToCompare { n_common: 0, .. })));
    }
}
