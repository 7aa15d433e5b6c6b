//! `themata compare`: the analyst's loop (suggest, then compare with the manual coding), both layouts of
//! the manual coding, end-to-end agreement numbers against scikit-learn, and bad input.

use std::process::Command;

use serde_json::Value;

use crate::parity::python;
use crate::util::{Dir, quick_suggest, repo_file};

const FILES: [&str; 3] = ["compare.json", "compare.md", "disagreements.csv"];

/// A quick `suggest` run on the shipped corpus into `dir/out`.
fn suggest(dir: &Dir) {
    quick_suggest(dir, &repo_file("corpora/peer-support/quotes.csv"), "9", "out", &[]);
}

fn json(dir: &Dir, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.path(name)).unwrap()).unwrap()
}

#[test]
fn compare_after_suggest_writes_three_files_with_scikit_learn_numbers() {
    let dir = Dir::new();
    suggest(&dir);
    let quotes = repo_file("corpora/peer-support/quotes.csv");
    let codebook = repo_file("corpora/peer-support/codebook.csv");
    let summary = dir
        .run(&[
            "compare",
            "--suggested",
            "out",
            "--manual",
            quotes.to_str().unwrap(),
            "--codebook",
            codebook.to_str().unwrap(),
        ])
        .ok();
    assert!(summary.contains("454 quotes compared (9 themes, 9 codes; single-label"), "{summary}");
    assert!(summary.contains("agreement: ARI"), "{summary}");
    for name in FILES {
        assert!(dir.path(&format!("out/{name}")).exists(), "{name} written into the suggestion folder");
    }
    let c = json(&dir, "out/compare.json");
    assert_eq!(c["schema"], "themata.compare");
    assert_eq!(c["n_compared"], 454);
    assert_eq!(c["manual_layout"], "quote_file");
    let pairs = c["pairs"].as_array().unwrap();
    assert!(!pairs.is_empty() && pairs.len() <= 9);
    // The codebook names every code, in compare.json and in what people read.
    assert_eq!(c["code_names"].as_object().unwrap().len(), 9);
    assert_eq!(c["code_names"]["B5"], "Training and supervision");
    assert!(pairs.iter().all(|p| p["code_name"].is_string()));
    let named = format!("{} ({})", pairs[0]["code"].as_str().unwrap(), pairs[0]["code_name"].as_str().unwrap());
    assert!(summary.contains(&named), "{named} in:\n{summary}");
    let matched = pairs.len() + c["unmatched_themes"].as_array().unwrap().len();
    assert_eq!(matched, 9, "every theme is matched or listed as unmatched");

    // The same numbers from scikit-learn, on the files themselves: first code against theme.
    let script = r#"
import csv, json, sys
from sklearn import metrics
theme = {r["id"]: r["theme"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
code = {r["id"]: r["codes"].split(";")[0].strip() for r in csv.DictReader(open(sys.argv[2], encoding="utf-8-sig"))}
ids = [i for i in theme if i in code]
t, p = [code[i] for i in ids], [theme[i] for i in ids]
print(json.dumps({"ari": metrics.adjusted_rand_score(t, p), "nmi": metrics.normalized_mutual_info_score(t, p),
                  "ami": metrics.adjusted_mutual_info_score(t, p), "v_measure": metrics.v_measure_score(t, p),
                  "fowlkes_mallows": metrics.fowlkes_mallows_score(t, p)}))
"#;
    let output = Command::new(python())
        .args(["-c", script, dir.path("out/assignments.csv").to_str().unwrap(), quotes.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["ari", "nmi", "ami", "v_measure", "fowlkes_mallows"] {
        let (ours, theirs) = (c[key].as_f64().unwrap(), reference[key].as_f64().unwrap());
        assert!((ours - theirs).abs() <= 1e-9, "{key}: themata {ours}, scikit-learn {theirs}");
    }

    // Every disagreement row names a reason, a quote and its text.
    let rows = std::fs::read_to_string(dir.path("out/disagreements.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(rows.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        ["kind", "theme", "code", "id", "study", "assigned_theme", "score", "second_theme", "codes", "text"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let expected: u64 = pairs
        .iter()
        .map(|p| p["in_theme_not_coded"].as_u64().unwrap() + p["coded_not_in_theme"].as_u64().unwrap())
        .sum::<u64>()
        + c["unmatched_themes"].as_array().unwrap().iter().map(|u| u["size"].as_u64().unwrap()).sum::<u64>()
        + c["unmatched_codes"].as_array().unwrap().iter().map(|u| u["size"].as_u64().unwrap()).sum::<u64>();
    assert_eq!(records.len() as u64, expected);
    assert!(records.iter().all(|r| !r[3].is_empty() && !r[9].is_empty()));
    let md = std::fs::read_to_string(dir.path("out/compare.md")).unwrap();
    assert!(md.contains("## Agreement") && md.contains("## Quotes to re-read"), "{md}");
}

#[test]
fn id_code_rows_give_the_same_numbers_and_gaps_are_listed() {
    let dir = Dir::new();
    suggest(&dir);
    let quotes = repo_file("corpora/peer-support/quotes.csv");
    dir.run(&["compare", "--manual", quotes.to_str().unwrap(), "--suggested", "out", "--out", "a"]).ok();
    // The same coding as id,code rows (one row per code), minus the first quote, plus one unknown quote
    // and one uncoded quote.
    let corpus = std::fs::read_to_string(&quotes).unwrap();
    let mut reader = csv::Reader::from_reader(corpus.as_bytes());
    let header = reader.headers().unwrap().clone();
    let (id_col, codes_col) =
        (header.iter().position(|h| h == "id").unwrap(), header.iter().position(|h| h == "codes").unwrap());
    let mut rows = String::from("id,code\n");
    let mut first_id = String::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        if i == 0 {
            first_id = record[id_col].to_string();
            continue;
        }
        for code in record[codes_col].split(';') {
            rows.push_str(&format!("{},{}\n", &record[id_col], code.trim()));
        }
    }
    rows.push_str("not-a-quote,A1\n");
    dir.write("codes.csv", rows);
    let quotes_arg = quotes.to_str().unwrap();
    let summary =
        dir.run(&["compare", "--manual", "codes.csv", "--suggested", "out", "--out", "b", "--quotes", quotes_arg]).ok();
    assert!(summary.contains("453 quotes compared"), "{summary}");
    assert!(summary.contains("1 only in the suggestion, 1 only in the manual coding"), "{summary}");
    let (a, b) = (json(&dir, "a/compare.json"), json(&dir, "b/compare.json"));
    assert_eq!(b["manual_layout"], "id_code_rows");
    assert_eq!(b["only_suggested"], serde_json::json!([first_id]));
    assert_eq!(b["only_manual"], serde_json::json!(["not-a-quote"]));
    assert_eq!(a["n_compared"], 454);
    // --quotes gave the id,code rows their texts: every disagreement row has one.
    let rows = std::fs::read_to_string(dir.path("b/disagreements.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(rows.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!records.is_empty() && records.iter().all(|r| !r[9].is_empty()), "texts filled from --quotes");
    assert!((a["ari"].as_f64().unwrap() - b["ari"].as_f64().unwrap()).abs() < 0.05, "one quote less, close ARI");
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let dir = Dir::new();
    dir.write("codes.csv", "id,code\nq1,A\n");
    dir.run(&["compare", "--suggested", "missing", "--manual", "codes.csv"])
        .fails_with(&["--suggested missing: expected a folder written by `themata suggest`", "themes.json"]);
    suggest(&dir);
    let assignments = std::fs::read_to_string(dir.path("out/assignments.csv")).unwrap();
    let mut broken = assignments.clone();
    let line3 = broken.lines().nth(2).unwrap().to_string();
    let mut fields: Vec<&str> = line3.split(',').collect();
    fields[2] = "99";
    broken = broken.replacen(&line3, &fields.join(","), 1);
    std::fs::create_dir(dir.path("broken")).unwrap();
    std::fs::copy(dir.path("out/themes.json"), dir.path("broken/themes.json")).unwrap();
    dir.write("broken/assignments.csv", broken);
    dir.run(&["compare", "--suggested", "broken", "--manual", "codes.csv"]).fails_with(&[
        "assignments.csv: record 2 (line 3), column \"theme\": expected a theme number listed in themes.json",
        "found \"99\"",
    ]);
    dir.write("nocodes.csv", "id,label\nq1,A\n");
    dir.run(&["compare", "--suggested", "out", "--manual", "nocodes.csv"]).fails_with(&[
        "nocodes.csv: line 1: no column of codes",
        "--codes-col",
        "--code-col",
    ]);
    dir.write("empty-id.csv", "id,code\nq1,A\n,B\n");
    dir.run(&["compare", "--suggested", "out", "--manual", "empty-id.csv"])
        .fails_with(&["empty-id.csv: record 2 (line 3, column \"id\"): the quote id is empty"]);
    dir.run(&["compare", "--suggested", "out", "--manual", "codes.csv"])
        .fails_with(&["no coded quote is on both sides", "check --id-col"]);
    dir.write("latin1.csv", b"id,code\nq1,B\xe92\n");
    dir.run(&["compare", "--suggested", "out", "--manual", "latin1.csv"]).fails_with(&[
        "latin1.csv: record 1 (line 2, column \"code\"): invalid UTF-8 at byte offset 12 of the file (line 2)",
    ]);
    dir.write("open-quote.csv", "id,code\nq1,\"A1\nq2,B1\n");
    dir.run(&["compare", "--suggested", "out", "--manual", "open-quote.csv"]).fails_with(&[
        "open-quote.csv: record 1 (line 2, column \"code\"): the quoted field that opens on line 2 never closes",
    ]);
    dir.write("book.csv", "code,label\nA,first\n");
    dir.run(&["compare", "--suggested", "out", "--manual", "codes.csv", "--codebook", "book.csv"])
        .fails_with(&["book.csv: line 1: no column named \"name\" (given by --codebook)"]);
    dir.write("book2.csv", "code,name\nA,first\nA,again\n");
    dir.run(&["compare", "--suggested", "out", "--manual", "codes.csv", "--codebook", "book2.csv"])
        .fails_with(&["book2.csv: record 2 (line 3), column \"code\": expected each code once (it is also on line 2)"]);
    for name in FILES {
        assert!(!dir.path(&format!("out/{name}")).exists(), "{name} must not be written on error");
        assert!(!dir.path(&format!("broken/{name}")).exists(), "{name} must not be written on error");
    }
}
