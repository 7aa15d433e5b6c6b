//! Tokenizer throughput (MB/s) per configuration, on real text when it has been fetched
//! (`python3 corpora/fetch.py`: corpora/cache/bench/real.jsonl, about 52 MB of text), else on the shipped
//! corpus (and always on the shipped corpus under `cargo test`).
//!
//! Run: `cargo bench --bench tokenize`. A known answer is asserted: the term count of the shipped corpus.

use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use themata::corpus::{Corpus, CorpusOptions};
use themata::parallel::{doc_chunks, with_threads};
use themata::tokenize::{Compat, StopList, Tokenizer, TokenizerParams};

fn load(relative: &str) -> Option<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    path.exists().then(|| {
        let corpus = Corpus::load(&path, &CorpusOptions::default()).expect("readable corpus");
        corpus.quotes.into_iter().map(|q| q.text).collect()
    })
}

/// The streaming path (what TF-IDF uses): terms visited, never collected.
fn count_terms(tokenizer: &Tokenizer, texts: &[&str], threads: usize) -> u64 {
    with_threads(threads, || {
        doc_chunks(texts)
            .into_par_iter()
            .map_init(
                || tokenizer.scratch(),
                |scratch, range| {
                    scratch.reset_terms();
                    let mut n = 0u64;
                    for text in &texts[range] {
                        tokenizer.for_each_term_id(text, scratch, |_, _| n += 1);
                    }
                    n
                },
            )
            .sum()
    })
}

fn configs() -> Vec<(&'static str, TokenizerParams)> {
    let plain = TokenizerParams { stop_words: StopList::None, stem: None, ..TokenizerParams::default() };
    vec![
        ("segment+lowercase", plain),
        ("default(stop+stem)", TokenizerParams::default()),
        ("sklearn", TokenizerParams::for_compat(Compat::Sklearn)),
        ("default+bigrams", TokenizerParams { ngram_range: (1, 2), ..TokenizerParams::default() }),
    ]
}

fn bench(c: &mut Criterion) {
    // Known answer: the shipped corpus under the default configuration.
    let shipped = load("corpora/peer-support/quotes.csv").expect("the shipped corpus");
    let shipped_refs: Vec<&str> = shipped.iter().map(String::as_str).collect();
    let default = TokenizerParams::default().build().unwrap();
    assert_eq!(count_terms(&default, &shipped_refs, 2), 7_503, "term count of the shipped corpus changed");

    // `cargo bench` passes --bench; `cargo test --all-targets` runs each bench once in a debug build,
    // where the shipped corpus is enough to prove it works.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (name, texts) = match load("corpora/cache/bench/real.jsonl").filter(|_| benchmarking) {
        Some(texts) => ("real", texts),
        None => ("shipped", shipped),
    };
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let bytes: u64 = refs.iter().map(|t| t.len() as u64).sum();
    let mut group = c.benchmark_group(format!("tokenize/{name}"));
    group.throughput(Throughput::Bytes(bytes)).sample_size(10);
    for (label, params) in configs() {
        for threads in [1, 2] {
            // A new tokenizer per pass: its scratches (and their stem memos) start cold, as on a new
            // corpus, rather than warm from the previous iteration.
            group.bench_function(format!("{label}/threads={threads}"), |b| {
                b.iter_batched(
                    || params.build().unwrap(),
                    |tokenizer| count_terms(&tokenizer, &refs, threads),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
