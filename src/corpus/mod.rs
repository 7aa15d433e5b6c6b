//! The `corpus` stage: read quotes from CSV, TSV or JSON Lines, with errors that say where and what.
//!
//! This is the only stage that reads input files. [`QuoteReader`] streams quotes one at a time (so that
//! `themata inspect` runs in bounded memory on files of any size); [`Corpus::load`] collects them.
//!
//! ```
//! use themata::corpus::{Corpus, CorpusOptions};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("quotes.csv");
//! std::fs::write(&path, "id,study,text,codes\nq1,S1,\"Helping others, helps me.\",A2;B2\n").unwrap();
//! let corpus = Corpus::load(&path, &CorpusOptions::default()).unwrap();
//! assert_eq!(corpus.quotes[0].codes, ["A2", "B2"]);
//! ```

mod coding;
mod error;
mod read;
mod stats;
mod str_list;

use std::path::{Path, PathBuf};

pub use coding::{
    CodedQuote, CodingLayout, ManualCoding, SuggestedQuote, SuggestedTheme, Suggestion, read_codebook,
    read_manual_coding, read_report_page, read_suggestion,
};
pub use error::{CorpusError, Position};
pub use read::QuoteReader;
pub use stats::{CorpusStats, Distribution};
pub use str_list::StrList;

/// The file formats themata reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180 quoting). Extension `.csv`.
    Csv,
    /// Tab-separated values with a header row (same quoting rules as CSV). Extensions `.tsv`, `.tab`.
    Tsv,
    /// JSON Lines: one JSON object per line. Extensions `.jsonl`, `.ndjson`.
    Jsonl,
}

impl Format {
    /// Chooses the format from the file's extension, case-insensitively.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// A column name, and whether the user named it (a named column must exist; a default may be absent).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ColumnSpec {
    /// The column's name in the header (or the field's key in JSON Lines).
    pub name: String,
    /// True when the user gave the name explicitly.
    pub explicit: bool,
}

impl ColumnSpec {
    /// A default column name, used only if the file has it.
    pub fn default_name(name: &str) -> ColumnSpec {
        ColumnSpec { name: name.to_string(), explicit: false }
    }

    /// A column the user named: it must exist.
    pub fn explicit(name: &str) -> ColumnSpec {
        ColumnSpec { name: name.to_string(), explicit: true }
    }
}

/// How to read a quote file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CorpusOptions {
    /// The format, or `None` to choose it from the extension. Default: `None`.
    pub format: Option<Format>,
    /// The quote text. It must exist. Default: `text`.
    pub text_col: ColumnSpec,
    /// The quote id; if the default column is absent, the 1-based record number is the id. Default: `id`.
    pub id_col: ColumnSpec,
    /// The study a quote comes from; used when present. Default: `study`.
    pub study_col: ColumnSpec,
    /// The analysts' codes; used when present. Default: `codes`.
    pub codes_col: ColumnSpec,
    /// Separator between several codes in one cell (surrounding whitespace is trimmed). Default: `;`.
    pub code_sep: String,
    /// Make empty or whitespace-only text an error instead of a warning. Default: `false`.
    pub strict: bool,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            format: None,
            text_col: ColumnSpec::default_name("text"),
            id_col: ColumnSpec::default_name("id"),
            study_col: ColumnSpec::default_name("study"),
            codes_col: ColumnSpec::default_name("codes"),
            code_sep: ";".to_string(),
            strict: false,
        }
    }
}

/// One extracted quote.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Quote {
    /// The quote's id: the id column's value, or the record number when the file has no id column.
    pub id: String,
    /// The study it comes from, when the file has a study column.
    pub study: Option<String>,
    /// The quote itself, exactly as in the file.
    pub text: String,
    /// The analysts' codes, in the order given, empty when uncoded.
    pub codes: Vec<String>,
    /// Values of the other columns, aligned with [`Schema::metadata`] (missing JSON keys are empty).
    pub metadata: Vec<String>,
    /// Where the quote is in the file.
    pub position: Position,
}

/// The columns a file turned out to have.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Schema {
    /// Every column of the header, in order (JSON Lines: keys in order of first appearance).
    pub columns: Vec<String>,
    /// The text column.
    pub text: String,
    /// The id column, or `None` when ids are record numbers.
    pub id: Option<String>,
    /// The study column, if used.
    pub study: Option<String>,
    /// The codes column, if used.
    pub codes: Option<String>,
    /// The remaining columns, kept as metadata.
    pub metadata: Vec<String>,
}

/// Something odd in the input that does not stop the run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// Rows skipped because their text is empty or only whitespace.
    EmptyText {
        /// The skipped quotes' ids, in file order.
        ids: Vec<String>,
        /// Their lines.
        lines: Vec<u64>,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::EmptyText { ids, lines } => {
                const SHOWN: usize = 20;
                let listed: Vec<String> =
                    ids.iter().zip(lines).take(SHOWN).map(|(id, line)| format!("{id} (line {line})")).collect();
                let more = ids.len().saturating_sub(SHOWN);
                write!(
                    f,
                    "skipped {} quote(s) with empty or whitespace-only text: {}{}",
                    ids.len(),
                    listed.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                )
            }
        }
    }
}

/// A whole quote file in memory.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its columns.
    pub schema: Schema,
    /// The quotes, in file order, without skipped rows.
    pub quotes: Vec<Quote>,
    /// What was odd but not fatal.
    pub warnings: Vec<Warning>,
}

impl Corpus {
    /// Reads a whole quote file.
    pub fn load(path: &Path, options: &CorpusOptions) -> Result<Corpus, CorpusError> {
        let mut reader = QuoteReader::open(path, options)?;
        let mut quotes = Vec::new();
        for quote in reader.by_ref() {
            quotes.push(quote?);
        }
        let (schema, warnings) = reader.finish();
        Ok(Corpus { path: path.to_path_buf(), format: options_format(path, options)?, schema, quotes, warnings })
    }

    /// The quotes' texts, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.quotes.iter().map(|q| q.text.as_str()).collect()
    }
}

pub(crate) fn options_format(path: &Path, options: &CorpusOptions) -> Result<Format, CorpusError> {
    options
        .format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| CorpusError::UnknownFormat { path: path.to_path_buf() })
}

/// Reads a word list file (stop words, keep words): words separated by whitespace, `#` to the end of a
/// line is a comment. The file must be UTF-8.
pub fn read_word_list(path: &Path) -> Result<Vec<String>, CorpusError> {
    let bytes = std::fs::read(path).map_err(|source| CorpusError::Io { path: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        CorpusError::InvalidUtf8 {
            path: path.to_path_buf(),
            pos: Position { record: 0, line: 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64 },
            column: None,
            byte_offset: valid.len() as u64,
            error_line: 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64,
        }
    })?;
    Ok(crate::tokenize::parse_word_list(&text))
}

/// SHA-256 of a file, in lowercase hex, and its size in bytes (for the audit trail).
pub fn file_sha256(path: &Path) -> Result<(String, u64), CorpusError> {
    use sha2::Digest;
    use std::io::Read;
    let io = |source| CorpusError::Io { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(), total))
}
