//! The stages of `themata vectorize --compat sklearn`, each alone, on real text (52 MB of JSON Lines,
//! `python3 corpora/fetch.py`; the shipped corpus under `cargo test`): what bounds the whole command.
//!
//! - `read`: the file read, validated and parsed into quotes, on one thread (the command reads on one
//!   thread, beside the counting);
//! - `count`: tokenize, count and merge the texts already in memory, on 1 and 2 threads;
//! - `weight`: TF-IDF of the counts (smooth idf, l2 rows), on 2 threads.
//!
//! Throughput is in bytes of the file for `read`, bytes of text otherwise. Run: `cargo bench --bench stages`.

use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use themata::corpus::{CorpusOptions, QuoteReader};
use themata::parallel::with_threads;
use themata::tfidf::TfidfParams;
use themata::tokenize::{Compat, TokenizerParams};
use themata::vocab::{VocabParams, count_terms};

fn read_texts(path: &Path) -> Vec<String> {
    let reader = QuoteReader::open(path, &CorpusOptions::default()).expect("readable corpus");
    reader.map(|quote| quote.expect("valid quote").text).collect()
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real = root.join("corpora/cache/bench/real.jsonl");
    // `cargo test --all-targets` runs each bench once in a debug build: the shipped corpus proves it works.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (name, path): (&str, PathBuf) = if benchmarking && real.exists() {
        ("real", real)
    } else {
        ("shipped", root.join("corpora/peer-support/quotes.csv"))
    };
    let file_bytes = std::fs::metadata(&path).expect("corpus file").len();
    let texts = read_texts(&path);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let text_bytes: u64 = refs.iter().map(|t| t.len() as u64).sum();
    let tokenizer = TokenizerParams::for_compat(Compat::Sklearn).build().expect("sklearn tokenizer");

    let mut group = c.benchmark_group(format!("stages/{name}"));
    group.sample_size(10);
    group.throughput(Throughput::Bytes(file_bytes));
    group.bench_function("read/threads=1", |b| b.iter(|| read_texts(&path).len()));
    group.throughput(Throughput::Bytes(text_bytes));
    for threads in [1, 2] {
        group.bench_function(format!("count/threads={threads}"), |b| {
            b.iter(|| count_terms(&tokenizer, &refs, None, threads).terms.len())
        });
    }
    let counts = count_terms(&tokenizer, &refs, None, 2);
    assert_eq!(counts, count_terms(&tokenizer, &refs, None, 1), "counts depend on the thread count");
    let params = TfidfParams::default();
    group.bench_function("weight/threads=2", |b| {
        b.iter_batched(
            || counts.clone(),
            |counts| {
                let (vocabulary, matrix) = VocabParams::default().prune(counts).expect("no pruning error");
                with_threads(2, || params.fit(vocabulary).transform_into(matrix).nnz())
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
