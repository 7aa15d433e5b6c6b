//! Reading the two sides of a comparison: the analysts' manual coding (a quote file with a codes column,
//! or a table of `id, code` rows) and the output folder of `themata suggest` (`themes.json` and
//! `assignments.csv`). Errors name the file, record, line and column, as for quote files.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::error::{CorpusError, Position};
use super::read::{QuotesClosed, closest_name, locate_invalid_utf8, map_csv_error};
use super::{Corpus, CorpusOptions, Format, Warning, options_format};

/// One quote as the analysts coded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodedQuote {
    /// The quote's id.
    pub id: String,
    /// Its codes, in the order given (first code first), without repeats; empty when uncoded.
    pub codes: Vec<String>,
    /// Its study, when the file has one.
    pub study: Option<String>,
    /// Its text, when the file is a quote file.
    pub text: Option<String>,
}

/// How a manual coding file is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodingLayout {
    /// A quote file with a codes column (several codes in one cell, split by the code separator).
    QuoteFile,
    /// A table of `id, code` rows, one row per code.
    IdCodeRows,
}

/// The analysts' manual coding.
#[derive(Clone, Debug)]
pub struct ManualCoding {
    /// The file.
    pub path: PathBuf,
    /// Its layout, detected from the header.
    pub layout: CodingLayout,
    /// The quotes in file order (for id,code rows: order of first appearance).
    pub quotes: Vec<CodedQuote>,
    /// What was odd but not fatal.
    pub warnings: Vec<Warning>,
}

/// Reads a manual coding. The layout follows from the header: a codes column (`options.codes_col`) makes
/// it a quote file, read like any other; otherwise a code column (`code_col`) makes it `id, code` rows
/// (the id column is `options.id_col`). JSON Lines files are always quote files.
pub fn read_manual_coding(path: &Path, options: &CorpusOptions, code_col: &str) -> Result<ManualCoding, CorpusError> {
    let format = options_format(path, options)?;
    let as_quote_file = || -> Result<ManualCoding, CorpusError> {
        let corpus = Corpus::load(path, options)?;
        let quotes = corpus
            .quotes
            .into_iter()
            .map(|q| CodedQuote { id: q.id, codes: dedup(q.codes), study: q.study, text: Some(q.text) })
            .collect();
        Ok(ManualCoding {
            path: path.to_path_buf(),
            layout: CodingLayout::QuoteFile,
            quotes,
            warnings: corpus.warnings,
        })
    };
    if format == Format::Jsonl {
        return as_quote_file();
    }
    let mut table = Table::open(path, format)?;
    if table.columns.contains(&options.codes_col.name) {
        return as_quote_file();
    }
    if !table.columns.iter().any(|c| c == code_col) {
        return Err(CorpusError::NoCodes {
            path: path.to_path_buf(),
            codes_col: options.codes_col.name.clone(),
            code_col: code_col.to_string(),
            available: table.columns.clone(),
        });
    }
    let id_col = table.column(&options.id_col.name, "--id-col")?;
    let code = table.column(code_col, "--code-col")?;
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut quotes: Vec<CodedQuote> = Vec::new();
    while let Some(row) = table.next_row()? {
        let id = table.field(&row, id_col)?.trim();
        if id.is_empty() {
            return Err(CorpusError::EmptyId {
                path: path.to_path_buf(),
                pos: row.pos,
                column: table.columns[id_col].clone(),
            });
        }
        let code = table.field(&row, code)?.trim().to_string();
        let slot = *index.entry(id.to_string()).or_insert_with(|| {
            quotes.push(CodedQuote { id: id.to_string(), codes: Vec::new(), study: None, text: None });
            quotes.len() - 1
        });
        // An empty code cell records the quote as uncoded; a repeated code is the same code.
        if !code.is_empty() && !quotes[slot].codes.contains(&code) {
            quotes[slot].codes.push(code);
        }
    }
    Ok(ManualCoding { path: path.to_path_buf(), layout: CodingLayout::IdCodeRows, quotes, warnings: Vec::new() })
}

impl ManualCoding {
    /// Gives quotes without text (id,code rows) the text and study of the same id in `corpus`; returns
    /// how many were filled.
    pub fn fill_texts(&mut self, corpus: &Corpus) -> usize {
        let by_id: HashMap<&str, &super::Quote> = corpus.quotes.iter().map(|q| (q.id.as_str(), q)).collect();
        let mut filled = 0;
        for quote in self.quotes.iter_mut().filter(|q| q.text.is_none()) {
            if let Some(source) = by_id.get(quote.id.as_str()) {
                quote.text = Some(source.text.clone());
                quote.study = quote.study.take().or_else(|| source.study.clone());
                filled += 1;
            }
        }
        filled
    }
}

fn dedup(codes: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(codes.len());
    for code in codes {
        if !out.contains(&code) {
            out.push(code);
        }
    }
    out
}

/// A theme listed in `themes.json`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct SuggestedTheme {
    /// Its number.
    pub id: usize,
    /// Its short label.
    pub label: String,
    /// Its number of quotes.
    pub size: usize,
}

/// One row of `assignments.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct SuggestedQuote {
    /// The quote's id.
    pub id: String,
    /// Its study, when known.
    pub study: Option<String>,
    /// Its theme.
    pub theme: usize,
    /// Its cosine to the theme's centroid.
    pub score: f64,
    /// The next closest theme.
    pub second_theme: Option<usize>,
}

/// The output of one `themata suggest` run, read back.
#[derive(Clone, Debug)]
pub struct Suggestion {
    /// The folder.
    pub dir: PathBuf,
    /// Themes by number.
    pub themes: Vec<SuggestedTheme>,
    /// Quotes in the order of `assignments.csv`.
    pub quotes: Vec<SuggestedQuote>,
}

#[derive(serde::Deserialize)]
struct ThemesDocument {
    schema: String,
    themes: Vec<SuggestedTheme>,
}

/// Reads `themes.json` and `assignments.csv` from a folder written by `themata suggest`.
pub fn read_suggestion(dir: &Path) -> Result<Suggestion, CorpusError> {
    let themes_path = dir.join("themes.json");
    let bytes = std::fs::read(&themes_path).map_err(|source| CorpusError::Io { path: themes_path.clone(), source })?;
    let document: ThemesDocument = serde_json::from_slice(&bytes).map_err(|e| CorpusError::BadDocument {
        path: themes_path.clone(),
        problem: format!("expected the themes.json written by themata suggest: {e}"),
    })?;
    if document.schema != "themata.themes" {
        return Err(CorpusError::BadDocument {
            path: themes_path,
            problem: format!("expected \"schema\": \"themata.themes\", found {:?}", document.schema),
        });
    }
    let mut themes = document.themes;
    themes.sort_by_key(|t| t.id);
    let known = |theme: usize| themes.binary_search_by_key(&theme, |t| t.id).is_ok();
    let theme_range = format!(
        "a theme number listed in themes.json ({})",
        themes.iter().map(|t| t.id.to_string()).collect::<Vec<_>>().join(", ")
    );

    let path = dir.join("assignments.csv");
    let mut table = Table::open(&path, Format::Csv)?;
    let id_col = table.column("id", "assignments.csv")?;
    let theme_col = table.column("theme", "assignments.csv")?;
    let score_col = table.column("score", "assignments.csv")?;
    let study_col = table.columns.iter().position(|c| c == "study");
    let second_col = table.columns.iter().position(|c| c == "second_theme");
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut quotes = Vec::new();
    while let Some(row) = table.next_row()? {
        let bad = |column: usize, expected: &str, found: &str| CorpusError::BadValue {
            path: path.clone(),
            pos: row.pos,
            column: table.columns[column].clone(),
            expected: expected.to_string(),
            found: found.to_string(),
        };
        let id = table.field(&row, id_col)?.to_string();
        if id.is_empty() {
            return Err(CorpusError::EmptyId { path: path.clone(), pos: row.pos, column: "id".to_string() });
        }
        if let Some(&first_line) = seen.get(&id) {
            return Err(CorpusError::DuplicateId { path, pos: row.pos, column: "id".to_string(), id, first_line });
        }
        seen.insert(id.clone(), row.pos.line);
        let text = table.field(&row, theme_col)?;
        let theme =
            text.parse::<usize>().ok().filter(|&t| known(t)).ok_or_else(|| bad(theme_col, &theme_range, text))?;
        let text = table.field(&row, score_col)?;
        let score =
            text.parse::<f64>().ok().filter(|s| s.is_finite()).ok_or_else(|| bad(score_col, "a number", text))?;
        let study = match study_col {
            Some(i) => Some(table.field(&row, i)?).filter(|s| !s.is_empty()).map(str::to_string),
            None => None,
        };
        let second_theme = match second_col {
            Some(i) => match table.field(&row, i)? {
                "" => None,
                text => {
                    Some(text.parse::<usize>().ok().filter(|&t| known(t)).ok_or_else(|| bad(i, &theme_range, text))?)
                }
            },
            None => None,
        };
        quotes.push(SuggestedQuote { id, study, theme, score, second_theme });
    }
    Ok(Suggestion { dir: dir.to_path_buf(), themes, quotes })
}

/// Reads a codebook: a CSV or TSV with columns `code` and `name` (others ignored), one row per code;
/// returns code -> name. Later rows for the same code are an error, as are empty codes.
pub fn read_codebook(path: &Path) -> Result<std::collections::BTreeMap<String, String>, CorpusError> {
    let format = Format::from_path(path).unwrap_or(Format::Csv);
    let mut table = Table::open(path, if format == Format::Tsv { Format::Tsv } else { Format::Csv })?;
    let code_col = table.column("code", "--codebook")?;
    let name_col = table.column("name", "--codebook")?;
    let mut names = std::collections::BTreeMap::new();
    let mut lines: HashMap<String, u64> = HashMap::new();
    while let Some(row) = table.next_row()? {
        let code = table.field(&row, code_col)?.trim().to_string();
        if code.is_empty() {
            return Err(CorpusError::BadValue {
                path: path.to_path_buf(),
                pos: row.pos,
                column: "code".to_string(),
                expected: "a code".to_string(),
                found: String::new(),
            });
        }
        if let Some(&first_line) = lines.get(&code) {
            return Err(CorpusError::BadValue {
                path: path.to_path_buf(),
                pos: row.pos,
                column: "code".to_string(),
                expected: format!("each code once (it is also on line {first_line})"),
                found: code,
            });
        }
        lines.insert(code.clone(), row.pos.line);
        names.insert(code, table.field(&row, name_col)?.trim().to_string());
    }
    Ok(names)
}

/// The report.html of a suggestion folder, for `compare` to extend; `None` when there is none.
pub fn read_report_page(dir: &Path) -> Result<Option<String>, CorpusError> {
    let path = dir.join("report.html");
    match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|e| CorpusError::BadDocument {
            path,
            problem: format!(
                "expected UTF-8 HTML written by themata suggest; invalid UTF-8 at byte {}",
                e.utf8_error().valid_up_to()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CorpusError::Io { path, source }),
    }
}

/// A small delimited table with a header, read record by record with positioned errors.
struct Table {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    columns: Vec<String>,
    n_records: u64,
    quotes_closed: QuotesClosed,
}

struct Row {
    record: csv::ByteRecord,
    pos: Position,
}

impl Table {
    fn open(path: &Path, format: Format) -> Result<Table, CorpusError> {
        let file = File::open(path).map_err(|source| CorpusError::Io { path: path.to_path_buf(), source })?;
        let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(BufReader::new(file));
        let header = reader.byte_headers().map_err(|e| map_csv_error(path, e, 0))?.clone();
        if header.is_empty() {
            return Err(CorpusError::Empty { path: path.to_path_buf() });
        }
        let columns = header
            .iter()
            .enumerate()
            .map(|(i, f)| {
                std::str::from_utf8(f).map(|s| s.trim_start_matches('\u{feff}').to_string()).map_err(|_| {
                    let (byte_offset, error_line) = locate_invalid_utf8(path, 0, 1);
                    CorpusError::InvalidUtf8 {
                        path: path.to_path_buf(),
                        pos: Position { record: 0, line: 1 },
                        column: Some(format!("field {}", i + 1)),
                        byte_offset,
                        error_line,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Table {
            path: path.to_path_buf(),
            reader,
            columns,
            n_records: 0,
            quotes_closed: QuotesClosed::new(delimiter),
        })
    }

    /// The index of a column that must exist.
    fn column(&self, name: &str, option: &'static str) -> Result<usize, CorpusError> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| CorpusError::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            option,
            available: self.columns.clone(),
            suggestion: closest_name(name, &self.columns),
        })
    }

    fn next_row(&mut self) -> Result<Option<Row>, CorpusError> {
        let mut record = csv::ByteRecord::new();
        match self.reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return self.quotes_closed.check(&self.path, &self.columns).map(|()| None),
            Err(e) => return Err(map_csv_error(&self.path, e, self.n_records + 1)),
        }
        self.n_records += 1;
        let line = record.position().map_or(0, |p| p.line());
        if let Some(pos) = record.position() {
            self.quotes_closed.note(pos, self.n_records);
        }
        let pos = Position { record: self.n_records, line };
        Ok(Some(Row { record, pos }))
    }

    /// Field `i` of a row, which must be UTF-8.
    fn field<'r>(&self, row: &'r Row, i: usize) -> Result<&'r str, CorpusError> {
        std::str::from_utf8(&row.record[i]).map_err(|_| {
            let start = row.record.position().map_or(0, |p| p.byte());
            let (byte_offset, error_line) = locate_invalid_utf8(&self.path, start, row.pos.line);
            CorpusError::InvalidUtf8 {
                path: self.path.clone(),
                pos: row.pos,
                column: Some(self.columns[i].clone()),
                byte_offset,
                error_line,
            }
        })
    }
}
