//! Errors of the `corpus` stage: every one names the file and, where it has one, the place in it.

use std::path::PathBuf;

/// Where a quote sits in its file.
///
/// `record` counts data rows from 1 (the header is not a record); `line` is the physical line, from 1,
/// on which the record starts (a quoted field with embedded newlines makes them differ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// Data record number, from 1.
    pub record: u64,
    /// Physical line on which the record starts, from 1.
    pub line: u64,
}

/// Everything that can go wrong while reading a quote file.
///
/// Messages are lowercase, carry the offending values, and start with the file's path, so that the CLI
/// can print them as they are.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file could not be opened or read.
    #[error("{}: cannot read the file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The format could not be chosen from the file name.
    #[error(
        "{}: cannot tell the format from the file name; expected an extension .csv, .tsv, .tab, .jsonl or .ndjson, or give --format csv|tsv|jsonl",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },

    /// The file has no header row (it is empty).
    #[error("{}: the file is empty; expected a header row naming the columns", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// A column that must exist is not in the header.
    #[error(
        "{}: line 1: no column named {column:?} (given by {option}); the columns are: {}{}",
        path.display(),
        list_names(available),
        suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default()
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was asked for.
        column: String,
        /// The command-line option that names it, such as `--text-col`.
        option: &'static str,
        /// The columns the header has.
        available: Vec<String>,
        /// The closest existing name, if one is close.
        suggestion: Option<String>,
    },

    /// The header names the same column twice.
    #[error("{}: line 1: the header names column {column:?} twice (fields {first} and {second})", path.display())]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The repeated name.
        column: String,
        /// 1-based field numbers of both occurrences.
        first: usize,
        /// 1-based field number of the second occurrence.
        second: usize,
    },

    /// A row has more or fewer fields than the header.
    #[error(
        "{}: record {} (line {}): expected {expected} fields, as in the header, but found {found}",
        path.display(), pos.record, pos.line
    )]
    Ragged {
        /// The file.
        path: PathBuf,
        /// The offending record.
        pos: Position,
        /// Number of fields in the header.
        expected: u64,
        /// Number of fields in this record.
        found: u64,
    },

    /// A quoted field opens and never closes: the rest of the file would be one field.
    #[error(
        "{}: record {} (line {}, column {column:?}): the quoted field that opens on line {open_line} never closes, so the rest of the file would be read as this one field; expected a closing quote (a quote inside a quoted field is written twice: \"\")",
        path.display(), pos.record, pos.line
    )]
    UnterminatedQuote {
        /// The file.
        path: PathBuf,
        /// The record holding the field.
        pos: Position,
        /// The column of the field.
        column: String,
        /// The line on which the field's opening quote stands.
        open_line: u64,
    },

    /// Bytes that are not UTF-8.
    #[error(
        "{}: record {} (line {}{}): invalid UTF-8 at byte offset {byte_offset} of the file (line {error_line}); expected UTF-8 text (re-export the file as UTF-8)",
        path.display(), pos.record, pos.line, column.as_ref().map(|c| format!(", column {c:?}")).unwrap_or_default()
    )]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// The record holding the bad bytes (record 0 is the header).
        pos: Position,
        /// The column holding the bad bytes, when known (JSON Lines: not parsed yet).
        column: Option<String>,
        /// 0-based byte offset of the first invalid byte in the file.
        byte_offset: u64,
        /// Line of the first invalid byte (may differ from `pos.line` inside a multi-line field).
        error_line: u64,
    },

    /// Two records share a quote id.
    #[error(
        "{}: record {} (line {}, column {column:?}): duplicate quote id {id:?}; it is also on line {first_line}; expected every id to be unique",
        path.display(), pos.record, pos.line
    )]
    DuplicateId {
        /// The file.
        path: PathBuf,
        /// The second record with that id.
        pos: Position,
        /// The id column's name.
        column: String,
        /// The repeated id.
        id: String,
        /// Line of the first record with that id.
        first_line: u64,
    },

    /// An empty id, which could not be told apart from a missing one.
    #[error(
        "{}: record {} (line {}, column {column:?}): the quote id is empty; expected a non-empty id",
        path.display(), pos.record, pos.line
    )]
    EmptyId {
        /// The file.
        path: PathBuf,
        /// The record.
        pos: Position,
        /// The id column's name.
        column: String,
    },

    /// Empty or whitespace-only text under `--strict`.
    #[error(
        "{}: record {} (line {}, column {column:?}): the text of quote {id:?} is empty or only whitespace; expected text (without --strict such rows are skipped with a warning)",
        path.display(), pos.record, pos.line
    )]
    EmptyText {
        /// The file.
        path: PathBuf,
        /// The record.
        pos: Position,
        /// The text column's name.
        column: String,
        /// The quote's id.
        id: String,
    },

    /// A JSON Lines line that is not valid JSON.
    #[error("{}: line {line}, column {column}: invalid JSON: {message}", path.display())]
    JsonSyntax {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// 1-based character column reported by the JSON parser.
        column: u64,
        /// The parser's message.
        message: String,
    },

    /// A JSON Lines line that is valid JSON but not an object.
    #[error("{}: line {line}: expected a JSON object such as {{\"text\": \"...\"}}, found {found}", path.display())]
    JsonNotObject {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// The kind of JSON value found.
        found: &'static str,
    },

    /// A JSON Lines object without a field that must be there, or with a field of the wrong type.
    #[error("{}: line {line}: field {field:?} {problem}", path.display())]
    JsonField {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// The field.
        field: String,
        /// What is wrong, such as "is missing; expected a string".
        problem: String,
    },

    /// A field whose value is not what the column must hold.
    #[error(
        "{}: record {} (line {}), column {column:?}: expected {expected}, found {found:?}",
        path.display(), pos.record, pos.line
    )]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The record.
        pos: Position,
        /// The column.
        column: String,
        /// What the column must hold, such as "a theme number".
        expected: String,
        /// The value found.
        found: String,
    },

    /// A manual coding file with neither a codes column nor a code column.
    #[error(
        "{}: line 1: no column of codes; expected a quote file with a column {codes_col:?} (--codes-col; codes \
         separated by --code-sep) or a table of id,code rows with a column {code_col:?} (--code-col); the \
         columns are: {}",
        path.display(),
        list_names(available)
    )]
    NoCodes {
        /// The file.
        path: PathBuf,
        /// The codes column of a quote file.
        codes_col: String,
        /// The code column of an id,code table.
        code_col: String,
        /// The columns the header has.
        available: Vec<String>,
    },

    /// A file that themata wrote, read back, does not have the expected structure.
    #[error("{}: {problem}", path.display())]
    BadDocument {
        /// The file.
        path: PathBuf,
        /// What is wrong and what was expected.
        problem: String,
    },

    /// Any other CSV syntax problem reported by the CSV parser.
    #[error("{}: line {line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// The parser's message.
        message: String,
    },
}

fn list_names(names: &[String]) -> String {
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}
