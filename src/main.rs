//! The `themata` command: thin glue that parses arguments, calls the library, prints, and maps errors to
//! exit codes (0 success, 2 error; clap's usage errors also exit 2).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use themata::corpus::{ColumnSpec, CorpusOptions, CorpusStats, Format, QuoteReader, Warning, read_word_list};
use themata::corpus::{Corpus, CorpusError, Quote, StrList};
use themata::progress::Progress;
use themata::report::{
    InspectReport, OutputDir, write_atomic, write_docs_tsv, write_matrix_market, write_token_line, write_vocab_tsv,
};
use themata::tfidf::{Idf, Norm, Tf, TfidfParams};
use themata::tokenize::{Compat, Language, NumberPolicy, StopList, StopWordsTiming, TokenizerParams};
use themata::vocab::{DocFreq, TextBatch, VocabParams, count_terms};

/// mimalloc (its v2 series) rather than the system allocator: `vectorize` allocates and frees chunk
/// results of a few hundred KB in bursts, and glibc's heap kept them (peak memory then depended on the
/// order of frees) or mapped fresh zeroed pages for them (a tenth of the CPU time was page faults).
/// mimalloc reuses them and returns what stays free after 10 ms: count + weight on real.jsonl took
/// 0.549 s against 0.636 s (medians of 15 interleaved runs), and the 1000 MB tier peaked at 1.73 GB
/// against 1.92-2.52 GB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// No progress bars and no timing line (errors and warnings still go to standard error)
    #[arg(long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// One line per stage on standard error: what it did and how long it took
    #[arg(long, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a quote file and describe it: quotes, studies, codes, text lengths, warnings.
    Inspect(InspectArgs),
    /// Show exactly what the machine sees in each quote: its terms, with byte offsets (JSON Lines).
    Tokenize(TokenizeArgs),
    /// Build the TF-IDF matrix: matrix.mtx (Matrix Market), vocab.tsv and docs.tsv in --out DIR.
    Vectorize(VectorizeArgs),
    /// Suggest candidate themes: labels, representative quotes, study support, stability, audit trail.
    Suggest(SuggestArgs),
    /// Compare suggested themes with the analysts' codes: agreement, matched pairs, quotes to re-read.
    Compare(CompareArgs),
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
    /// under --compat sklearn; suggest: Snowball's and scikit-learn's together]
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
    /// Smallest and largest word n-gram length, as MIN,MAX [default: 1,1; suggest: 1,2]
    #[arg(long, value_name = "MIN,MAX", value_parser = parse_range)]
    ngram_range: Option<(usize, usize)>,
}

fn parse_range(text: &str) -> Result<(usize, usize), String> {
    let parse = |s: &str| s.trim().parse::<usize>().map_err(|_| format!("expected MIN,MAX such as 1,2; got {text:?}"));
    let (min, max) = text.split_once(',').ok_or_else(|| format!("expected MIN,MAX such as 1,2; got {text:?}"))?;
    Ok((parse(min)?, parse(max)?))
}

impl TokenizerArgs {
    fn params(&self) -> anyhow::Result<TokenizerParams> {
        self.params_with(Defaults::Vectorize)
    }

    fn params_with(&self, defaults: Defaults) -> anyhow::Result<TokenizerParams> {
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
        if defaults == Defaults::Suggest && self.stop_words.is_none() && self.compat == Compat::Themata {
            // Interview speech is full of fillers (get, go, really, thing) that Snowball's short list keeps:
            // suggest removes scikit-learn's 318 words as well.
            params.extra_stop_words.extend(themata::tokenize::parse_word_list(themata::tokenize::SKLEARN_ENGLISH));
        }
        params.ngram_range = self.ngram_range.unwrap_or(match defaults {
            Defaults::Vectorize => (1, 1),
            Defaults::Suggest => (1, 2),
        });
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

/// Which command's defaults apply: `suggest` prunes harder and adds bigrams, for readable themes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Defaults {
    Vectorize,
    Suggest,
}

/// Options that choose the vocabulary (scikit-learn's names and semantics).
#[derive(Args, Clone)]
#[command(next_help_heading = "Vocabulary")]
struct VocabArgs {
    /// Drop terms in fewer quotes: a count (2) or a proportion of the quotes (0.01), compared unrounded
    /// [default: 1; suggest: 2]
    #[arg(long, value_name = "N|P")]
    min_df: Option<DocFreq>,
    /// Drop terms in more quotes: a count (500) or a proportion (0.5) [default: 1.0; suggest: 0.5]
    #[arg(long, value_name = "N|P")]
    max_df: Option<DocFreq>,
    /// Keep only the N terms most frequent in the corpus (ties broken by term) [default: all]
    #[arg(long, value_name = "N")]
    max_features: Option<usize>,
    /// Keep only terms used in at least N different studies (needs a study column), so that one prolific
    /// study's jargon cannot dominate
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_studies: u32,
}

impl VocabArgs {
    fn params(&self, weights: &WeightArgs, defaults: Defaults) -> VocabParams {
        let suggest = defaults == Defaults::Suggest;
        VocabParams {
            min_df: self.min_df.unwrap_or(DocFreq::Count(if suggest { 2 } else { 1 })),
            max_df: self.max_df.unwrap_or(DocFreq::Proportion(if suggest { 0.5 } else { 1.0 })),
            max_features: self.max_features,
            min_studies: self.min_studies,
            binary: weights.binary(),
        }
    }
}

/// Term frequency weighting.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TfArg {
    /// The count
    Raw,
    /// 1 + ln(count)
    Sublinear,
    /// 1 for every present term
    Binary,
}

/// Options that weight the counts (scikit-learn's names and formulas).
#[derive(Args, Clone)]
#[command(next_help_heading = "Weighting")]
struct WeightArgs {
    /// Term frequency: raw (the count), sublinear (1 + ln(count)) or binary [default: raw; suggest:
    /// sublinear, which keeps long quotes from dominating through repeated words]
    #[arg(long, value_enum, value_name = "KIND")]
    tf: Option<TfArg>,
    /// tf = 1 + ln(count) instead of the raw count (scikit-learn's name for --tf sublinear)
    #[arg(long, conflicts_with = "tf")]
    sublinear_tf: bool,
    /// tf = 1 for every present term (scikit-learn's name for --tf binary)
    #[arg(long, conflicts_with_all = ["sublinear_tf", "tf"])]
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
    /// Whether tf is binary (the vocabulary's max_features then ranks by document frequency).
    fn binary(&self) -> bool {
        self.binary || self.tf == Some(TfArg::Binary)
    }

    fn params(&self, defaults: Defaults) -> TfidfParams {
        let tf = match (self.tf, self.sublinear_tf, self.binary) {
            (Some(TfArg::Raw), ..) => Tf::Raw,
            (Some(TfArg::Sublinear), ..) | (None, true, _) => Tf::Sublinear,
            (Some(TfArg::Binary), ..) | (None, _, true) => Tf::Binary,
            (None, false, false) if defaults == Defaults::Suggest => Tf::Sublinear,
            (None, false, false) => Tf::Raw,
        };
        TfidfParams {
            tf,
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

/// Everything from the quote file to the TF-IDF matrix; shared by `vectorize` and `suggest`.
#[derive(Args)]
struct PipelineArgs {
    #[command(flatten)]
    columns: ColumnArgs,
    #[command(flatten)]
    tokenizer: TokenizerArgs,
    #[command(flatten)]
    vocab: VocabArgs,
    #[command(flatten)]
    weights: WeightArgs,
}

#[derive(Args)]
struct VectorizeArgs {
    /// The quote file (CSV, TSV or JSON Lines)
    file: PathBuf,
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Folder for matrix.mtx, vocab.tsv and docs.tsv (created if missing; files replaced atomically)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Worker threads; 0 means every core. Output is the same for any value
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
}

/// The number of themes: a number, or `auto`.
#[derive(Clone, Copy)]
enum KArg {
    Fixed(usize),
    Auto,
}

fn parse_k(text: &str) -> Result<KArg, String> {
    match text {
        "auto" => Ok(KArg::Auto),
        n => match n.parse::<usize>() {
            Ok(k) if k >= 2 => Ok(KArg::Fixed(k)),
            _ => Err(format!("expected a number of themes (2 or more) or auto; got {text:?}")),
        },
    }
}

/// Which terms the clustering sees.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ClusterTerms {
    /// Single words only
    Words,
    /// Every term of the vocabulary, n-grams included
    All,
}

#[derive(Args)]
struct SuggestArgs {
    /// The quote file (CSV, TSV or JSON Lines) [default: the shipped corpora/peer-support/quotes.csv]
    file: Option<PathBuf>,
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Number of themes, or auto: the k in --k-range with the highest mean silhouette times the squared
    /// stability of the k-means restarts (their mean pairwise adjusted Rand index)
    #[arg(long, value_name = "N|auto", default_value = "auto", value_parser = parse_k, help_heading = "Themes")]
    k: KArg,
    /// Range of k tried by --k auto, as MIN,MAX
    #[arg(long, value_name = "MIN,MAX", default_value = "4,20", value_parser = parse_range, help_heading = "Themes")]
    k_range: (usize, usize),
    /// LSA dimensions (truncated SVD of the TF-IDF matrix) before k-means
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Themes")]
    lsa_dims: usize,
    /// Power iterations of the LSA's randomized SVD (scikit-learn's TruncatedSVD n_iter, whose default
    /// is 5): more are more exact and slower
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Themes")]
    lsa_iter: usize,
    /// Rounds of spherical k-means on the clustered TF-IDF rows after the LSA k-means (0: none); it stops
    /// early once fewer than one quote in a thousand moves
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Themes")]
    refine_rounds: usize,
    /// k-means restarts (the lowest inertia wins)
    #[arg(long, value_name = "N", default_value_t = 4, help_heading = "Themes")]
    n_init: usize,
    /// Terms the quotes are clustered on: words (single words; n-grams then only label the themes) or
    /// all (words and n-grams)
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = ClusterTerms::Words, help_heading = "Themes")]
    cluster_terms: ClusterTerms,
    /// Representative quotes per theme
    #[arg(long, value_name = "N", default_value_t = 5, help_heading = "Themes")]
    quotes: usize,
    /// Reseeded k-means runs that measure each theme's stability
    #[arg(long, value_name = "R", default_value_t = 10, help_heading = "Themes")]
    stability_runs: usize,
    /// Skip the leave-one-study-out stability runs (one k-means run per study)
    #[arg(long, help_heading = "Themes")]
    no_leave_one_study_out: bool,
    /// Seed of every random choice; the same seed gives the same themes
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Worker threads; 0 means every core. Output is the same for any value
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Output folder for themes.json, themes.csv, assignments.csv, report.md, report.html, manifest.json
    #[arg(long, value_name = "DIR", default_value = "themata-out")]
    out: PathBuf,
    /// Also write the themes as a REFI-QDA codebook (.qdc) that NVivo, ATLAS.ti, MAXQDA, QualCoder and
    /// Taguette import; GUIDs are stable for the same themes of the same input
    #[arg(long, value_name = "FILE")]
    export_qdc: Option<PathBuf>,
}

#[derive(Args)]
struct CompareArgs {
    /// Folder written by `themata suggest` (its themes.json and assignments.csv are read)
    #[arg(long, value_name = "DIR", default_value = "themata-out")]
    suggested: PathBuf,
    /// The analysts' codes: a quote file with a codes column (as corpora/peer-support/quotes.csv), or a
    /// CSV/TSV of id,code rows, one row per code; the layout is read from the header
    #[arg(long, value_name = "FILE")]
    manual: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Column of the code in a file of id,code rows
    #[arg(long, value_name = "NAME", default_value = "code")]
    code_col: String,
    /// A codebook (CSV or TSV with columns code and name, as corpora/peer-support/codebook.csv): codes are
    /// then shown with their names
    #[arg(long, value_name = "FILE")]
    codebook: Option<PathBuf>,
    /// The quote file the themes came from, read with the same column options: gives quote texts to
    /// disagreements.csv and compare.md when --manual is a file of id,code rows
    #[arg(long, value_name = "FILE")]
    quotes: Option<PathBuf>,
    /// Folder for compare.json, compare.md and disagreements.csv [default: the --suggested folder]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    START.with(|_| ()); // start the clock before parsing
    let cli = Cli::parse();
    let bars = Bars::new(cli.quiet, cli.verbose);
    let result = match cli.command {
        Command::Inspect(args) => inspect(&args, &bars),
        Command::Tokenize(args) => tokenize(&args, &bars),
        Command::Vectorize(args) => vectorize(&args, &bars),
        Command::Suggest(args) => suggest(&args, &bars),
        Command::Compare(args) => compare(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn inspect(args: &InspectArgs, bars: &Bars) -> anyhow::Result<()> {
    let options = args.columns.options()?;
    let format = options.format.or_else(|| Format::from_path(&args.file));
    let mut reader = QuoteReader::open(&args.file, &options)?;
    let mut stats = CorpusStats::default();
    bars.start("inspect", None);
    for quote in reader.by_ref() {
        stats.add(&quote?);
        // A lock per quote would cost more than the bar is worth: report in steps.
        if stats.n_quotes % 4096 == 0 {
            bars.advance(4096);
        }
    }
    bars.finish(&format!("inspect: {} quotes read and checked", stats.n_quotes));
    let (schema, warnings) = reader.finish();
    let format = format.expect("open succeeded, so the format is known");
    let report = InspectReport::new(&display(&args.file), format, schema, stats, &warnings);
    let text = if args.json { report.to_json() } else { report.to_text() };
    print_stdout(&text)
}

fn tokenize(args: &TokenizeArgs, bars: &Bars) -> anyhow::Result<()> {
    let options = args.columns.options()?;
    let tokenizer = args.tokenizer.params()?.build()?;
    // Validate the whole file before writing anything: a bad row at the end must not leave output.
    let mut reader = QuoteReader::open(&args.file, &options)?;
    bars.start("read", None);
    let quotes = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    bars.finish(&format!("read: {} quotes", quotes.len()));
    let (_, warnings) = reader.finish();
    print_warnings(&warnings);
    let texts: Vec<&str> = quotes.iter().map(|q| q.text.as_str()).collect();
    bars.start("tokenize", None);
    let tokens = tokenizer.tokenize_all(&texts, args.threads);
    bars.finish(&format!("tokenize: {} quotes, {} tokens", tokens.len(), tokens.iter().map(Vec::len).sum::<usize>()));
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

fn vectorize(args: &VectorizeArgs, bars: &Bars) -> anyhow::Result<()> {
    /// Quotes read and counted at a time: the text of a gigabyte corpus is never in memory at once, and
    /// the counting of a batch waits for no more than this much reading at the start.
    const BATCH: usize = 1 << 14;
    /// A batch also closes at this much text: batches are reused once counted (see
    /// `TermCounter::add_stream`), which works when each is about the same size.
    const BATCH_BYTES: usize = 4 << 20;
    let mut clock = StageClock::default();
    let options = args.pipeline.columns.options()?;
    let tokenizer = args.pipeline.tokenizer.params()?.build()?;
    // One pass: quotes are validated, counted in batches and dropped; only ids are kept. A bad row stops the
    // command there, before anything is written.
    let mut reader = QuoteReader::open(&args.file, &options)?;
    // A CSV or TSV header says whether there are studies; JSON Lines keys appear object by object, so
    // count with studies and forget them at the end if none appeared.
    let with_studies = reader.schema().study.is_some()
        || options.format.or_else(|| Format::from_path(&args.file)) == Some(Format::Jsonl);
    bars.start("count", None);
    let mut counter = themata::vocab::TermCounter::new(&tokenizer, with_studies, args.threads);
    // Reading and parsing run as one of the counting pool's tasks, beside the counting of the batches
    // already read (see `TermCounter::add_stream`). A bad row ends the reading there.
    // Millions of ids on large corpora: end to end in one buffer, not a String each.
    let mut ids = StrList::default();
    let mut study_index = DenseIndex::default();
    // The first batches are smaller (one chunk's worth of text, then doubling up to BATCH_BYTES): the
    // other threads have nothing to count until the first batch is read (real.jsonl, count + weight,
    // 14 interleaved runs: 0.562 -> 0.530 s).
    let mut batch_bytes = themata::parallel::CHUNK_BYTES;
    counter.add_stream(|batch: &mut TextBatch| -> Result<bool, CorpusError> {
        while batch.len() < BATCH && batch.text_bytes() < batch_bytes {
            let Some(quote) = reader.next() else { break };
            let quote = quote?;
            batch.push(&quote.text, study_index.of(quote.study.as_deref()));
            ids.push(&quote.id);
        }
        bars.advance(batch.len() as u64);
        batch_bytes = (batch_bytes * 2).min(BATCH_BYTES);
        Ok(!batch.is_empty())
    })?;
    let any_study = !study_index.names.is_empty();
    let (_, warnings) = reader.finish();
    print_warnings(&warnings);
    let mut counts = counter.finish();
    if !any_study {
        counts.n_studies = None;
    }
    let n_terms = counts.terms.len();
    bars.finish(&format!("count: {} quotes, {} distinct terms", ids.len(), n_terms));
    clock.lap("count");
    let (vocabulary, matrix) = args.pipeline.vocab.params(&args.pipeline.weights, Defaults::Vectorize).prune(counts)?;
    let model = args.pipeline.weights.params(Defaults::Vectorize).fit(vocabulary);
    let weights = themata::parallel::with_threads(args.threads, || model.transform_into(matrix));
    clock.lap("weight");
    let mut out = OutputDir::new(&args.out).with_context(|| format!("cannot write to {}", args.out.display()))?;
    let comment = format!("themata {} tf-idf of {}", env!("CARGO_PKG_VERSION"), display(&args.file));
    let context = || format!("cannot write to {}", args.out.display());
    themata::parallel::with_threads(args.threads, || {
        out.write("matrix.mtx", |w| write_matrix_market(w, &weights, &comment))
    })
    .with_context(context)?;
    out.write("vocab.tsv", |w| write_vocab_tsv(w, &model)).with_context(context)?;
    out.write("docs.tsv", |w| write_docs_tsv(w, ids.iter())).with_context(context)?;
    out.commit().with_context(context)?;
    clock.lap("write");
    bars.note(&format!(
        "{} quotes, {} terms kept of {}, {} non-zero weights; wrote matrix.mtx, vocab.tsv, docs.tsv to {}",
        weights.n_rows(),
        weights.n_cols,
        n_terms,
        weights.nnz(),
        args.out.display()
    ));
    bars.note(&format!("time: {}", clock.summary()));
    Ok(())
}

fn suggest(args: &SuggestArgs, bars: &Bars) -> anyhow::Result<()> {
    use themata::cluster::{ClusterParams, KChoice};
    use themata::report::{
        HtmlReport, SuggestResult, THEMES_SCHEMA_VERSION, render_qdc, render_report_html, write_assignments_csv,
        write_report_md, write_themes_csv, write_themes_json,
    };
    use themata::themes::{QuoteInfo, ThemeParams, describe};

    let mut clock = StageClock::default();
    let file = args.file.clone().unwrap_or_else(shipped_corpus);
    let options = args.pipeline.columns.options()?;
    let tokenizer_params = args.pipeline.tokenizer.params_with(Defaults::Suggest)?;
    let tokenizer = tokenizer_params.build()?;
    let vocab_params = args.pipeline.vocab.params(&args.pipeline.weights, Defaults::Suggest);
    let tfidf_params = args.pipeline.weights.params(Defaults::Suggest);
    let cluster_params = ClusterParams {
        n_components: args.lsa_dims,
        n_iter: args.lsa_iter,
        k: match args.k {
            KArg::Fixed(k) => KChoice::Fixed(k),
            KArg::Auto => KChoice::Auto { min: args.k_range.0, max: args.k_range.1 },
        },
        n_init: args.n_init.max(1),
        seed: args.seed,
        refine_rounds: args.refine_rounds,
    };
    anyhow::ensure!(
        args.k_range.0 >= 2 && args.k_range.0 <= args.k_range.1,
        "invalid --k-range {},{}: expected MIN,MAX with 2 <= MIN <= MAX",
        args.k_range.0,
        args.k_range.1
    );
    let theme_params = ThemeParams {
        n_quotes: args.quotes,
        stability_runs: args.stability_runs,
        leave_one_study_out: !args.no_leave_one_study_out,
        ..ThemeParams::default()
    };

    bars.start("read", None);
    let corpus = Corpus::load(&file, &options)?;
    print_warnings(&corpus.warnings);
    let (sha256, bytes) = themata::corpus::file_sha256(&file)?;
    anyhow::ensure!(
        corpus.quotes.len() >= 3,
        "{}: {} quotes; suggest needs at least 3",
        display(&file),
        corpus.quotes.len()
    );
    let texts = corpus.texts();
    let ids: Vec<&str> = corpus.quotes.iter().map(|q| q.id.as_str()).collect();
    let studies: Vec<Option<&str>> = corpus.quotes.iter().map(|q| q.study.as_deref()).collect();
    let study_index = study_indices(&corpus.quotes);
    bars.finish(&format!("read: {} quotes from {}", texts.len(), display(&file)));
    clock.lap("read");

    bars.start("vectorize", None);
    let counts = count_terms(&tokenizer, &texts, study_index.as_deref(), args.threads);
    let (vocabulary, matrix) = vocab_params.prune(counts)?;
    let model = tfidf_params.fit(vocabulary);
    let vocabulary = model.vocabulary();
    // Single words are clustered; phrases only label the themes. Measured on 20 Newsgroups (k = 20, seed
    // 1): NMI 0.60 with words against 0.52 with words and bigrams, and LSA four times faster.
    let has_words = tokenizer_params.ngram_range.0 == 1;
    let cluster_on_words = args.cluster_terms == ClusterTerms::Words && has_words && tokenizer_params.ngram_range.1 > 1;
    let weights = themata::parallel::with_threads(args.threads, || {
        if cluster_on_words {
            let (words, word_counts) = vocabulary.select(&matrix, |term| !term.contains(' '));
            tfidf_params.fit(words).transform(&word_counts)
        } else {
            model.transform(&matrix)
        }
    });
    bars.finish(&format!(
        "vectorize: {} terms, {} clustered, {} non-zero weights",
        vocabulary.terms.len(),
        weights.n_cols,
        weights.nnz()
    ));
    clock.lap("vectorize");
    let clustering = themata::parallel::with_threads(args.threads, || cluster_params.fit_with_progress(&weights, bars));
    clock.lap("cluster");
    let info = QuoteInfo { ids: &ids, studies: &studies, texts: &texts };
    let (themes, assignments) = themata::parallel::with_threads(args.threads, || {
        describe(
            &info,
            &tokenizer,
            vocabulary,
            &matrix,
            &clustering.embedding,
            &clustering.kmeans,
            &cluster_params,
            &theme_params,
            bars,
        )
    });
    clock.lap("themes");

    let input = display(&file);
    let result = SuggestResult {
        schema: "themata.themes",
        schema_version: THEMES_SCHEMA_VERSION,
        input: &input,
        n_quotes: texts.len(),
        n_terms: vocabulary.terms.len(),
        k: themes.len(),
        k_table: &clustering.k_table,
        themes: &themes,
    };
    let context = || format!("cannot write to {}", args.out.display());
    let mut out = OutputDir::new(&args.out).with_context(context)?;
    out.write("themes.json", |w| write_themes_json(w, &result)).with_context(context)?;
    out.write("themes.csv", |w| write_themes_csv(w, &themes)).with_context(context)?;
    out.write("assignments.csv", |w| write_assignments_csv(w, &ids, &studies, &assignments)).with_context(context)?;
    out.write("report.md", |w| write_report_md(w, &result)).with_context(context)?;
    let embedding = &clustering.embedding;
    let map: Vec<(f64, f64)> = (0..embedding.nrows())
        .map(|i| {
            let at = |j: usize| if j < embedding.ncols() { embedding[[i, j]] } else { 0.0 };
            (at(0), at(1))
        })
        .collect();
    let provenance = [
        format!("Written by themata {} from {input} (SHA-256 {sha256}).", env!("CARGO_PKG_VERSION")),
        format!("Seed {}; every parameter and the time per stage are in manifest.json beside this page.", args.seed),
    ];
    let html = HtmlReport {
        result: &result,
        ids: &ids,
        assignments: &assignments,
        map: &map,
        lsa_dims: clustering.singular_values.len(),
        provenance: &provenance,
    };
    out.write("report.html", |w| w.write_all(render_report_html(&html).as_bytes())).with_context(context)?;
    clock.lap("write");
    let manifest = serde_json::json!({
        "schema": "themata.manifest",
        "schema_version": 1,
        "themata_version": env!("CARGO_PKG_VERSION"),
        "command_line": std::env::args().collect::<Vec<_>>(),
        "input": { "path": input, "sha256": sha256, "bytes": bytes, "quotes": texts.len(),
                   "skipped": corpus.warnings.iter().map(|w| match w { Warning::EmptyText { ids, .. } => ids.len() }).sum::<usize>() },
        "parameters": {
            "corpus": options,
            "tokenizer": tokenizer_params,
            "vocabulary": vocab_params,
            "tfidf": tfidf_params,
            "cluster": cluster_params,
            "themes": theme_params,
        },
        "seed": args.seed,
        "threads": themata::parallel::resolve_threads(args.threads),
        "vocabulary_size": vocabulary.terms.len(),
        "clustered_terms": weights.n_cols,
        "k": themes.len(),
        "seconds_per_stage": clock.laps.iter().map(|(s, t)| (s.to_string(), serde_json::json!(t))).collect::<serde_json::Map<_, _>>(),
    });
    out.write("manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest)?;
        w.write_all(b"\n")
    })
    .with_context(context)?;
    out.commit().with_context(context)?;
    if let Some(path) = &args.export_qdc {
        let name = file.file_name().map_or_else(|| input.clone(), |n| n.to_string_lossy().into_owned());
        let run_name = format!("themata: candidate themes of {name} (seed {})", args.seed);
        write_atomic(path, |w| w.write_all(render_qdc(&themes, &sha256, &run_name).as_bytes()))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }

    let mut summary = String::new();
    use std::fmt::Write as _;
    if clustering.k_table.len() > 1 {
        let _ = writeln!(
            summary,
            "k chosen by the highest silhouette x stability^2 (stability: agreement of the k-means restarts; when \
             no k reaches {}, the most stable k):",
            themata::cluster::STABLE
        );
        for row in &clustering.k_table {
            let mark = if row.k == themes.len() { "  <- chosen" } else { "" };
            let _ = writeln!(
                summary,
                "  k={:<3} silhouette {:.4}  stability {:.3}  score {:.4}  inertia {:.2}{mark}",
                row.k, row.silhouette, row.stability, row.score, row.inertia
            );
        }
        if let Some(warning) = themata::cluster::k_warning(&clustering.k_table) {
            let _ = writeln!(summary, "warning: {warning}");
        }
    }
    let _ = writeln!(
        summary,
        "{} candidate themes from {} quotes ({} terms):",
        themes.len(),
        texts.len(),
        vocabulary.terms.len()
    );
    for t in &themes {
        let _ = writeln!(
            summary,
            "  {:>2}. {:<40} {:>4} quotes, {:>2} studies, stability {}{}",
            t.id,
            t.label,
            t.size,
            t.n_studies,
            themata::report::stability_text(t.stability_reseeded),
            if t.warnings.is_empty() { String::new() } else { format!("  [{}]", t.warnings.join("; ")) }
        );
    }
    let _ = writeln!(
        summary,
        "wrote themes.json, themes.csv, assignments.csv, report.md, report.html, manifest.json to {}",
        args.out.display()
    );
    if let Some(path) = &args.export_qdc {
        let _ = writeln!(summary, "wrote the themes as a REFI-QDA codebook to {}", path.display());
    }
    print_stdout(&summary)?;
    bars.note(&format!("time: {}", clock.summary()));
    Ok(())
}

fn compare(args: &CompareArgs) -> anyhow::Result<()> {
    use themata::report::{
        compare_summary, insert_comparison, render_comparison_html, write_compare_json, write_compare_md,
        write_disagreements_csv,
    };

    let options = args.columns.options()?;
    let suggestion = themata::corpus::read_suggestion(&args.suggested).with_context(|| {
        format!("--suggested {}: expected a folder written by `themata suggest`", args.suggested.display())
    })?;
    let mut manual = themata::corpus::read_manual_coding(&args.manual, &options, &args.code_col)?;
    print_warnings(&manual.warnings);
    if let Some(path) = &args.quotes {
        let corpus = Corpus::load(path, &options)?;
        print_warnings(&corpus.warnings);
        manual.fill_texts(&corpus);
    }
    let code_names = match &args.codebook {
        Some(path) => themata::corpus::read_codebook(path)?,
        None => Default::default(),
    };
    let comparison = themata::evaluate::compare(&suggestion, &manual, &code_names)?;
    let out_dir = args.out.as_ref().unwrap_or(&args.suggested);
    let context = || format!("cannot write to {}", out_dir.display());
    let mut out = OutputDir::new(out_dir).with_context(context)?;
    out.write("compare.json", |w| write_compare_json(w, &comparison)).with_context(context)?;
    out.write("compare.md", |w| write_compare_md(w, &comparison)).with_context(context)?;
    out.write("disagreements.csv", |w| write_disagreements_csv(w, &comparison)).with_context(context)?;
    let mut written = "compare.json, compare.md, disagreements.csv".to_string();
    match themata::corpus::read_report_page(&args.suggested)? {
        Some(page) => match insert_comparison(&page, &render_comparison_html(&comparison)) {
            Some(extended) => {
                out.write("report.html", |w| w.write_all(extended.as_bytes())).with_context(context)?;
                written.push_str(", report.html (with the comparison)");
            }
            None => eprintln!(
                "warning: {}/report.html has no place for the comparison (written by another version?); left as it is",
                args.suggested.display()
            ),
        },
        None => eprintln!("warning: no report.html in {}; run suggest again to get one", args.suggested.display()),
    }
    out.commit().with_context(context)?;
    let mut summary = compare_summary(&comparison);
    summary.push_str(&format!(
        "wrote {written} to {}; {} quotes to re-read\n",
        out_dir.display(),
        comparison.disagreements.len()
    ));
    print_stdout(&summary)
}

/// Progress on standard error: bars on a terminal (never in a pipe or a log file), one line per stage with
/// `--verbose`, nothing but errors and warnings with `--quiet`.
struct Bars {
    quiet: bool,
    verbose: bool,
    draw: bool,
    current: std::sync::Mutex<Option<(indicatif::ProgressBar, std::time::Instant)>>,
}

impl Bars {
    fn new(quiet: bool, verbose: bool) -> Bars {
        use std::io::IsTerminal;
        Bars { quiet, verbose, draw: !quiet && std::io::stderr().is_terminal(), current: Default::default() }
    }

    /// A line for people (the timing line, a summary), unless --quiet.
    fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

impl Progress for Bars {
    fn start(&self, stage: &str, steps: Option<u64>) {
        use indicatif::{ProgressBar, ProgressStyle};
        let bar = match (self.draw, steps) {
            (false, _) => ProgressBar::hidden(),
            (true, Some(n)) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{prefix:>10} [{bar:32}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            (true, None) => {
                let bar = ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{prefix:>10} {spinner} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            }
        };
        bar.set_prefix(stage.to_string());
        if let Ok(mut current) = self.current.lock() {
            *current = Some((bar, std::time::Instant::now()));
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(current) = self.current.lock() {
            if let Some((bar, _)) = current.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn finish(&self, summary: &str) {
        let taken = self.current.lock().ok().and_then(|mut c| c.take());
        if let Some((bar, started)) = taken {
            bar.finish_and_clear();
            if self.verbose {
                eprintln!("{summary} ({:.2}s)", started.elapsed().as_secs_f64());
            }
        }
    }
}

/// The shipped demo corpus, found beside the sources this binary was built from, or from the
/// current folder.
fn shipped_corpus() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/peer-support/quotes.csv");
    if built.exists() { built } else { PathBuf::from("corpora/peer-support/quotes.csv") }
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

/// Dense indices of names in order of first appearance (`u32::MAX` for none), as `count_terms` expects
/// for studies.
#[derive(Default)]
struct DenseIndex {
    names: std::collections::HashMap<String, u32>,
}

impl DenseIndex {
    fn of(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else { return u32::MAX };
        if let Some(&index) = self.names.get(name) {
            return index;
        }
        let next = self.names.len() as u32;
        self.names.insert(name.to_string(), next);
        next
    }
}

/// Each quote's study as a dense index (`u32::MAX` for none), or `None` when no quote has a study.
fn study_indices(quotes: &[Quote]) -> Option<Vec<u32>> {
    let mut index = DenseIndex::default();
    let indices: Vec<u32> = quotes.iter().map(|q| index.of(q.study.as_deref())).collect();
    (!index.names.is_empty()).then_some(indices)
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
