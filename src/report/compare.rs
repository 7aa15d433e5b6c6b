//! What `themata compare` writes: compare.json, compare.md and disagreements.csv.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::evaluate::{Comparison, DisagreementKind};

/// compare.json: every number of the comparison.
pub fn write_compare_json(out: &mut dyn Write, comparison: &Comparison) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, comparison)?;
    out.write_all(b"\n")
}

/// disagreements.csv: every quote to re-read, one row per (reason, quote).
pub fn write_disagreements_csv(out: &mut dyn Write, comparison: &Comparison) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "kind",
        "theme",
        "code",
        "id",
        "study",
        "assigned_theme",
        "score",
        "second_theme",
        "codes",
        "text",
    ])?;
    for d in &comparison.disagreements {
        w.write_record([
            d.kind.as_str(),
            &d.theme.map(|t| t.to_string()).unwrap_or_default(),
            d.code.as_deref().unwrap_or(""),
            &d.id,
            d.study.as_deref().unwrap_or(""),
            &d.assigned_theme.to_string(),
            &format!("{:.6}", d.score),
            &d.second_theme.map(|t| t.to_string()).unwrap_or_default(),
            &d.codes.join(";"),
            d.text.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()
}

/// A value that may be undefined, to three places.
pub(crate) fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "undefined".to_string(), |v| format!("{v:.3}"))
}

/// The agreement measures, each with its value and how to read it (compare.md and report.html).
pub(crate) fn agreement_rows(c: &Comparison) -> [(&'static str, String, &'static str); 8] {
    [
        ("Adjusted Rand index", format!("{:.3}", c.ari), "pairs of quotes grouped alike; 0 is chance, 1 identical"),
        ("Normalised mutual information", format!("{:.3}", c.nmi), "shared information, 0 to 1"),
        ("Adjusted mutual information", format!("{:.3}", c.ami), "the same, corrected for chance"),
        ("V-measure", format!("{:.3}", c.v_measure), "harmonic mean of homogeneity and completeness"),
        ("Fowlkes-Mallows", format!("{:.3}", c.fowlkes_mallows), "pairwise precision and recall"),
        ("Purity", format!("{:.3}", c.purity), "share of quotes in their theme's most common code"),
        ("Inverse purity", format!("{:.3}", c.inverse_purity), "share of quotes in their code's most common theme"),
        (
            "Krippendorff's alpha (nominal)",
            opt(c.krippendorff_alpha),
            "themata as one more coder; 0.667 is the usual floor for tentative conclusions",
        ),
    ]
}

/// The agreement summary printed by `themata compare`.
pub fn compare_summary(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} quotes compared ({} themes, {} codes; {}); {} only in the suggestion, {} only in the manual coding, \
         {} uncoded",
        c.n_compared,
        c.n_themes,
        c.n_codes,
        c.label_view,
        c.only_suggested.len(),
        c.only_manual.len(),
        c.uncoded.len()
    );
    let _ = writeln!(
        s,
        "agreement: ARI {:.3}  NMI {:.3}  AMI {:.3}  V-measure {:.3}  Fowlkes-Mallows {:.3}  purity {:.3}  \
         inverse purity {:.3}  Krippendorff's alpha {}",
        c.ari,
        c.nmi,
        c.ami,
        c.v_measure,
        c.fowlkes_mallows,
        c.purity,
        c.inverse_purity,
        opt(c.krippendorff_alpha)
    );
    let _ = writeln!(s, "matched themes and codes (one to one, by overlap):");
    for p in &c.pairs {
        let _ = writeln!(
            s,
            "  theme {:>2} {:<32} overlap {:>4}  precision {:.2}  recall {:.2}  F1 {:.2}  kappa {:<9} <-> {}",
            p.theme,
            p.label,
            p.overlap,
            p.precision,
            p.recall,
            p.f1,
            opt(p.kappa),
            c.named(&p.code)
        );
    }
    for u in &c.unmatched_themes {
        let _ = writeln!(
            s,
            "  theme {:>2} {:<32} {:>4} quotes <-> no code: a candidate new theme",
            u.theme, u.label, u.size
        );
    }
    for u in &c.unmatched_codes {
        let _ = writeln!(
            s,
            "  no theme {:<32} {:>4} quotes <-> {}: the words did not reveal it",
            "",
            u.size,
            c.named(&u.code)
        );
    }
    s
}

/// How many disagreeing quotes compare.md shows per group (disagreements.csv has them all).
const SHOWN_PER_GROUP: usize = 5;

/// compare.md: the comparison for people.
pub fn write_compare_md(out: &mut dyn Write, c: &Comparison) -> io::Result<()> {
    let mut s = String::new();
    let _ = writeln!(s, "# Candidate themes against the manual synthesis\n");
    let _ = writeln!(
        s,
        "Themes from `{}` against the analysts' codes in `{}`. {} quotes are on both sides and coded; every \
         number is over them. The partition metrics (first table) are **{}**; the matching \
         below counts every code a quote carries.\n",
        c.suggested, c.manual, c.n_compared, c.label_view
    );
    let only = |label: &str, ids: &[String]| -> String {
        if ids.is_empty() {
            return String::new();
        }
        let shown: Vec<&str> = ids.iter().take(20).map(String::as_str).collect();
        let more = if ids.len() > 20 { format!(" and {} more", ids.len() - 20) } else { String::new() };
        format!("- {} {label}: {}{more}\n", ids.len(), shown.join(", "))
    };
    s.push_str(&only("quotes only in the suggestion", &c.only_suggested));
    s.push_str(&only("quotes only in the manual coding", &c.only_manual));
    s.push_str(&only("quotes left uncoded by the analysts", &c.uncoded));
    let _ = writeln!(s, "\n## Agreement\n\n| measure | value | reads as |\n|---|---|---|");
    for (name, value, meaning) in agreement_rows(c) {
        let _ = writeln!(s, "| {name} | {value} | {meaning} |");
    }
    let _ = writeln!(
        s,
        "\n## Themes matched to codes\n\nOne to one, by maximum total overlap (Hungarian assignment).\n\n\
         | theme | label | code | overlap | precision | recall | F1 | kappa |\n|---|---|---|---|---|---|---|---|"
    );
    for p in &c.pairs {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} |",
            p.theme,
            p.label,
            c.named(&p.code),
            p.overlap,
            p.precision,
            p.recall,
            p.f1,
            opt(p.kappa)
        );
    }
    if !c.unmatched_themes.is_empty() {
        let _ = writeln!(s, "\n## Themes with no code: candidate new themes\n");
        for u in &c.unmatched_themes {
            let most = u
                .most_common_code
                .as_ref()
                .map(|(code, n)| format!("; most common code {} ({n} quotes, matched elsewhere)", c.named(code)))
                .unwrap_or_default();
            let _ = writeln!(s, "- Theme {} ({}): {} quotes{most}", u.theme, u.label, u.size);
        }
    }
    if !c.unmatched_codes.is_empty() {
        let _ = writeln!(s, "\n## Codes with no theme: what the words did not reveal\n");
        for u in &c.unmatched_codes {
            let most = u
                .most_common_theme
                .map(|(t, n)| format!("; most of its quotes are in theme {t} ({n})"))
                .unwrap_or_default();
            let _ = writeln!(s, "- {}: {} quotes{most}", c.named(&u.code), u.size);
        }
    }
    let _ = writeln!(
        s,
        "\n## Quotes to re-read\n\nMost confident machine choices first (score: cosine to the theme's centroid). \
         At most {SHOWN_PER_GROUP} per group here; `disagreements.csv` lists all {}.",
        c.disagreements.len()
    );
    let mut start = 0;
    while start < c.disagreements.len() {
        let first = &c.disagreements[start];
        let end = start
            + c.disagreements[start..]
                .iter()
                .take_while(|d| d.kind == first.kind && d.theme == first.theme && d.code == first.code)
                .count();
        let code = first.code.as_deref().map(|code| c.named(code)).unwrap_or_default();
        let heading = match first.kind {
            DisagreementKind::InThemeNotCoded => {
                format!("In theme {} but not coded {code}", first.theme.unwrap_or(0))
            }
            DisagreementKind::CodedNotInTheme => {
                format!("Coded {code} but not in theme {}", first.theme.unwrap_or(0))
            }
            DisagreementKind::UnmatchedTheme => format!("In theme {}, which matches no code", first.theme.unwrap_or(0)),
            DisagreementKind::UnmatchedCode => format!("Coded {code}, which matches no theme"),
        };
        let _ = writeln!(s, "\n### {heading} ({} quotes)\n", end - start);
        for d in &c.disagreements[start..end.min(start + SHOWN_PER_GROUP)] {
            let text =
                d.text.as_deref().map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
            let _ = writeln!(
                s,
                "- **{}** ({}; theme {}, score {:.2}; codes {}) {text}",
                d.id,
                d.study.as_deref().unwrap_or("no study"),
                d.assigned_theme,
                d.score,
                d.codes.join(", ")
            );
        }
        start = end;
    }
    out.write_all(s.as_bytes())
}
