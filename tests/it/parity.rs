//! End-to-end parity with scikit-learn 1.9.1: `themata vectorize --compat sklearn` against
//! `TfidfVectorizer(...).fit_transform` on the shipped corpus and on real text, for several option sets.
//! Vocabulary must be identical and every weight equal to 1e-9.
//!
//! Needs the venv that `scripts/test.sh` creates (or `THEMATA_PYTHON`) and the real corpora that
//! `python3 corpora/fetch.py` caches; both are set up by `scripts/test.sh`, the README's test command.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::util::{Dir, repo_file};

pub fn python() -> PathBuf {
    let path = std::env::var_os("THEMATA_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_file(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python with scikit-learn at {}: run `bash scripts/test.sh` once (it creates .venv), or set THEMATA_PYTHON",
        path.display()
    );
    path
}

/// The first `n` quotes of a cached real corpus, copied into `dir` (keeps the suite fast in debug builds).
fn real_corpus(dir: &Dir, name: &str, n: usize) -> PathBuf {
    let path = repo_file(&format!("corpora/cache/{name}"));
    assert!(path.exists(), "{} is missing: run `python3 corpora/fetch.py` (scripts/test.sh does)", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    let head: String = text.lines().take(n).flat_map(|l| [l, "\n"]).collect();
    dir.write(name, head)
}

/// One option set: scikit-learn's keyword arguments, and the same in themata's flags. With
/// `max_features_at_a_gap`, `max_features` is chosen where no two terms tie at the cut-off: scikit-learn
/// breaks such ties arbitrarily (an unstable argsort), themata by term, so only a clean cut can match.
struct Case {
    sklearn: &'static str,
    themata: &'static [&'static str],
    max_features_at_a_gap: bool,
}

const CASES: &[Case] = &[
    Case { sklearn: "{}", themata: &[], max_features_at_a_gap: false },
    Case {
        sklearn: r#"{"stop_words": "english", "ngram_range": [1, 2], "min_df": 2, "max_df": 0.5, "sublinear_tf": true}"#,
        themata: &[
            "--stop-words",
            "english",
            "--ngram-range",
            "1,2",
            "--min-df",
            "2",
            "--max-df",
            "0.5",
            "--sublinear-tf",
        ],
        max_features_at_a_gap: false,
    },
    Case {
        sklearn: r#"{"binary": true, "norm": "l1", "smooth_idf": false}"#,
        themata: &["--binary", "--norm", "l1", "--no-smooth-idf"],
        max_features_at_a_gap: true,
    },
    Case {
        sklearn: r#"{"strip_accents": "unicode", "use_idf": false, "norm": null, "min_df": 0.01, "ngram_range": [2, 3]}"#,
        themata: &["--strip-accents", "yes", "--no-idf", "--norm", "none", "--min-df", "0.01", "--ngram-range", "2,3"],
        max_features_at_a_gap: false,
    },
];

/// A `max_features` with a gap below it: the number of terms whose frequency (df, for `binary`) is at
/// least the smallest value that keeps at most 1,000 terms.
fn features_at_a_gap(dir: &Dir, out: &str) -> usize {
    let mut df: Vec<u64> = std::fs::read_to_string(dir.path(&format!("{out}/vocab.tsv")))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    df.sort_unstable_by(|a, b| b.cmp(a));
    let threshold = (1..).find(|&k| df.iter().filter(|&&d| d >= k).count() <= 1000).unwrap();
    let n = df.iter().filter(|&&d| d >= threshold).count();
    assert!(n >= 50 && n < df.len(), "a meaningful cut: {n} of {}", df.len());
    n
}

/// Reads themata's output folder into (vocabulary, rows of (column, weight)).
fn read_themata(dir: &Dir, out: &str) -> (Vec<String>, Vec<Vec<(usize, f64)>>) {
    let vocab: Vec<String> = std::fs::read_to_string(dir.path(&format!("{out}/vocab.tsv")))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    let mtx = std::fs::read_to_string(dir.path(&format!("{out}/matrix.mtx"))).unwrap();
    let mut lines = mtx.lines().filter(|l| !l.starts_with('%'));
    let shape: Vec<usize> = lines.next().unwrap().split(' ').map(|x| x.parse().unwrap()).collect();
    assert_eq!(shape[1], vocab.len());
    let mut rows = vec![Vec::new(); shape[0]];
    for line in lines {
        let mut parts = line.split(' ');
        let i: usize = parts.next().unwrap().parse().unwrap();
        let j: usize = parts.next().unwrap().parse().unwrap();
        let v: f64 = parts.next().unwrap().parse().unwrap();
        rows[i - 1].push((j - 1, v));
    }
    assert_eq!(rows.iter().map(Vec::len).sum::<usize>(), shape[2]);
    (vocab, rows)
}

fn check_parity(dir: &Dir, input: PathBuf, text_col: &str) {
    let input = input.to_str().unwrap().to_string();
    for (k, case) in CASES.iter().enumerate() {
        let out = format!("out{k}");
        let mut args = vec!["vectorize", input.as_str(), "--compat", "sklearn", "--text-col", text_col, "--out", &out];
        args.extend_from_slice(case.themata);
        dir.run(&args).ok();
        let mut sklearn_params: Value = serde_json::from_str(case.sklearn).unwrap();
        let max_features;
        if case.max_features_at_a_gap {
            max_features = features_at_a_gap(dir, &out).to_string();
            sklearn_params["max_features"] = Value::from(max_features.parse::<u64>().unwrap());
            args.extend(["--max-features", max_features.as_str()]);
            dir.run(&args).ok();
        }
        let sklearn_params = sklearn_params.to_string();
        let (vocab, rows) = read_themata(dir, &out);

        let reference = dir.path(&format!("sklearn{k}.json"));
        let mtx = dir.path(&format!("{out}/matrix.mtx"));
        let mut sklearn = Command::new(python());
        sklearn.arg(repo_file("scripts/sklearn_tfidf.py"));
        sklearn.args([&input, &sklearn_params, "--text-col", text_col, "--out", reference.to_str().unwrap()]);
        // And scipy reads matrix.mtx back to the same matrix (checked on the shipped corpus, for time).
        if input.ends_with("quotes.csv") {
            sklearn.args(["--check-mtx", mtx.to_str().unwrap()]);
        }
        let status = sklearn.status().unwrap();
        assert!(
            status.success(),
            "scikit-learn failed on {input} with {sklearn_params}, or scipy.io.mmread of {} differs from its matrix",
            mtx.display()
        );
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(&reference).unwrap()).unwrap();
        let expected_vocab: Vec<&str> =
            expected["vocab"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(vocab.len(), expected_vocab.len(), "{input} {}: vocabulary size", sklearn_params);
        if let Some(i) = vocab.iter().zip(&expected_vocab).position(|(a, b)| a != b) {
            panic!(
                "{input} {}: column {i} is {:?} in themata, {:?} in scikit-learn",
                sklearn_params, vocab[i], expected_vocab[i]
            );
        }
        let indptr: Vec<usize> =
            expected["indptr"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let indices = expected["indices"].as_array().unwrap();
        let data = expected["data"].as_array().unwrap();
        assert_eq!(rows.len(), indptr.len() - 1, "{input} {}: rows", sklearn_params);
        let mut max_diff = 0.0f64;
        for (r, row) in rows.iter().enumerate() {
            let expected_row: Vec<(usize, f64)> = (indptr[r]..indptr[r + 1])
                .map(|k| (indices[k].as_u64().unwrap() as usize, data[k].as_f64().unwrap()))
                .filter(|&(_, v)| v != 0.0)
                .collect();
            assert_eq!(row.len(), expected_row.len(), "{input} {}: entries in row {r}", sklearn_params);
            for (&(c, v), &(ec, ev)) in row.iter().zip(&expected_row) {
                assert_eq!(c, ec, "{input} {}: row {r}", sklearn_params);
                max_diff = max_diff.max((v - ev).abs());
            }
        }
        assert!(max_diff <= 1e-9, "{input} {}: largest weight difference {max_diff:e}", sklearn_params);
    }
}

#[test]
fn parity_on_the_shipped_corpus() {
    check_parity(&Dir::new(), repo_file("corpora/peer-support/quotes.csv"), "text");
}

/// Raw news text: punctuation, numbers, currency, one article that was latin-1.
#[test]
fn parity_on_bbc_news() {
    let dir = Dir::new();
    let input = real_corpus(&dir, "bbc.jsonl", 1500);
    check_parity(&dir, input, "text");
}

/// Spoken register: contractions, typographic quotes, short lines.
#[test]
fn parity_on_friends_dialogue_and_state_of_the_union() {
    let dir = Dir::new();
    let input = real_corpus(&dir, "friends.jsonl", 4000);
    check_parity(&dir, input, "text");
    let input = real_corpus(&dir, "sotu.jsonl", 2000);
    check_parity(&dir, input, "text");
}
