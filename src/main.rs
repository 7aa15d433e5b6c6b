//! The `themata` command: thin glue that parses arguments, calls the library, prints, and maps errors to
//! exit codes (0 success, 2 error; clap's usage errors also exit 2).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use themata::corpus::{ColumnSpec, CorpusOptions, CorpusStats, Format, QuoteReader, Warning, read_word_list};
use themata::corpus::{Corpus, Quote};
use themata::report::{
    InspectReport, OutputDir, write_atomic, write_docs_tsv, write_matrix_market, write_token_line, write_vocab_tsv,
};
use themata::tfidf::{Idf, Norm, Tf, TfidfParams};
use themata::tokenize::{Compat, Language, NumberPolicy, StopList, StopWordsTiming, TokenizerParams};
use themata::vocab::{DocFreq, VocabParams, count_terms};

#[derive(Parser)]
#[command(
    name = "themata",
    version,
    about = "Suggest candidate themes from qualitative interview quotes, and compare them with a manual synthesis",
    long_about = "themata reads quotes extracted from qualitative studies (one row per quote, with the study it \
                  came from and, optionally, the analysts' codes), and helps analysts of a metasynthesis \
                  find and check themes. Everything runs offline; output is deterministic.",
    after_help = "Exit status: 0 on success, 2 on any error (bad input, bad options, I/O)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a quote file and describe it: quotes, studies, codes, text lengths, warnings.
    Inspect(InspectArgs),
    /// Show exactly what the machine sees in each quote: its terms, with byte offsets (JSON Lines).
    Tokenize(TokenizeArgs),
    /// Build the TF-IDF matrix: matrix.mtx (Matrix Market), vocab.tsv and docs.tsv in --out DIR.
    Vectorize(VectorizeArgs),
}

/// Options that say how to read a quote file; shared by every command.
#[derive(Args, Clone)]
#[command(next_help_heading = "Input columns")]
struct ColumnArgs {
    /// File format [default: from the extension: .csv, .tsv/.tab, .jsonl/.ndjson]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Column holding the quote text; it must exist [default: text]
    #[arg(long, value_name = "NAME")]
    text_col: Option<String>,
    /// Column holding the quote id [default: id; if the file has no such column, the 1-based record number]
    #[arg(long, value_name = "NAME")]
    id_col: Option<String>,
    /// Column holding the study a quote comes from [default: study, used when present]
    #[arg(long, value_name = "NAME")]
    study_col: Option<String>,
    /// Column holding the analysts' codes [default: codes, used when present]
    #[arg(long, value_name = "NAME")]
    codes_col: Option<String>,
    /// Separator between several codes in one cell
    #[arg(long, value_name = "SEP", default_value = ";")]
    code_sep: String,
    /// Treat empty or whitespace-only text as an error instead of skipping the row with a warning
    #[arg(long)]
    strict: bool,
}

impl ColumnArgs {
    fn options(&self) -> anyhow::Result<CorpusOptions> {
        anyhow::ensure!(!self.code_sep.is_empty(), "--code-sep must not be empty");
        let spec = |given: &Option<String>, default: &str| match given {
            Some(name) => ColumnSpec::explicit(name),
            None => ColumnSpec::default_name(default),
        };
        Ok(CorpusOptions {
            format: self.format,
            text_col: spec(&self.text_col, "text"),
            id_col: spec(&self.id_col, "id"),
            study_col: spec(&self.study_col, "study"),
            codes_col: spec(&self.codes_col, "codes"),
            code_sep: self.code_sep.clone(),
            strict: self.strict,
        })
    }
}

#[derive(Args)]
struct InspectArgs {
    /// The quote file (CSV, TSV or JSON Lines)
    file: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Print JSON for scripts instead of text
    #[arg(long)]
    json: bool,
}

/// A yes/no option whose default depends on --compat.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Toggle {
    Yes,
    No,
}

/// Stemming choice.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Stem {
    /// Snowball stemming in the --language
    Snowball,
    /// No stemming
    None,
}

/// Options that say how to turn quotes into terms; shared by every command that tokenizes.
#[derive(Args, Clone)]
#[command(next_help_heading = "Tokenizer")]
struct TokenizerArgs {
    /// Conventions to follow. themata: UAX #29 words (can't, 3.5 stay whole), apostrophes folded, Snowball
    /// English stop words and stemming. sklearn: scikit-learn TfidfVectorizer's tokens exactly
    /// ((?u)\b\w\w+\b on lowercased text), no stop words, no stemming. Options given explicitly still apply
    #[arg(long, value_enum, default_value_t = Compat::Themata)]
    compat: Compat,
    /// Full Unicode lowercasing [default: yes]
    #[arg(long, value_enum, value_name = "YES|NO")]
    lowercase: Option<Toggle>,
    /// Strip accents: NFKD, then drop combining characters, as scikit-learn's strip_accents='unicode' [default: no]
    #[arg(long, value_enum, value_name = "YES|NO")]
    strip_accents: Option<Toggle>,
    /// Fold typographic apostrophes (’ ‘ ʼ ＇) to ' [default: yes; no under --compat sklearn]
    #[arg(long, value_enum, value_name = "YES|NO")]
    fold_apostrophes: Option<Toggle>,
    /// Tokens without letters (2015, 3.5): keep, drop, or replace by the term <num>
    #[arg(long, value_enum, default_value_t = NumberPolicy::Keep)]
    numbers: NumberPolicy,
    /// Minimum characters in a word
    #[arg(long, value_name = "N", default_value_t = 2)]
    min_len: usize,
    /// Stop words: none; english (Snowball's 174 words; under --compat sklearn, scikit-learn's 318);
    /// snowball; sklearn; or a file of words (whitespace-separated, # comments) [default: english; none
    /// under --compat sklearn]
    #[arg(long, value_name = "LIST")]
    stop_words: Option<String>,
    /// A file of words to add to the stop words
    #[arg(long, value_name = "FILE")]
    extra_stop_words: Option<PathBuf>,
    /// A file of words never treated as stop words (such as not, no, never)
    #[arg(long, value_name = "FILE")]
    keep_words: Option<PathBuf>,
    /// Form n-grams from all words first, then drop n-grams made only of stop words, so that phrases like
    /// "not valued" survive [default: stop words are removed before n-grams, as scikit-learn]
    #[arg(long)]
    stop_words_after_ngrams: bool,
    /// Stemming: snowball or none [default: snowball; none under --compat sklearn]
    #[arg(long, value_enum)]
    stem: Option<Stem>,
    /// Language of the Snowball stemmer
    #[arg(long, value_enum, default_value_t = Language::English)]
    language: Language,
    /// Smallest and largest word n-gram length, as MIN,MAX
    #[arg(long, value_name = "MIN,MAX", default_value = "1,1", value_parser = parse_range)]
    ngram_range: (usize, usize),
}

fn parse_range(text: &str) -> Result<(usize, usize), String> {
    let parse = |s: &str| s.trim().parse::<usize>().map_err(|_| format!("expected MIN,MAX such as 1,2; got {text:?}"));
    let (min, max) = text.split_once(',').ok_or_else(|| format!("expected MIN,MAX such as 1,2; got {text:?}"))?;
    Ok((parse(min)?, parse(max)?))
}

impl TokenizerArgs {
    fn params(&self) -> anyhow::Result<TokenizerParams> {
        let mut params = TokenizerParams::for_compat(self.compat);
        let yes = |t: Toggle| matches!(t, Toggle::Yes);
        if let Some(t) = self.lowercase {
            params.lowercase = yes(t);
        }
        if let Some(t) = self.strip_accents {
            params.strip_accents = yes(t);
        }
        if let Some(t) = self.fold_apostrophes {
            params.fold_apostrophes = yes(t);
        }
        params.numbers = self.numbers;
        params.min_len = self.min_len;
        if let Some(list) = &self.stop_words {
            params.stop_words = match list.as_str() {
                "none" => StopList::None,
                "english" => StopList::English,
                "snowball" => StopList::Snowball,
                "sklearn" => StopList::Sklearn,
                path => StopList::Words(read_word_list(Path::new(path)).with_context(|| {
                    format!("--stop-words {path:?}: expected none, english, snowball, sklearn or a readable word file")
                })?),
            };
        }
        if let Some(path) = &self.extra_stop_words {
            params.extra_stop_words = read_word_list(path).context("--extra-stop-words")?;
        }
        if let Some(path) = &self.keep_words {
            params.keep_words = read_word_list(path).context("--keep-words")?;
        }
        if self.stop_words_after_ngrams {
            params.stop_words_timing = StopWordsTiming::AfterNgrams;
        }
        match self.stem {
            Some(Stem::None) => params.stem = None,
            Some(Stem::Snowball) => params.stem = Some(self.language),
            None if params.stem.is_some() => params.stem = Some(self.language),
            None => {}
        }
        params.ngram_range = self.ngram_range;
        Ok(params)
    }
}

#[derive(Args)]
struct TokenizeArgs {
    /// The quote file (CSV, TSV or JSON Lines)
    file: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    #[command(flatten)]
    tokenizer: TokenizerArgs,
    /// Write JSON Lines to this file (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Worker threads; 0 means every core. Output is the same for any value
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
}

/// Options that choose the vocabulary (scikit-learn's names and semantics).
#[derive(Args, Clone)]
#[command(next_help_heading = "Vocabulary")]
struct VocabArgs {
    /// Drop terms in fewer quotes: a count (2) or a proportion of the quotes (0.01), compared unrounded
    #[arg(long, value_name = "N|P", default_value = "1")]
    min_df: DocFreq,
    /// Drop terms in more quotes: a count (500) or a proportion (0.5)
    #[arg(long, value_name = "N|P", default_value = "1.0")]
    max_df: DocFreq,
    /// Keep only the N terms most frequent in the corpus (ties broken by term) [default: all]
    #[arg(long, value_name = "N")]
    max_features: Option<usize>,
    /// Keep only terms used in at least N different studies (needs a study column), so that one prolific
    /// study's jargon cannot dominate
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_studies: u32,
}

impl VocabArgs {
    fn params(&self, weights: &WeightArgs) -> VocabParams {
        VocabParams {
            min_df: self.min_df,
            max_df: self.max_df,
            max_features: self.max_features,
            min_studies: self.min_studies,
            binary: weights.binary,
        }
    }
}

/// Options that weight the counts (scikit-learn's names and formulas).
#[derive(Args, Clone)]
#[command(next_help_heading = "Weighting")]
struct WeightArgs {
    /// tf = 1 + ln(count) instead of the raw count
    #[arg(long)]
    sublinear_tf: bool,
    /// tf = 1 for every present term
    #[arg(long, conflicts_with = "sublinear_tf")]
    binary: bool,
    /// idf = ln(n / df) + 1 instead of the default ln((1 + n) / (1 + df)) + 1
    #[arg(long)]
    no_smooth_idf: bool,
    /// No idf: weights are tf alone (scikit-learn's use_idf=False)
    #[arg(long, conflicts_with = "no_smooth_idf")]
    no_idf: bool,
    /// Row normalisation: l2 (Euclidean), l1, or none
    #[arg(long, value_enum, default_value_t = Norm::L2)]
    norm: Norm,
}

impl WeightArgs {
    fn params(&self) -> TfidfParams {
        TfidfParams {
            tf: if self.binary {
                Tf::Binary
            } else if self.sublinear_tf {
                Tf::Sublinear
            } else {
                Tf::Raw
            },
            idf: if self.no_idf {
                Idf::None
            } else if self.no_smooth_idf {
                Idf::Plain
            } else {
                Idf::Smooth
            },
            norm: self.norm,
        }
    }
}

#[derive(Args)]
struct VectorizeArgs {
    /// The quote file (CSV, TSV or JSON Lines)
    file: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    #[command(flatten)]
    tokenizer: TokenizerArgs,
    #[command(flatten)]
    vocab: VocabArgs,
    #[command(flatten)]
    weights: WeightArgs,
    /// Folder for matrix.mtx, vocab.tsv and docs.tsv (created if missing; files replaced atomically)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Worker threads; 0 means every core. Output is the same for any value
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
}

fn main() -> ExitCode {
    START.with(|_| ()); // start the clock before parsing
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect(&args),
        Command::Tokenize(args) => tokenize(&args),
        Command::Vectorize(args) => vectorize(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let options = args.columns.options()?;
    let format = options.format.or_else(|| Format::from_path(&args.file));
    let mut reader = QuoteReader::open(&args.file, &options)?;
    let mut stats = CorpusStats::default();
    for quote in reader.by_ref() {
        stats.add(&quote?);
    }
    let (schema, warnings) = reader.finish();
    let format = format.expect("open succeeded, so the format is known");
    let report = InspectReport::new(&display(&args.file), format, schema, stats, &warnings);
    let text = if args.json { report.to_json() } else { report.to_text() };
    print_stdout(&text)
}

fn tokenize(args: &TokenizeArgs) -> anyhow::Result<()> {
    let options = args.columns.options()?;
    let tokenizer = args.tokenizer.params()?.build()?;
    // Validate the whole file before writing anything: a bad row at the end must not leave output.
    let mut reader = QuoteReader::open(&args.file, &options)?;
    let quotes = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    let (_, warnings) = reader.finish();
    print_warnings(&warnings);
    let texts: Vec<&str> = quotes.iter().map(|q| q.text.as_str()).collect();
    let tokens = tokenizer.tokenize_all(&texts, args.threads);
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        for (quote, tokens) in quotes.iter().zip(&tokens) {
            write_token_line(out, &quote.id, tokens)?;
        }
        Ok(())
    };
    match &args.out {
        Some(path) => write_atomic(path, write).with_context(|| format!("cannot write {}", path.display())),
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            match write(&mut stdout).and_then(|()| stdout.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to standard output"),
            }
        }
    }
}

fn vectorize(args: &VectorizeArgs) -> anyhow::Result<()> {
    let mut clock = StageClock::default();
    let options = args.columns.options()?;
    let tokenizer = args.tokenizer.params()?.build()?;
    let corpus = Corpus::load(&args.file, &options)?;
    print_warnings(&corpus.warnings);
    let texts = corpus.texts();
    let studies = study_indices(&corpus.quotes);
    clock.lap("read");
    let counts = count_terms(&tokenizer, &texts, studies.as_deref(), args.threads);
    let n_terms = counts.terms.len();
    clock.lap("count");
    let (vocabulary, matrix) = args.vocab.params(&args.weights).prune(counts)?;
    let model = args.weights.params().fit(vocabulary);
    let weights = themata::parallel::with_threads(args.threads, || model.transform(&matrix));
    clock.lap("weight");
    let mut out = OutputDir::new(&args.out).with_context(|| format!("cannot write to {}", args.out.display()))?;
    let comment = format!("themata {} tf-idf of {}", env!("CARGO_PKG_VERSION"), display(&args.file));
    let context = || format!("cannot write to {}", args.out.display());
    out.write("matrix.mtx", |w| write_matrix_market(w, &weights, &comment)).with_context(context)?;
    out.write("vocab.tsv", |w| write_vocab_tsv(w, &model)).with_context(context)?;
    out.write("docs.tsv", |w| write_docs_tsv(w, corpus.quotes.iter().map(|q| q.id.as_str()))).with_context(context)?;
    out.commit().with_context(context)?;
    clock.lap("write");
    eprintln!(
        "{} quotes, {} terms kept of {}, {} non-zero weights; wrote matrix.mtx, vocab.tsv, docs.tsv to {}",
        weights.n_rows(),
        weights.n_cols,
        n_terms,
        weights.nnz(),
        args.out.display()
    );
    eprintln!("time: {}", clock.summary());
    Ok(())
}

/// Wall-clock time per stage, for the summary line (and the benchmark scripts that parse it).
#[derive(Default)]
struct StageClock {
    last: Option<std::time::Instant>,
    laps: Vec<(&'static str, f64)>,
}

impl StageClock {
    fn lap(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        let start = *self.last.get_or_insert(START.with(|s| *s));
        self.laps.push((stage, (now - start).as_secs_f64()));
        self.last = Some(now);
    }

    fn summary(&self) -> String {
        self.laps.iter().map(|(stage, secs)| format!("{stage} {secs:.3}s")).collect::<Vec<_>>().join(", ")
    }
}

thread_local! {
    static START: std::time::Instant = std::time::Instant::now();
}

/// Each quote's study as a dense index (`u32::MAX` for none), or `None` when no quote has a study.
fn study_indices(quotes: &[Quote]) -> Option<Vec<u32>> {
    let mut index: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for study in quotes.iter().filter_map(|q| q.study.as_deref()) {
        let next = index.len() as u32;
        index.entry(study).or_insert(next);
    }
    (!index.is_empty()).then(|| quotes.iter().map(|q| q.study.as_deref().map_or(u32::MAX, |s| index[s])).collect())
}

/// Prints warnings that did not stop the run.
fn print_warnings(warnings: &[Warning]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        // A closed pipe (`themata inspect f | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
