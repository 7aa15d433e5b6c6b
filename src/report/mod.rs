//! The `report` stage: renders results for people (text, Markdown) and scripts (JSON, JSON Lines), and
//! is the only stage that writes files. Every file is written atomically: to a temporary file in the
//! destination's folder, then renamed, so a failed run never leaves half a file behind.

pub(crate) mod compare;
mod html;
mod inspect;
mod qdc;
mod suggest;
mod tokens;
mod vectors;

use std::io::{self, BufWriter, Write};
use std::path::Path;

pub use compare::{compare_summary, write_compare_json, write_compare_md, write_disagreements_csv};
pub use html::{HtmlReport, escape, insert_comparison, render_comparison_html, render_report_html, theme_color};
pub use inspect::InspectReport;
pub use qdc::{render_qdc, stable_uuid};
pub use suggest::{
    SuggestResult, THEMES_SCHEMA_VERSION, write_assignments_csv, write_report_md, write_themes_csv, write_themes_json,
};
pub use tokens::write_token_line;
pub use vectors::{write_docs_tsv, write_matrix_market, write_vocab_tsv};

/// A theme's reseeded stability for people: two decimals, or "not measured" (`--stability-runs 0`).
pub fn stability_text(stability: Option<f64>) -> String {
    stability.map_or_else(|| "not measured".to_string(), |s| format!("{s:.2}"))
}

/// Writes a file atomically: `write` fills a temporary file beside `path`, which is renamed over `path`
/// only if `write` succeeds. On error the temporary file is removed and `path` is untouched.
pub fn write_atomic<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new().prefix(".themata-").suffix(".tmp").tempfile_in(dir)?;
    let mut out = BufWriter::new(temp);
    write(&mut out)?;
    let temp = out.into_inner().map_err(|e| e.into_error())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A folder of outputs written all or nothing: files are staged in a temporary folder beside the
/// destination and moved into it only by [`OutputDir::commit`]; dropped uncommitted, nothing appears.
pub struct OutputDir {
    dir: std::path::PathBuf,
    staging: tempfile::TempDir,
    files: Vec<String>,
}

impl OutputDir {
    /// Prepares to write into `dir` (created on commit if missing).
    pub fn new(dir: &Path) -> io::Result<OutputDir> {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)?;
        let staging = tempfile::Builder::new().prefix(".themata-staging-").tempdir_in(&parent)?;
        Ok(OutputDir { dir: dir.to_path_buf(), staging, files: Vec::new() })
    }

    /// Stages one file.
    pub fn write<F>(&mut self, name: &str, write: F) -> io::Result<()>
    where
        F: FnOnce(&mut dyn Write) -> io::Result<()>,
    {
        let file = std::fs::File::create(self.staging.path().join(name))?;
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        self.files.push(name.to_string());
        Ok(())
    }

    /// Moves every staged file into the destination folder (each move is an atomic rename).
    pub fn commit(self) -> io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(&self.dir)?;
        let mut written = Vec::new();
        for name in &self.files {
            let target = self.dir.join(name);
            std::fs::rename(self.staging.path().join(name), &target)?;
            written.push(target);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let result = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic(&path, |w| w.write_all(b"whole")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
