//! The shipped peer-support corpus keeps its promises (corpora/peer-support/README.md).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};
use themata::corpus::{Corpus, CorpusOptions};
use themata::tokenize::unicode_words;

use crate::util::{Dir, repo_file};

fn load(name: &str) -> Corpus {
    Corpus::load(&repo_file(&format!("corpora/peer-support/{name}")), &CorpusOptions::default()).unwrap()
}

fn column(corpus: &Corpus, name: &str) -> Vec<String> {
    let i = corpus.schema.metadata.iter().position(|c| c == name).unwrap();
    corpus.quotes.iter().map(|q| q.metadata[i].clone()).collect()
}

#[test]
fn quotes_reference_the_codebook_and_the_studies() {
    let quotes = load("quotes.csv");
    let codebook = load_keys("codebook.csv", "code", "name");
    let studies = load_keys("studies.csv", "study", "field");
    assert_eq!(codebook.len(), 9);
    assert_eq!(studies.len(), 34);
    assert!(quotes.quotes.len() >= 400);
    let ids: BTreeSet<&str> = quotes.quotes.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids.len(), quotes.quotes.len(), "ids are unique");
    let mut quotes_per_code: BTreeMap<&str, usize> = BTreeMap::new();
    let mut studies_per_code: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut per_study: BTreeMap<&str, usize> = BTreeMap::new();
    for q in &quotes.quotes {
        let study = q.study.as_deref().unwrap();
        assert!(studies.contains_key(study), "{}: unknown study {study}", q.id);
        *per_study.entry(study).or_default() += 1;
        assert!((1..=3).contains(&q.codes.len()), "{}: {} codes", q.id, q.codes.len());
        for code in &q.codes {
            assert!(codebook.contains_key(code.as_str()), "{}: code {code} not in the codebook", q.id);
            *quotes_per_code.entry(code).or_default() += 1;
            studies_per_code.entry(code).or_default().insert(study);
        }
    }
    for (code, n) in &quotes_per_code {
        let n_studies = studies_per_code[code].len();
        assert!(*n >= 20 && n_studies >= 5, "code {code}: {n} quotes from {n_studies} studies");
    }
    assert_eq!(per_study.len(), 34, "every study contributes");
    assert!(per_study.values().all(|&n| (3..=30).contains(&n)), "{per_study:?}");
    let multi = quotes.quotes.iter().filter(|q| q.codes.len() > 1).count();
    assert!(multi * 4 >= quotes.quotes.len(), "at least a quarter carry several codes: {multi}");
    let kinds = column(&quotes, "kind");
    let authors = kinds.iter().filter(|k| *k == "author").count();
    assert!(kinds.iter().all(|k| k == "participant" || k == "author"));
    assert!((50..=100).contains(&authors), "about one row in six is an author's: {authors}");
}

fn load_keys(name: &str, key: &str, value: &str) -> HashMap<String, String> {
    let options = CorpusOptions { text_col: themata::corpus::ColumnSpec::explicit(value), ..CorpusOptions::default() };
    let corpus = Corpus::load(&repo_file(&format!("corpora/peer-support/{name}")), &options).unwrap();
    // `study` is read as the study column; other keys are metadata.
    let keys = if key == "study" {
        corpus.quotes.iter().map(|q| q.study.clone().unwrap()).collect()
    } else {
        column(&corpus, key)
    };
    keys.into_iter().zip(corpus.quotes.iter().map(|q| q.text.clone())).collect()
}

#[test]
fn no_eight_word_sequence_appears_in_two_quotes() {
    let quotes = load("quotes.csv");
    let mut first_seen: HashMap<Vec<String>, &str> = HashMap::new();
    let mut ranges = Vec::new();
    for q in &quotes.quotes {
        ranges.clear();
        unicode_words(&q.text, &mut ranges);
        let words: Vec<String> = ranges.iter().map(|r| q.text[r.clone()].to_lowercase().replace('’', "'")).collect();
        let mut own = BTreeSet::new();
        for gram in words.windows(8) {
            if !own.insert(gram.to_vec()) {
                continue;
            }
            if let Some(other) = first_seen.insert(gram.to_vec(), &q.id) {
                panic!("{:?} appears in {other} and {}", gram.join(" "), q.id);
            }
        }
    }
}

#[test]
fn tiny_is_twelve_rows_of_quotes() {
    let tiny = load("tiny.csv");
    let quotes = load("quotes.csv");
    assert_eq!(tiny.quotes.len(), 12);
    for t in &tiny.quotes {
        let q = quotes.quotes.iter().find(|q| q.id == t.id).unwrap();
        assert_eq!((&q.text, &q.codes, &q.study), (&t.text, &t.codes, &t.study));
    }
}

#[test]
fn readme_checksums_match_the_files() {
    let readme = std::fs::read_to_string(repo_file("corpora/peer-support/README.md")).unwrap();
    for name in ["quotes.csv", "studies.csv", "codebook.csv", "tiny.csv"] {
        let bytes = std::fs::read(repo_file(&format!("corpora/peer-support/{name}"))).unwrap();
        let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert!(readme.contains(&digest), "README lacks the SHA-256 of {name}: {digest}");
    }
}

#[test]
fn inspect_reports_the_shipped_corpus() {
    let dir = Dir::new();
    let path = repo_file("corpora/peer-support/quotes.csv");
    let out = dir.run(&["inspect", path.to_str().unwrap(), "--json"]).ok();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["studies"], 34);
    assert!(json["quotes"].as_u64().unwrap() >= 400);
    assert_eq!(json["codes"].as_object().unwrap().len(), 9);
}

#[test]
fn tokenize_prints_tokens_for_every_quote() {
    let dir = Dir::new();
    let path = repo_file("corpora/peer-support/quotes.csv");
    let out = dir.run(&["tokenize", path.to_str().unwrap()]).ok();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 454);
    assert!(lines.iter().all(|l| !l["tokens"].as_array().unwrap().is_empty()));
}
