//! The `report` stage: renders results for people (text, Markdown) and scripts (JSON, JSON Lines), and
//! is the only stage that writes files. Every file is written atomically: to a temporary file in the
//! destination's folder, then renamed, so a failed run never leaves half a file behind.

mod inspect;
mod tokens;

use std::io::{self, BufWriter, Write};
use std::path::Path;

pub use inspect::InspectReport;
pub use tokens::write_token_line;

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
