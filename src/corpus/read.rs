//! Streaming readers for CSV, TSV and JSON Lines quote files.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::error::{CorpusError, Position};
use super::{ColumnSpec, CorpusOptions, Format, Quote, Schema, Warning, options_format};

const BUFFER_BYTES: usize = 1 << 16;

/// Reads quotes one at a time, validating as it goes.
///
/// It yields `Err` at most once, then stops. Rows with empty text are skipped (or, under `strict`, are an
/// error); [`QuoteReader::finish`] returns the schema and the warnings gathered on the way. Memory grows
/// only with the number of distinct ids (16 bytes of hash and a line number each), never with text.
pub struct QuoteReader {
    path: PathBuf,
    source: Source,
    schema: Schema,
    code_sep: String,
    strict: bool,
    /// 128-bit hash of each id seen, with the line it was first seen on. A hash, not the string, keeps
    /// memory small on huge files; at 128 bits a false "duplicate" is out of reach (about 2^-64 at 10^9 ids).
    seen_ids: HashMap<u128, u64, rustc_hash::FxBuildHasher>,
    n_records: u64,
    empty_ids: Vec<String>,
    empty_lines: Vec<u64>,
    done: bool,
}

enum Source {
    Delimited {
        reader: csv::Reader<BufReader<File>>,
        record: csv::ByteRecord,
        index: ColumnIndex,
        quotes_closed: QuotesClosed,
    },
    Jsonl {
        lines: BufReader<File>,
        buf: Vec<u8>,
        line: u64,
        byte_offset: u64,
        keys: JsonKeys,
    },
}

/// Field positions of the roles in a delimited file.
struct ColumnIndex {
    text: usize,
    id: Option<usize>,
    study: Option<usize>,
    codes: Option<usize>,
    metadata: Vec<usize>,
}

/// Field names of the roles in a JSON Lines file, and whether each must be present.
struct JsonKeys {
    text: String,
    id: ColumnSpec,
    study: ColumnSpec,
    codes: ColumnSpec,
}

impl QuoteReader {
    /// Opens a quote file and reads its header (for CSV and TSV), checking that the named columns exist.
    pub fn open(path: &Path, options: &CorpusOptions) -> Result<QuoteReader, CorpusError> {
        let format = options_format(path, options)?;
        let file = File::open(path).map_err(|source| CorpusError::Io { path: path.to_path_buf(), source })?;
        let mut schema = Schema::default();
        let source = match format {
            Format::Csv | Format::Tsv => {
                let delimiter = if format == Format::Csv { b',' } else { b'\t' };
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .has_headers(true)
                    .flexible(false)
                    .from_reader(BufReader::with_capacity(BUFFER_BYTES, file));
                let header = reader.byte_headers().map_err(|e| map_csv_error(path, e, 0))?.clone();
                if header.is_empty() {
                    return Err(CorpusError::Empty { path: path.to_path_buf() });
                }
                let mut columns = Vec::with_capacity(header.len());
                for (i, field) in header.iter().enumerate() {
                    let name = std::str::from_utf8(field).map_err(|_| {
                        invalid_utf8(path, Position { record: 0, line: 1 }, Some(format!("field {}", i + 1)), 0)
                    })?;
                    if let Some(first) = columns.iter().position(|c| c == name) {
                        return Err(CorpusError::DuplicateColumn {
                            path: path.to_path_buf(),
                            column: name.to_string(),
                            first: first + 1,
                            second: i + 1,
                        });
                    }
                    columns.push(name.to_string());
                }
                let index = resolve_columns(path, &columns, options)?;
                schema.text = columns[index.text].clone();
                schema.id = index.id.map(|i| columns[i].clone());
                schema.study = index.study.map(|i| columns[i].clone());
                schema.codes = index.codes.map(|i| columns[i].clone());
                schema.metadata = index.metadata.iter().map(|&i| columns[i].clone()).collect();
                schema.columns = columns;
                Source::Delimited {
                    reader,
                    record: csv::ByteRecord::new(),
                    index,
                    quotes_closed: QuotesClosed::new(delimiter),
                }
            }
            Format::Jsonl => {
                schema.text = options.text_col.name.clone();
                Source::Jsonl {
                    lines: BufReader::with_capacity(BUFFER_BYTES, file),
                    buf: Vec::new(),
                    line: 0,
                    byte_offset: 0,
                    keys: JsonKeys {
                        text: options.text_col.name.clone(),
                        id: options.id_col.clone(),
                        study: options.study_col.clone(),
                        codes: options.codes_col.clone(),
                    },
                }
            }
        };
        Ok(QuoteReader {
            path: path.to_path_buf(),
            source,
            schema,
            code_sep: options.code_sep.clone(),
            strict: options.strict,
            seen_ids: HashMap::default(),
            n_records: 0,
            empty_ids: Vec::new(),
            empty_lines: Vec::new(),
            done: false,
        })
    }

    /// The columns known so far (for JSON Lines, the keys seen so far).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Ends reading and returns the schema and the warnings.
    pub fn finish(self) -> (Schema, Vec<Warning>) {
        let mut warnings = Vec::new();
        if !self.empty_ids.is_empty() {
            warnings.push(Warning::EmptyText { ids: self.empty_ids, lines: self.empty_lines });
        }
        (self.schema, warnings)
    }

    /// Reads the next raw record; `Ok(None)` at the end of the file.
    fn next_raw(&mut self) -> Result<Option<Quote>, CorpusError> {
        let record_no = self.n_records + 1;
        let path = self.path.as_path();
        let quote = match &mut self.source {
            Source::Delimited { reader, record, index, quotes_closed } => {
                match reader.read_byte_record(record) {
                    Ok(true) => {}
                    Ok(false) => return quotes_closed.check(path, &self.schema.columns).map(|()| None),
                    Err(e) => return Err(map_csv_error(path, e, record_no)),
                }
                let csv_pos = record.position().expect("csv records carry their position");
                quotes_closed.note(csv_pos, record_no);
                let pos = Position { record: record_no, line: csv_pos.line() };
                let field = |i: usize| -> Result<&str, CorpusError> {
                    std::str::from_utf8(&record[i]).map_err(|_| {
                        let (byte_offset, error_line) = locate_invalid_utf8(path, csv_pos.byte(), csv_pos.line());
                        CorpusError::InvalidUtf8 {
                            path: path.to_path_buf(),
                            pos,
                            column: Some(self.schema.columns[i].clone()),
                            byte_offset,
                            error_line,
                        }
                    })
                };
                let text = field(index.text)?.to_string();
                let id = match index.id {
                    Some(i) => field(i)?.to_string(),
                    None => record_no.to_string(),
                };
                let study = index.study.map(field).transpose()?.map(str::to_string);
                let codes = match index.codes {
                    Some(i) => split_codes(field(i)?, &self.code_sep),
                    None => Vec::new(),
                };
                let metadata =
                    index.metadata.iter().map(|&i| field(i).map(str::to_string)).collect::<Result<_, _>>()?;
                Quote { id, study, text, codes, metadata, position: pos }
            }
            Source::Jsonl { lines, buf, line, byte_offset, keys } => loop {
                // The line is parsed where it lies in the read buffer; only a line that straddles two
                // fills is copied into `buf` first.
                let io = |source| CorpusError::Io { path: path.to_path_buf(), source };
                buf.clear();
                let (n, in_place) = loop {
                    let available = lines.fill_buf().map_err(io)?;
                    if available.is_empty() {
                        break (buf.len(), false);
                    }
                    match memchr::memchr(b'\n', available) {
                        Some(end) if buf.is_empty() => break (end + 1, true),
                        Some(end) => {
                            buf.extend_from_slice(&available[..=end]);
                            lines.consume(end + 1);
                            break (buf.len(), false);
                        }
                        None => {
                            let all = available.len();
                            buf.extend_from_slice(available);
                            lines.consume(all);
                        }
                    }
                };
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                let line_start = *byte_offset;
                *byte_offset += n as u64;
                let mut bytes = if in_place { &lines.buffer()[..n] } else { buf.as_slice() };
                if *line == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                    bytes = &bytes[3..];
                }
                let parsed = match std::str::from_utf8(bytes) {
                    Err(e) => Err(invalid_utf8(
                        path,
                        Position { record: record_no, line: *line },
                        None,
                        line_start + (n - bytes.len()) as u64 + e.valid_up_to() as u64,
                    )),
                    Ok(text) if text.trim().is_empty() => Ok(None),
                    Ok(text) => {
                        parse_json_quote(path, text, *line, record_no, keys, &self.code_sep, &mut self.schema).map(Some)
                    }
                };
                if in_place {
                    lines.consume(n);
                }
                if let Some(quote) = parsed? {
                    break quote;
                }
            },
        };
        Ok(Some(quote))
    }

    fn next_quote(&mut self) -> Result<Option<Quote>, CorpusError> {
        loop {
            let Some(quote) = self.next_raw()? else { return Ok(None) };
            self.n_records += 1;
            let id_column = || self.schema.id.clone().unwrap_or_else(|| "(record number)".to_string());
            if quote.id.trim().is_empty() {
                return Err(CorpusError::EmptyId { path: self.path.clone(), pos: quote.position, column: id_column() });
            }
            match self.seen_ids.entry(id_hash(&quote.id)) {
                Entry::Occupied(first) => {
                    return Err(CorpusError::DuplicateId {
                        path: self.path.clone(),
                        pos: quote.position,
                        column: id_column(),
                        id: quote.id,
                        first_line: *first.get(),
                    });
                }
                Entry::Vacant(slot) => {
                    slot.insert(quote.position.line);
                }
            }
            if quote.text.trim().is_empty() {
                if self.strict {
                    return Err(CorpusError::EmptyText {
                        path: self.path.clone(),
                        pos: quote.position,
                        column: self.schema.text.clone(),
                        id: quote.id,
                    });
                }
                self.empty_ids.push(quote.id);
                self.empty_lines.push(quote.position.line);
                continue;
            }
            return Ok(Some(quote));
        }
    }
}

impl Iterator for QuoteReader {
    type Item = Result<Quote, CorpusError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_quote() {
            Ok(Some(quote)) => Some(Ok(quote)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Finds each role's column in the header; a column the user named must exist.
fn resolve_columns(path: &Path, columns: &[String], options: &CorpusOptions) -> Result<ColumnIndex, CorpusError> {
    let find = |spec: &ColumnSpec, option: &'static str, required: bool| -> Result<Option<usize>, CorpusError> {
        match columns.iter().position(|c| *c == spec.name) {
            Some(i) => Ok(Some(i)),
            None if required || spec.explicit => Err(CorpusError::MissingColumn {
                path: path.to_path_buf(),
                column: spec.name.clone(),
                option,
                available: columns.to_vec(),
                suggestion: closest_name(&spec.name, columns),
            }),
            None => Ok(None),
        }
    };
    let text = find(&options.text_col, "--text-col", true)?.expect("required column");
    let id = find(&options.id_col, "--id-col", false)?;
    let study = find(&options.study_col, "--study-col", false)?;
    let codes = find(&options.codes_col, "--codes-col", false)?;
    let used = [Some(text), id, study, codes];
    let metadata = (0..columns.len()).filter(|i| !used.contains(&Some(*i))).collect();
    Ok(ColumnIndex { text, id, study, codes, metadata })
}

/// The existing name closest to `wanted`, if it is close enough to be a likely typo.
pub(crate) fn closest_name(wanted: &str, names: &[String]) -> Option<String> {
    let wanted_folded = wanted.trim().to_lowercase();
    names
        .iter()
        .map(|name| {
            let folded = name.trim().to_lowercase();
            let score = if folded == wanted_folded {
                1.0
            } else {
                strsim::normalized_damerau_levenshtein(&folded, &wanted_folded)
            };
            (score, name)
        })
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, name)| name.clone())
}

pub(super) fn split_codes(cell: &str, sep: &str) -> Vec<String> {
    cell.split(sep).map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect()
}

fn id_hash(id: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish() as u128
    };
    (half(1) << 64) | half(2)
}

fn invalid_utf8(path: &Path, pos: Position, column: Option<String>, byte_offset: u64) -> CorpusError {
    let (byte_offset, error_line) = locate_invalid_utf8(path, byte_offset, pos.line);
    CorpusError::InvalidUtf8 { path: path.to_path_buf(), pos, column, byte_offset, error_line }
}

/// Scans the file from `start` (a byte offset on line `start_line`) to the first invalid UTF-8 byte, and
/// returns its exact byte offset and line. Runs only on the error path, so re-reading is fine.
pub(super) fn locate_invalid_utf8(path: &Path, start: u64, start_line: u64) -> (u64, u64) {
    let scan = || -> std::io::Result<Option<(u64, u64)>> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(start))?;
        let mut reader = BufReader::with_capacity(BUFFER_BYTES, file);
        let (mut offset, mut line) = (start, start_line);
        let mut pending: Vec<u8> = Vec::new(); // bytes of a sequence cut by the chunk boundary
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok((!pending.is_empty()).then_some((offset, line)));
            }
            let n = chunk.len();
            let mut bytes = std::mem::take(&mut pending);
            let carried = bytes.len() as u64;
            bytes.extend_from_slice(chunk);
            reader.consume(n);
            let base = offset - carried;
            match std::str::from_utf8(&bytes) {
                Ok(_) => {
                    line += bytes[carried as usize..].iter().filter(|&&b| b == b'\n').count() as u64;
                    offset = base + bytes.len() as u64;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    let newlines = bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u64;
                    let before = bytes[..(carried as usize).min(valid)].iter().filter(|&&b| b == b'\n').count() as u64;
                    if e.error_len().is_some() {
                        return Ok(Some((base + valid as u64, line + newlines - before)));
                    }
                    line += newlines - before;
                    offset = base + bytes.len() as u64;
                    pending = bytes[valid..].to_vec();
                }
            }
        }
    };
    scan().ok().flatten().unwrap_or((start, start_line))
}

pub(super) fn map_csv_error(path: &Path, error: csv::Error, record_no: u64) -> CorpusError {
    let line = error.position().map(|p| p.line()).unwrap_or(0);
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(source) => CorpusError::Io { path: path.to_path_buf(), source },
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => CorpusError::Ragged {
            path: path.to_path_buf(),
            pos: Position { record: record_no, line },
            expected: expected_len,
            found: len,
        },
        _ => CorpusError::Csv { path: path.to_path_buf(), line, message },
    }
}

/// The check at the end of a CSV or TSV file that every quoted field closed. The csv crate reads a quoted
/// field that never closes to the end of the file, as one field: a stray quote would silently merge
/// every record after it into one. Readers note where each record starts, then call
/// [`QuotesClosed::check`] when the csv reader reports the end.
pub(crate) struct QuotesClosed {
    delimiter: u8,
    /// Where the last record started (byte, line) and its number.
    last_start: Option<(u64, u64, u64)>,
}

impl QuotesClosed {
    pub(crate) fn new(delimiter: u8) -> Self {
        QuotesClosed { delimiter, last_start: None }
    }

    /// Notes the start of record `record_no`.
    pub(crate) fn note(&mut self, pos: &csv::Position, record_no: u64) {
        self.last_start = Some((pos.byte(), pos.line(), record_no));
    }

    /// At the end of the file: an error if the last record holds a quoted field that never closes.
    pub(crate) fn check(&self, path: &Path, columns: &[String]) -> Result<(), CorpusError> {
        let Some((byte, line, record)) = self.last_start else { return Ok(()) };
        match unterminated_quote(path, byte, line, self.delimiter)? {
            Some((field, open_line)) => Err(CorpusError::UnterminatedQuote {
                path: path.to_path_buf(),
                pos: Position { record, line },
                column: columns.get(field).cloned().unwrap_or_else(|| format!("field {}", field + 1)),
                open_line,
            }),
            None => Ok(()),
        }
    }
}

/// Reads the file from the start of its last record (`byte`, on `line`) and says whether a quoted field
/// opens there and never closes: the field's index and the line where its quote opens. The rules are the
/// csv crate's: a quote opens a quoted field only at the start of a field, and `""` inside one is a
/// quote.
fn unterminated_quote(path: &Path, byte: u64, line: u64, delimiter: u8) -> Result<Option<(usize, u64)>, CorpusError> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |source| CorpusError::Io { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(byte)).map_err(io)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(io)?;
    let (mut field, mut at_field_start, mut line) = (0, true, line);
    let mut open: Option<(usize, u64)> = None;
    let mut bytes = tail.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b == b'\n' {
            line += 1;
        }
        if open.is_some() {
            if b == b'"' {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    open = None;
                    at_field_start = false;
                }
            }
        } else if b == b'"' && at_field_start {
            open = Some((field, line));
        } else if b == delimiter {
            field += 1;
            at_field_start = true;
        } else if b == b'\n' || b == b'\r' {
            field = 0;
            at_field_start = true;
        } else {
            at_field_start = false;
        }
    }
    Ok(open)
}

/// One value of a JSON Lines object: a string borrowed from the line where it holds no escape (the text,
/// most of the bytes read, is then copied once, into the quote), anything else as a `serde_json::Value`.
/// Parsing each line into a `Value` had built a map and a `String` per key and per field: half the time
/// of reading.
#[derive(Debug)]
enum JsonField<'a> {
    Str(std::borrow::Cow<'a, str>),
    Other(serde_json::Value),
}

/// A JSON Lines line: an object's fields in file order (a repeated key: the last one counts, as in
/// `serde_json::Value`), or what the line holds instead.
enum JsonLine<'a> {
    Object(Vec<(std::borrow::Cow<'a, str>, JsonField<'a>)>),
    NotObject(&'static str),
}

/// An object key, borrowed from the line where it holds no escape.
struct JsonKey<'a>(std::borrow::Cow<'a, str>);

mod json_visit {
    //! serde visitors for [`JsonLine`], [`JsonField`] and [`JsonKey`]: serde_json still parses and
    //! validates every byte (so its errors and their positions are unchanged); these only keep what
    //! it hands over without copying it.
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;

    use super::{JsonField, JsonKey, JsonLine};

    struct StrVisitor;

    impl<'de> Visitor<'de> for StrVisitor {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(s))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(s.to_owned()))
        }
        fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(s))
        }
    }

    impl<'de> Deserialize<'de> for JsonKey<'de> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_str(StrVisitor).map(JsonKey)
        }
    }

    struct FieldVisitor;

    impl<'de> Visitor<'de> for FieldVisitor {
        type Value = JsonField<'de>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
            StrVisitor.visit_borrowed_str(s).map(JsonField::Str)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            StrVisitor.visit_str(s).map(JsonField::Str)
        }
        fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
            StrVisitor.visit_string(s).map(JsonField::Str)
        }
        // The rest as `serde_json::Value`'s own visitor builds them.
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
            Ok(JsonField::Other(Value::Bool(b)))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(JsonField::Other(Value::from(n)))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(JsonField::Other(Value::from(n)))
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
            Ok(JsonField::Other(Value::from(n)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(JsonField::Other(Value::Null))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<Value>()? {
                items.push(item);
            }
            Ok(JsonField::Other(Value::Array(items)))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut object = serde_json::Map::new();
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                object.insert(key, value);
            }
            Ok(JsonField::Other(Value::Object(object)))
        }
    }

    impl<'de> Deserialize<'de> for JsonField<'de> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(FieldVisitor)
        }
    }

    struct LineVisitor;

    impl<'de> Visitor<'de> for LineVisitor {
        type Value = JsonLine<'de>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::new();
            while let Some((JsonKey(key), value)) = map.next_entry::<JsonKey, JsonField>()? {
                fields.push((key, value));
            }
            Ok(JsonLine::Object(fields))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(JsonLine::NotObject("an array"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(JsonLine::NotObject("a string"))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(JsonLine::NotObject("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(JsonLine::NotObject("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(JsonLine::NotObject("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(JsonLine::NotObject("a number"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(JsonLine::NotObject("null"))
        }
    }

    impl<'de> Deserialize<'de> for JsonLine<'de> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(LineVisitor)
        }
    }
}

fn parse_json_quote(
    path: &Path,
    line_text: &str,
    line: u64,
    record_no: u64,
    keys: &JsonKeys,
    code_sep: &str,
    schema: &mut Schema,
) -> Result<Quote, CorpusError> {
    use serde_json::Value;
    let parsed: JsonLine = serde_json::from_str(line_text).map_err(|e| json_syntax(path, line, &e))?;
    let mut fields = match parsed {
        JsonLine::Object(fields) => fields,
        JsonLine::NotObject(found) => return Err(CorpusError::JsonNotObject { path: path.to_path_buf(), line, found }),
    };
    // The last of a repeated key counts, as in a `serde_json::Map`.
    let position = |name: &str| fields.iter().rposition(|(key, _)| key == name);
    let value_of = |name: &str| position(name).map(|at| &fields[at].1);
    let field_error = |field: &str, problem: String| CorpusError::JsonField {
        path: path.to_path_buf(),
        line,
        field: field.to_string(),
        problem,
    };
    // New columns in key order, as a `serde_json::Map` lists them.
    let mut new: Vec<&str> =
        fields.iter().map(|(key, _)| key.as_ref()).filter(|key| !schema.columns.iter().any(|c| c == key)).collect();
    new.sort_unstable();
    new.dedup();
    for key in new {
        schema.columns.push(key.to_string());
        let role = [&keys.text, &keys.id.name, &keys.study.name, &keys.codes.name].iter().any(|r| *r == key);
        if !role {
            schema.metadata.push(key.to_string());
        }
    }
    let text_at = match position(&keys.text) {
        Some(at) => match &fields[at].1 {
            JsonField::Str(_) => at,
            other => return Err(field_error(&keys.text, format!("is {}; expected a string", field_kind(other)))),
        },
        None => return Err(field_error(&keys.text, "is missing; expected the quote text as a string".to_string())),
    };
    // A scalar field: a string, or a number written as text; optional unless the user named it.
    let scalar = |spec: &ColumnSpec| -> Result<Option<String>, CorpusError> {
        match value_of(&spec.name) {
            Some(JsonField::Str(s)) => Ok(Some(s.to_string())),
            Some(JsonField::Other(Value::Number(n))) => Ok(Some(n.to_string())),
            Some(JsonField::Other(Value::Null)) | None if !spec.explicit => Ok(None),
            Some(other) => {
                Err(field_error(&spec.name, format!("is {}; expected a string or a number", field_kind(other))))
            }
            None => Err(field_error(&spec.name, "is missing; expected a string or a number".to_string())),
        }
    };
    let id = scalar(&keys.id)?;
    if id.is_some() && schema.id.is_none() {
        schema.id = Some(keys.id.name.clone());
    }
    let id = id.unwrap_or_else(|| record_no.to_string());
    let study = scalar(&keys.study)?;
    if study.is_some() && schema.study.is_none() {
        schema.study = Some(keys.study.name.clone());
    }
    let codes_value = value_of(&keys.codes.name);
    let codes = match codes_value {
        Some(JsonField::Other(Value::Array(items))) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(field_error(&keys.codes.name, format!("holds {}; expected strings", json_kind(other)))),
            })
            .filter(|c| !matches!(c, Ok(s) if s.is_empty()))
            .collect::<Result<Vec<_>, _>>()?,
        Some(JsonField::Str(s)) => split_codes(s, code_sep),
        Some(JsonField::Other(Value::Null)) | None if !keys.codes.explicit => Vec::new(),
        Some(other) => {
            return Err(field_error(
                &keys.codes.name,
                format!("is {}; expected a string or an array of strings", field_kind(other)),
            ));
        }
        None => {
            return Err(field_error(
                &keys.codes.name,
                "is missing; expected a string or an array of strings".to_string(),
            ));
        }
    };
    if codes_value.is_some() {
        schema.codes = Some(keys.codes.name.clone());
    }
    let metadata = schema
        .metadata
        .iter()
        .map(|key| match value_of(key) {
            None | Some(JsonField::Other(Value::Null)) => String::new(),
            Some(JsonField::Str(s)) => s.to_string(),
            Some(JsonField::Other(other)) => other.to_string(),
        })
        .collect();
    let JsonField::Str(text) = fields.swap_remove(text_at).1 else { unreachable!("checked above") };
    Ok(Quote { id, study, text: text.into_owned(), codes, metadata, position: Position { record: record_no, line } })
}

/// serde_json's syntax error on `line`, without its own "at line L column C" (we say where).
fn json_syntax(path: &Path, line: u64, error: &serde_json::Error) -> CorpusError {
    let message = error.to_string();
    let message = message.rfind(" at line ").map_or(message.clone(), |i| message[..i].to_string());
    CorpusError::JsonSyntax { path: path.to_path_buf(), line, column: error.column() as u64, message }
}

fn field_kind(field: &JsonField) -> &'static str {
    match field {
        JsonField::Str(_) => "a string",
        JsonField::Other(value) => json_kind(value),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reading before borrowed fields: a whole `serde_json::Value` per line (the oracle).
    fn parse_json_quote_via_value(
        path: &Path,
        line_text: &str,
        line: u64,
        record_no: u64,
        keys: &JsonKeys,
        code_sep: &str,
        schema: &mut Schema,
    ) -> Result<Quote, CorpusError> {
        use serde_json::Value;
        let value: Value = serde_json::from_str(line_text).map_err(|e| json_syntax(path, line, &e))?;
        let Value::Object(mut object) = value else {
            let found = match value {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => unreachable!(),
            };
            return Err(CorpusError::JsonNotObject { path: path.to_path_buf(), line, found });
        };
        let field_error = |field: &str, problem: String| CorpusError::JsonField {
            path: path.to_path_buf(),
            line,
            field: field.to_string(),
            problem,
        };
        for key in object.keys() {
            if !schema.columns.contains(key) {
                schema.columns.push(key.clone());
                let role = [&keys.text, &keys.id.name, &keys.study.name, &keys.codes.name].contains(&key);
                if !role {
                    schema.metadata.push(key.clone());
                }
            }
        }
        match object.get(&keys.text) {
            Some(Value::String(_)) => {}
            Some(other) => return Err(field_error(&keys.text, format!("is {}; expected a string", json_kind(other)))),
            None => return Err(field_error(&keys.text, "is missing; expected the quote text as a string".to_string())),
        };
        // A scalar field: a string, or a number written as text; optional unless the user named it.
        let scalar = |spec: &ColumnSpec| -> Result<Option<String>, CorpusError> {
            match object.get(&spec.name) {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Null) | None if !spec.explicit => Ok(None),
                Some(other) => {
                    Err(field_error(&spec.name, format!("is {}; expected a string or a number", json_kind(other))))
                }
                None => Err(field_error(&spec.name, "is missing; expected a string or a number".to_string())),
            }
        };
        let id = scalar(&keys.id)?;
        if id.is_some() && schema.id.is_none() {
            schema.id = Some(keys.id.name.clone());
        }
        let id = id.unwrap_or_else(|| record_no.to_string());
        let study = scalar(&keys.study)?;
        if study.is_some() && schema.study.is_none() {
            schema.study = Some(keys.study.name.clone());
        }
        let codes = match object.get(&keys.codes.name) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.trim().to_string()),
                    other => {
                        Err(field_error(&keys.codes.name, format!("holds {}; expected strings", json_kind(other))))
                    }
                })
                .filter(|c| !matches!(c, Ok(s) if s.is_empty()))
                .collect::<Result<Vec<_>, _>>()?,
            Some(Value::String(s)) => split_codes(s, code_sep),
            Some(Value::Null) | None if !keys.codes.explicit => Vec::new(),
            Some(other) => {
                return Err(field_error(
                    &keys.codes.name,
                    format!("is {}; expected a string or an array of strings", json_kind(other)),
                ));
            }
            None => {
                return Err(field_error(
                    &keys.codes.name,
                    "is missing; expected a string or an array of strings".to_string(),
                ));
            }
        };
        if object.contains_key(&keys.codes.name) {
            schema.codes = Some(keys.codes.name.clone());
        }
        let metadata = schema
            .metadata
            .iter()
            .map(|key| match object.get(key) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        // The text is taken out of the parsed object, not copied: it is most of the bytes read. Last, so that
        // every other field (even one named like the text column) still sees it.
        let Some(Value::String(text)) = object.remove(&keys.text) else { unreachable!("checked above") };
        Ok(Quote { id, study, text, codes, metadata, position: Position { record: record_no, line } })
    }

    /// A JSON value for the lines below: strings with escapes, numbers, nested values.
    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            "[a-z é\"\\\\/\n\t\u{1F600}]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just(r#""caf\u00e9 \ud83d\ude00 \"q\" \/ \n""#.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            prop_oneof![Just("1.50"), Just("-0.0"), Just("2e3"), Just("1E-7"), Just("12345678901234567890123")]
                .prop_map(str::to_string),
            Just("null".to_string()),
            Just("true".to_string()),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec(("[a-c]", inner), 0..3).prop_map(|v| format!(
                    "{{{}}}",
                    v.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect::<Vec<_>>().join(",")
                )),
            ]
        })
    }

    /// A line: usually an object whose keys repeat and may be escaped, sometimes something else.
    fn json_line() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("text"),
            Just("id"),
            Just("study"),
            Just("codes"),
            Just("kind"),
            Just("b"),
            Just(r"te\u0078t"),
        ];
        prop_oneof![
            8 => prop::collection::vec((key, json_value()), 0..6).prop_map(|fields| {
                let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\" : {v}")).collect();
                format!(" {{{}}} ", body.join(","))
            }),
            1 => json_value(),
            1 => prop_oneof![Just("{\"text\": \"a\""), Just("{\"text\": \"a\"} x"), Just("{\"text\" \"a\"}"), Just("{\"text\": \"\\x\"}")]
                .prop_map(str::to_string),
        ]
    }

    proptest! {
        #[test]
        fn borrowed_fields_read_as_whole_values_do(lines in prop::collection::vec(json_line(), 1..6), explicit in any::<bool>()) {
            let spec = |name: &str| ColumnSpec { name: name.to_string(), explicit };
            let keys = JsonKeys { text: "text".to_string(), id: spec("id"), study: spec("study"), codes: spec("codes") };
            let (mut fast_schema, mut oracle_schema) = (Schema::default(), Schema::default());
            for (i, line) in lines.iter().enumerate() {
                let at = i as u64 + 1;
                let fast = parse_json_quote(Path::new("q.jsonl"), line, at, at, &keys, ";", &mut fast_schema);
                let oracle = parse_json_quote_via_value(Path::new("q.jsonl"), line, at, at, &keys, ";", &mut oracle_schema);
                prop_assert_eq!(format!("{fast:?}"), format!("{oracle:?}"));
                prop_assert_eq!(&fast_schema, &oracle_schema);
            }
        }
    }

    #[test]
    fn closest_name_suggests_typos_and_case() {
        let names = vec!["quote_id".to_string(), "Text".to_string(), "study".to_string()];
        assert_eq!(closest_name("text", &names).as_deref(), Some("Text"));
        assert_eq!(closest_name("studdy", &names).as_deref(), Some("study"));
        assert_eq!(closest_name("zzzzzz", &names), None);
    }

    #[test]
    fn codes_split_and_trim() {
        assert_eq!(split_codes(" A1 ; B2;;", ";"), ["A1", "B2"]);
        assert_eq!(split_codes("", ";"), Vec::<String>::new());
        assert_eq!(split_codes("A1|B2", "|"), ["A1", "B2"]);
    }

    /// Lines are parsed in the read buffer when they fit and copied when they straddle two fills: every
    /// length around the buffer size, blank and CRLF lines, and a last line without a newline read the same.
    #[test]
    fn json_lines_across_buffer_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        let mut file = String::new();
        let mut expected = Vec::new();
        for (i, len) in [10, BUFFER_BYTES - 40, 3, BUFFER_BYTES + 7, 2 * BUFFER_BYTES, 1, 500].into_iter().enumerate() {
            let text: String = (0..len).map(|j| (b'a' + (j % 26) as u8) as char).collect();
            file.push_str(&format!("{{\"id\": \"q{i}\", \"text\": \"{text}\"}}"));
            file.push_str(if i % 2 == 0 { "\n" } else { "\r\n\n" });
            expected.push(text);
        }
        file.push_str("{\"id\": \"last\", \"text\": \"no newline\"}");
        expected.push("no newline".to_string());
        std::fs::write(&path, &file).unwrap();
        let reader = QuoteReader::open(&path, &CorpusOptions::default()).unwrap();
        let texts: Vec<String> = reader.map(|q| q.unwrap().text).collect();
        assert_eq!(texts, expected);

        // Positions stay exact after long lines: the error is on line 4 (after a blank line).
        std::fs::write(
            &path,
            format!("{{\"text\": \"{}\"}}\n\n{{\"text\": \"b\"}}\n{{\"text\": 5}}\n", "x".repeat(3 * BUFFER_BYTES)),
        )
        .unwrap();
        let error = QuoteReader::open(&path, &CorpusOptions::default()).unwrap().find_map(Result::err).unwrap();
        assert!(matches!(error, CorpusError::JsonField { line: 4, .. }), "{error:?}");
    }

    #[test]
    fn locate_invalid_utf8_finds_exact_byte_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, b"id,text\n1,ok\n2,\"two\nlines \xE9\"\n").unwrap();
        // Record 2 starts at byte 13 on line 3; the bad byte is on line 4.
        assert_eq!(locate_invalid_utf8(&path, 13, 3), (26, 4));
    }
}
