//! The commands on good input.

use crate::util::Dir;

#[test]
fn accepts_bom_crlf_and_quoted_fields_with_newlines_and_quotes() {
    let dir = Dir::new();
    dir.write(
        "q.csv",
        "\u{FEFF}id,study,text,codes,kind\r\nq1,S1,\"She said \"\"I'm a colleague\"\",\r\nnot a case\",A1; A3,participant\r\nq2,S2,plain,,author\r\n",
    );
    let out = dir.run(&["inspect", "q.csv", "--json"]).ok();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["quotes"], 2);
    assert_eq!(json["schema"]["id"], "id", "the BOM must not stick to the first column name");
    assert_eq!(json["schema"]["metadata"], serde_json::json!(["kind"]));
    assert_eq!(json["codes"], serde_json::json!({"A1": 1, "A3": 1}));
    let out = dir.run(&["tokenize", "q.csv", "--stem", "none", "--stop-words", "none"]).ok();
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let terms: Vec<&str> = first["tokens"].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap()).collect();
    assert_eq!(terms, ["she", "said", "i'm", "colleague", "not", "case"]);
}

#[test]
fn inspect_describes_a_corpus() {
    let dir = Dir::new();
    dir.write(
        "q.tsv",
        "id\tstudy\ttext\tcodes\n1\tS1\tone two three\tA1;B2\n2\tS1\tfour five\tA1\n3\tS2\tsix\t\n4\tS3\tseven eight nine ten\tB2\n",
    );
    let json: serde_json::Value = serde_json::from_str(&dir.run(&["inspect", "q.tsv", "--json"]).ok()).unwrap();
    assert_eq!(json["quotes"], 4);
    assert_eq!(json["studies"], 3);
    assert_eq!(json["quotes_per_study"], serde_json::json!({"min": 1, "median": 1.0, "mean": 4.0 / 3.0, "max": 2}));
    assert_eq!(json["codes"], serde_json::json!({"A1": 2, "B2": 2}));
    assert_eq!(json["multi_coded_quotes"], 1);
    assert_eq!(json["words"]["median"], 2.5);
    let text = dir.run(&["inspect", "q.tsv"]).ok();
    assert!(text.contains("studies   3; quotes per study: min 1, median 1, mean 1.3, max 2"), "{text}");
}

#[test]
fn ids_default_to_record_numbers_and_jsonl_reads_codes_arrays() {
    let dir = Dir::new();
    dir.write("q.jsonl", "{\"text\": \"peer work\", \"codes\": [\"A1\", \"B4\"], \"year\": 2011}\n\n{\"text\": \"more\", \"codes\": \"A2;A3\"}\n");
    let json: serde_json::Value = serde_json::from_str(&dir.run(&["inspect", "q.jsonl", "--json"]).ok()).unwrap();
    assert_eq!(json["codes"], serde_json::json!({"A1": 1, "A2": 1, "A3": 1, "B4": 1}));
    assert_eq!(json["schema"]["metadata"], serde_json::json!(["year"]));
    let out = dir.run(&["tokenize", "q.jsonl"]).ok();
    let ids: Vec<String> =
        out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string()).collect();
    assert_eq!(ids, ["\"1\"", "\"2\""]);
}

#[test]
fn tokenize_writes_atomically_and_identically_for_any_thread_count() {
    let dir = Dir::new();
    let mut csv = String::from("id,text\n");
    for i in 0..2000 {
        csv.push_str(&format!("q{i},\"Quote {i}: helping others helped me stay well, said peer {}\"\n", i % 17));
    }
    dir.write("q.csv", csv);
    dir.run(&["tokenize", "q.csv", "--threads", "1", "--out", "one.jsonl", "--ngram-range", "1,2"]).ok();
    dir.run(&["tokenize", "q.csv", "--threads", "2", "--out", "two.jsonl", "--ngram-range", "1,2"]).ok();
    let one = std::fs::read(dir.path("one.jsonl")).unwrap();
    assert_eq!(one, std::fs::read(dir.path("two.jsonl")).unwrap());
    assert_eq!(one.iter().filter(|&&b| b == b'\n').count(), 2000);
    assert_eq!(dir.files(), ["one.jsonl", "q.csv", "two.jsonl"], "no temporary file left behind");
}

#[test]
fn help_explains_every_option_with_its_default() {
    let dir = Dir::new();
    let top = dir.run(&["--help"]).ok();
    assert!(top.contains("inspect") && top.contains("tokenize") && top.contains("Exit status"));
    let inspect = dir.run(&["inspect", "--help"]).ok();
    for option in
        ["--format", "--text-col", "--id-col", "--study-col", "--codes-col", "--code-sep", "--strict", "--json"]
    {
        assert!(inspect.contains(option), "inspect --help lacks {option}");
    }
    for default in ["[default: text]", "[default: id;", "[default: study", "[default: codes", "[default: ;]"] {
        assert!(inspect.contains(default), "inspect --help lacks {default}");
    }
    let tokenize = dir.run(&["tokenize", "--help"]).ok();
    for option in
        ["--compat", "--lowercase", "--strip-accents", "--stop-words", "--keep-words", "--ngram-range", "--threads"]
    {
        assert!(tokenize.contains(option), "tokenize --help lacks {option}");
    }
}

/// Standard error is not a terminal here: no progress bar may be drawn; --verbose gives one line per
/// stage, --quiet nothing at all, and the outputs are the same.
#[test]
fn verbose_lists_stages_and_quiet_is_silent() {
    let dir = Dir::new();
    let corpus = crate::util::repo_file("corpora/peer-support/tiny.csv");
    let corpus = corpus.to_str().unwrap();
    let common = ["--k", "3", "--stability-runs", "1", "--lsa-dims", "5"];
    let mut verbose = vec!["suggest", corpus, "--out", "v", "--verbose"];
    verbose.extend(common);
    let mut quiet = vec!["suggest", corpus, "--out", "q", "--quiet"];
    quiet.extend(common);
    let run = dir.run(&verbose);
    run.ok();
    let err = run.stderr();
    for stage in ["read: ", "vectorize: ", "LSA: ", "k-means: ", "stability: ", "time: "] {
        assert!(err.lines().any(|l| l.starts_with(stage)), "no {stage:?} line in:\n{err}");
    }
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "no terminal control codes when not a terminal");
    let run = dir.run(&quiet);
    run.ok();
    assert_eq!(run.stderr(), "", "--quiet prints nothing on standard error");
    for name in ["themes.json", "report.html", "assignments.csv"] {
        let a = std::fs::read(dir.path(&format!("v/{name}"))).unwrap();
        let b = std::fs::read(dir.path(&format!("q/{name}"))).unwrap();
        assert!(a == b, "{name} differs between --verbose and --quiet");
    }
    let run = dir.run(&["inspect", corpus, "--verbose"]);
    run.ok();
    assert!(run.stderr().starts_with("inspect: 12 quotes read and checked"), "{}", run.stderr());
}
