//! What `themata inspect` prints: a description of a quote file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::corpus::{CorpusStats, Distribution, Format, Schema, Warning};

/// The description of a corpus, as printed by `themata inspect` (text) or `themata inspect --json`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InspectReport {
    /// The file described.
    pub file: String,
    /// Its format.
    pub format: Format,
    /// Which column plays which role.
    pub schema: Schema,
    /// Quotes read (skipped rows not included).
    pub quotes: u64,
    /// Rows skipped for empty text.
    pub skipped: u64,
    /// Bytes of quote text.
    pub text_bytes: u64,
    /// Number of distinct studies.
    pub studies: usize,
    /// Quotes without a study.
    pub quotes_without_study: u64,
    /// Quotes per study: min, median, mean, max.
    pub quotes_per_study: Option<Distribution>,
    /// Quotes of each study.
    pub study_counts: BTreeMap<String, u64>,
    /// Quotes carrying each code.
    pub codes: BTreeMap<String, u64>,
    /// Quotes with at least one code.
    pub coded_quotes: u64,
    /// Quotes with two codes or more.
    pub multi_coded_quotes: u64,
    /// Text length in characters.
    pub chars: Option<Distribution>,
    /// Text length in words (UAX #29).
    pub words: Option<Distribution>,
    /// Warnings, in words.
    pub warnings: Vec<String>,
}

impl InspectReport {
    /// Builds the report from streamed statistics.
    pub fn new(file: &str, format: Format, schema: Schema, stats: CorpusStats, warnings: &[Warning]) -> Self {
        let skipped = warnings
            .iter()
            .map(|w| match w {
                Warning::EmptyText { ids, .. } => ids.len() as u64,
            })
            .sum();
        InspectReport {
            file: file.to_string(),
            format,
            schema,
            quotes: stats.n_quotes,
            skipped,
            text_bytes: stats.text_bytes,
            studies: stats.quotes_per_study.len(),
            quotes_without_study: stats.n_without_study,
            quotes_per_study: stats.study_sizes(),
            chars: Distribution::from_histogram(&stats.char_lengths),
            words: Distribution::from_histogram(&stats.word_lengths),
            study_counts: stats.quotes_per_study,
            codes: stats.code_counts,
            coded_quotes: stats.n_coded,
            multi_coded_quotes: stats.n_multi_coded,
            warnings: warnings.iter().map(ToString::to_string).collect(),
        }
    }

    /// Pretty JSON, for scripts.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("plain data serialises");
        s.push('\n');
        s
    }

    /// Plain text, for people.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let s = &self.schema;
        let role = |name: &Option<String>, fallback: &str| name.clone().unwrap_or_else(|| fallback.to_string());
        let _ = writeln!(out, "file      {} ({})", self.file, format!("{:?}", self.format).to_lowercase());
        let _ = writeln!(
            out,
            "columns   text={}, id={}, study={}, codes={}",
            s.text,
            role(&s.id, "(record number)"),
            role(&s.study, "(none)"),
            role(&s.codes, "(none)")
        );
        if !s.metadata.is_empty() {
            let _ = writeln!(out, "metadata  {}", s.metadata.join(", "));
        }
        let _ =
            writeln!(out, "quotes    {} ({} skipped, {} bytes of text)", self.quotes, self.skipped, self.text_bytes);
        let _ = write!(out, "studies   {}", self.studies);
        if let Some(d) = &self.quotes_per_study {
            let _ = write!(out, "; quotes per study: {}", describe(d));
        }
        if self.quotes_without_study > 0 {
            let _ = write!(out, "; {} quotes without a study", self.quotes_without_study);
        }
        out.push('\n');
        if let (Some(c), Some(w)) = (&self.chars, &self.words) {
            let _ = writeln!(out, "length    characters: {}", describe(c));
            let _ = writeln!(out, "          words:      {}", describe(w));
        }
        let _ = writeln!(
            out,
            "codes     {} distinct; {} quotes coded, {} with two codes or more",
            self.codes.len(),
            self.coded_quotes,
            self.multi_coded_quotes
        );
        let width = self.codes.keys().map(|c| c.chars().count()).max().unwrap_or(0);
        for (code, n) in &self.codes {
            let _ = writeln!(out, "          {code:<width$}  {n}");
        }
        if self.warnings.is_empty() {
            let _ = writeln!(out, "warnings  none");
        } else {
            for w in &self.warnings {
                let _ = writeln!(out, "warning   {w}");
            }
        }
        out
    }
}

fn describe(d: &Distribution) -> String {
    format!("min {}, median {}, mean {:.1}, max {}", d.min, d.median, d.mean, d.max)
}
