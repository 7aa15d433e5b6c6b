//! `--export-qdc FILE`: the candidate themes as a REFI-QDA codebook (`.qdc`), the exchange format that
//! NVivo, ATLAS.ti, MAXQDA, QualCoder and Taguette import.
//!
//! The document: UTF-8 XML, root `CodeBook` in the namespace `urn:QDA-XML:codebook:1.0` with an `origin`
//! attribute, holding `Codes`. One parent `Code` (not codable) names the run; under it, one `Code` per theme
//! with `guid`, `name`, `isCodable="true"`, `color` (the theme's colour in report.html) and a `Description`
//! (top words and phrases, supporting studies, size, stability, warnings).
//!
//! A code's GUID is derived from the input's SHA-256, the theme's number and its label words, so that
//! exporting the same themes of the same input again gives the same GUIDs (the analyst's tool then sees
//! the same codes, not new ones).

use std::fmt::Write as _;

use sha2::Digest;

use crate::report::html::{escape, theme_color};
use crate::themes::Theme;

/// A UUID (version 8, RFC 9562: application-defined bits) from a SHA-256 of `parts`.
pub fn stable_uuid(parts: &[&str]) -> String {
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let mut b: [u8; 16] = hasher.finalize()[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80; // version 8
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The codebook of a `suggest` run. `input_sha256` identifies the input; `run_name` names the parent code.
pub fn render_qdc(themes: &[Theme], input_sha256: &str, run_name: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\" origin=\"themata {}\">\n<Codes>\n",
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(
        s,
        "<Code guid=\"{}\" name=\"{}\" isCodable=\"false\">\n<Description>{}</Description>\n",
        stable_uuid(&["themata-run", input_sha256]),
        escape(run_name),
        escape(
            "Candidate themes suggested by themata from word use, for analysts to confirm against their own \
             reading. Each code's description lists its top words and phrases and its supporting studies."
        )
    );
    for t in themes {
        let words: Vec<&str> = t.words.iter().map(|w| w.term.as_str()).collect();
        let phrases: Vec<&str> = t.phrases.iter().map(|w| w.term.as_str()).collect();
        let studies: Vec<String> = t.studies.iter().map(|(st, n)| format!("{st} ({n})")).collect();
        let mut description = format!(
            "Top words: {}.{} Supporting studies ({}): {}. {} quotes; stability {} when reseeded.",
            words.join(", "),
            if phrases.is_empty() { String::new() } else { format!(" Top phrases: {}.", phrases.join(", ")) },
            t.n_studies,
            studies.join(", "),
            t.size,
            super::stability_text(t.stability_reseeded)
        );
        for w in &t.warnings {
            description.push_str(&format!(" Warning: {w}."));
        }
        let id = t.id.to_string();
        let keys: Vec<&str> = t.words.iter().take(3).map(|w| w.key.as_str()).collect();
        let mut parts = vec!["themata-theme", input_sha256, id.as_str()];
        parts.extend(keys);
        let _ = writeln!(
            s,
            "<Code guid=\"{}\" name=\"{}\" isCodable=\"true\" color=\"{}\">\n<Description>{}</Description>\n</Code>",
            stable_uuid(&parts),
            escape(&format!("Theme {}: {}", t.id, t.label)),
            theme_color(t.id),
            escape(&description)
        );
    }
    s.push_str("</Code>\n</Codes>\n</CodeBook>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_well_formed_and_distinct() {
        let a = stable_uuid(&["x", "1"]);
        assert_eq!(a, stable_uuid(&["x", "1"]));
        assert_ne!(a, stable_uuid(&["x1", ""]), "parts are length-prefixed");
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
