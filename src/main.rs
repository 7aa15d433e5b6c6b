//! The `themata` command: thin glue that parses arguments, calls the library, prints, and maps errors to
//! exit codes (0 success, 2 error; clap's usage errors also exit 2).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use themata::corpus::{ColumnSpec, CorpusOptions, CorpusStats, Format, QuoteReader, Warning};
use themata::report::InspectReport;

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect(&args),
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

/// Prints warnings that did not stop the run.
#[allow(dead_code)]
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
