//! What `themata suggest` writes: themes.json, themes.csv, assignments.csv, report.md (and the caller's
//! manifest.json).

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::cluster::KScore;
use crate::themes::{Assignment, Theme};

/// Version of the themes.json schema; bump it when a field changes meaning or disappears.
pub const THEMES_SCHEMA_VERSION: u32 = 1;

/// Everything `suggest` found, as written to themes.json.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SuggestResult<'a> {
    /// Always "themata.themes".
    pub schema: &'static str,
    /// [`THEMES_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The input file as given.
    pub input: &'a str,
    /// Quotes clustered.
    pub n_quotes: usize,
    /// Terms in the vocabulary.
    pub n_terms: usize,
    /// Number of themes.
    pub k: usize,
    /// How k was chosen: every k tried with its mean silhouette, stability, score and inertia.
    pub k_table: &'a [KScore],
    /// The themes, largest first.
    pub themes: &'a [Theme],
}

/// themes.json.
pub fn write_themes_json(out: &mut dyn Write, result: &SuggestResult) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, result)?;
    out.write_all(b"\n")
}

/// themes.csv: one row per theme.
pub fn write_themes_csv(out: &mut dyn Write, themes: &[Theme]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "theme",
        "label",
        "size",
        "cohesion",
        "n_studies",
        "largest_study",
        "largest_study_share",
        "stability_reseeded",
        "stability_leave_one_study_out",
        "top_words",
        "top_phrases",
        "warnings",
    ])?;
    for t in themes {
        w.write_record([
            t.id.to_string(),
            t.label.clone(),
            t.size.to_string(),
            format!("{:.4}", t.cohesion),
            t.n_studies.to_string(),
            t.studies.first().map(|s| s.0.clone()).unwrap_or_default(),
            format!("{:.4}", t.largest_study_share),
            t.stability_reseeded.map(|s| format!("{s:.4}")).unwrap_or_default(),
            t.stability_leave_one_study_out.map(|s| format!("{s:.4}")).unwrap_or_default(),
            t.words.iter().map(|w| w.term.as_str()).collect::<Vec<_>>().join("; "),
            t.phrases.iter().map(|w| w.term.as_str()).collect::<Vec<_>>().join("; "),
            t.warnings.join("; "),
        ])?;
    }
    w.flush()
}

/// assignments.csv: `id, study, theme, score, second_theme`, one row per quote in input order.
pub fn write_assignments_csv(
    out: &mut dyn Write,
    ids: &[&str],
    studies: &[Option<&str>],
    assignments: &[Assignment],
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["id", "study", "theme", "score", "second_theme"])?;
    for ((id, study), a) in ids.iter().zip(studies).zip(assignments) {
        w.write_record([
            id.to_string(),
            study.unwrap_or("").to_string(),
            a.theme.to_string(),
            format!("{:.6}", a.score),
            a.second_theme.map(|t| t.to_string()).unwrap_or_default(),
        ])?;
    }
    w.flush()
}

/// report.md: the themes for people.
pub fn write_report_md(out: &mut dyn Write, result: &SuggestResult) -> io::Result<()> {
    let mut s = String::new();
    let _ = writeln!(s, "# Candidate themes\n");
    let _ = writeln!(
        s,
        "{} quotes from `{}`, {} terms, **{} candidate themes**. These are suggestions from word use, for \
         analysts to confirm against their own reading; check the warnings and the quotes.\n",
        result.n_quotes, result.input, result.n_terms, result.k
    );
    if result.k_table.len() > 1 {
        let _ = writeln!(
            s,
            "k was chosen by the highest silhouette x stability^2 (stability: mean adjusted Rand index between \
                 the k-means restarts; when no k reaches {}, the most stable k):\n\n| k | silhouette | stability | \
                 score | inertia |\n|---|---|---|---|---|",
            crate::cluster::STABLE
        );
        for row in result.k_table {
            let mark = if row.k == result.k { " **chosen**" } else { "" };
            let _ = writeln!(
                s,
                "| {}{mark} | {:.4} | {:.3} | {:.4} | {:.2} |",
                row.k, row.silhouette, row.stability, row.score, row.inertia
            );
        }
        if let Some(warning) = crate::cluster::k_warning(result.k_table) {
            let _ = writeln!(s, "\n**Warning**: {warning}.");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "| theme | label | quotes | studies | largest study | stability | warnings |\n|---|---|---|---|---|---|---|"
    );
    for t in result.themes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.0}% | {} | {} |",
            t.id,
            t.label,
            t.size,
            t.n_studies,
            100.0 * t.largest_study_share,
            super::stability_text(t.stability_reseeded),
            t.warnings.len()
        );
    }
    for t in result.themes {
        let _ = writeln!(s, "\n## Theme {}: {}\n", t.id, t.label);
        let _ = writeln!(
            s,
            "{} quotes from {} studies; cohesion {:.2}; stability {} when reseeded{}.\n",
            t.size,
            t.n_studies,
            t.cohesion,
            super::stability_text(t.stability_reseeded),
            t.stability_leave_one_study_out.map(|x| format!(", {x:.2} leaving one study out")).unwrap_or_default()
        );
        let words: Vec<String> = t.words.iter().map(|w| format!("{} ({})", w.term, w.quotes)).collect();
        let _ = writeln!(s, "- **Words**: {}", words.join(", "));
        if !t.phrases.is_empty() {
            let phrases: Vec<String> = t.phrases.iter().map(|w| format!("{} ({})", w.term, w.quotes)).collect();
            let _ = writeln!(s, "- **Phrases**: {}", phrases.join(", "));
        }
        let studies: Vec<String> = t.studies.iter().map(|(st, n)| format!("{st} ({n})")).collect();
        let _ = writeln!(s, "- **Studies**: {}", studies.join(", "));
        for w in &t.warnings {
            let _ = writeln!(s, "- **Warning**: {w}");
        }
        let _ = writeln!(s, "\nRepresentative quotes:\n");
        for q in &t.quotes {
            let text = q.text.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(
                s,
                "> {text}\n>\n> -- {} ({}, score {:.2})\n",
                q.id,
                q.study.as_deref().unwrap_or("no study"),
                q.score
            );
        }
    }
    out.write_all(s.as_bytes())
}
