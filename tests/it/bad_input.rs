//! Every class of bad input: exit code 2, the position in the message, and nothing written.

use crate::util::Dir;

/// Runs `tokenize FILE --out out.jsonl` and `inspect FILE` on a bad file; both must fail with every
/// fragment in the message, and leave the folder as it was.
fn check_bad(name: &str, contents: &[u8], extra: &[&str], fragments: &[&str]) {
    let dir = Dir::new();
    dir.write(name, contents);
    let before = dir.files();
    let mut args = vec!["tokenize", name, "--out", "out.jsonl"];
    args.extend_from_slice(extra);
    dir.run(&args).fails_with(fragments);
    let mut args = vec!["inspect", name];
    args.extend_from_slice(extra);
    dir.run(&args).fails_with(fragments);
    assert_eq!(dir.files(), before, "nothing may be written");
}

#[test]
fn missing_file() {
    let dir = Dir::new();
    dir.run(&["inspect", "nope.csv"]).fails_with(&["nope.csv", "cannot read the file", "No such file"]);
    dir.run(&["tokenize", "nope.csv", "--out", "out.jsonl"]).fails_with(&["nope.csv"]);
    assert!(dir.files().is_empty());
}

#[test]
fn unreadable_file() {
    let dir = Dir::new();
    std::fs::create_dir(dir.path("folder.csv")).unwrap();
    dir.run(&["inspect", "folder.csv"]).fails_with(&["folder.csv", "cannot read"]);
}

#[test]
fn unknown_extension() {
    check_bad("quotes.xlsx", b"id,text\n1,a\n", &[], &["quotes.xlsx", "--format"]);
}

#[test]
fn named_column_missing_lists_columns_and_suggests() {
    check_bad(
        "q.csv",
        b"id,study,Quote\n1,S1,hello there\n",
        &["--text-col", "quote"],
        &[
            "q.csv",
            "line 1",
            "no column named \"quote\"",
            "--text-col",
            "\"id\", \"study\", \"Quote\"",
            "did you mean \"Quote\"?",
        ],
    );
    // The default text column must exist too.
    check_bad("q.csv", b"id,txt\n1,hello\n", &[], &["no column named \"text\"", "did you mean \"txt\"?"]);
    // Explicit optional columns must exist; defaults may be absent.
    check_bad("q.csv", b"id,text\n1,hello\n", &["--study-col", "stdy"], &["no column named \"stdy\"", "--study-col"]);
}

#[test]
fn ragged_row() {
    check_bad(
        "q.csv",
        b"id,study,text\n1,S1,fine\n2,S1,\"multi\nline\"\n3,S2\n",
        &[],
        &["q.csv", "record 3 (line 5)", "expected 3 fields", "found 2"],
    );
}

#[test]
fn invalid_utf8_names_line_and_byte_offset() {
    // Byte 0xE9 (latin-1 é) sits at byte 32 of the file, on line 3, in column "text".
    let contents = b"id,study,text\n1,S1,fine\n2,S2,caf\xE9 ok\n";
    assert_eq!(contents.iter().position(|&b| b == 0xE9), Some(32));
    check_bad(
        "q.csv",
        contents,
        &[],
        &["record 2 (line 3, column \"text\")", "invalid UTF-8 at byte offset 32", "(line 3)"],
    );
    // Inside a multi-line quoted field the bad byte's own line is named.
    check_bad("q.tsv", b"id\ttext\n1\t\"one\ntwo \xFF\"\n", &[], &["record 1 (line 2", "byte offset 19", "(line 3)"]);
    check_bad(
        "q.jsonl",
        b"{\"text\": \"ok\"}\n{\"text\": \"caf\xE9\"}\n",
        &[],
        &["q.jsonl", "record 2 (line 2)", "byte offset 28"],
    );
}

#[test]
fn duplicate_id_names_both_lines() {
    check_bad(
        "q.csv",
        b"id,text\nq1,first\nq2,second\nq1,third\n",
        &[],
        &["record 3 (line 4, column \"id\")", "duplicate quote id \"q1\"", "also on line 2"],
    );
}

#[test]
fn empty_text_is_skipped_with_a_warning_or_an_error_under_strict() {
    let dir = Dir::new();
    dir.write("q.csv", "id,text\nq1,hello there\nq2,\"  \"\nq3,\nq4,fine words\n");
    let run = dir.run(&["inspect", "q.csv"]);
    let out = run.ok();
    assert!(out.contains("quotes    2 (2 skipped"), "{out}");
    assert!(out.contains("q2 (line 3), q3 (line 4)"), "{out}");
    let run = dir.run(&["tokenize", "q.csv"]);
    assert_eq!(run.ok().lines().count(), 2);
    assert!(run.stderr().contains("warning: skipped 2 quote(s)"), "{}", run.stderr());
    check_bad(
        "q.csv",
        b"id,text\nq1,hello\nq2,\"  \"\n",
        &["--strict"],
        &["record 2 (line 3, column \"text\")", "\"q2\"", "empty"],
    );
}

#[test]
fn jsonl_errors() {
    check_bad(
        "q.jsonl",
        b"{\"text\": \"ok\"}\n[1, 2]\n",
        &[],
        &["q.jsonl", "line 2", "expected a JSON object", "an array"],
    );
    check_bad("q.jsonl", b"{\"text\": \"ok\"}\n{\"txt\": \"no\"}\n", &[], &["line 2", "field \"text\" is missing"]);
    check_bad("q.jsonl", b"{\"text\": 5}\n", &[], &["line 1", "field \"text\" is a number; expected a string"]);
    check_bad("q.jsonl", b"{\"text\": \"ok\"\n", &[], &["line 1, column", "invalid JSON"]);
    check_bad("q.jsonl", b"{\"text\": \"ok\"}\n", &["--study-col", "src"], &["line 1", "field \"src\" is missing"]);
}

#[test]
fn bad_options_are_errors_too() {
    let dir = Dir::new();
    dir.write("q.csv", "id,text\n1,hello there\n");
    dir.run(&["tokenize", "q.csv", "--ngram-range", "2,1"]).fails_with(&["n-gram range 2,1"]);
    dir.run(&["tokenize", "q.csv", "--ngram-range", "x"]).fails_with(&["MIN,MAX"]);
    dir.run(&["tokenize", "q.csv", "--stop-words", "nolist.txt"])
        .fails_with(&["--stop-words \"nolist.txt\"", "nolist.txt"]);
    dir.run(&["inspect", "q.csv", "--code-sep", ""]).fails_with(&["--code-sep"]);
    assert_eq!(dir.files(), ["q.csv"]);
}

#[test]
fn vectorize_stops_at_a_bad_row_after_many_good_ones_and_writes_nothing() {
    // Past the first batches read beside the counting, so the error crosses from the reading thread.
    let dir = Dir::new();
    let mut csv = String::from("id,text\n");
    for i in 1..=40_000 {
        csv.push_str(&format!("q{i},words of quote {i}\n"));
    }
    csv.push_str("q7,a repeated id\n");
    dir.write("q.csv", &csv);
    let before = dir.files();
    dir.run(&["vectorize", "q.csv", "--out", "vectors"]).fails_with(&[
        "q.csv",
        "record 40001 (line 40002, column \"id\")",
        "duplicate quote id \"q7\"",
        "also on line 8",
    ]);
    assert_eq!(dir.files(), before, "nothing may be written");
}

#[test]
fn an_unterminated_quote_is_an_error_not_one_long_quote() {
    // The csv crate reads such a field to the end of the file: three quotes would become one.
    check_bad(
        "q.csv",
        b"id,text\nq1,\"hello there\nq2,world of words\nq3,again and again\n",
        &[],
        &["q.csv", "record 1 (line 2, column \"text\")", "opens on line 2 never closes", "written twice"],
    );
    // In the last record, after escaped quotes and a quoted field over two lines, in a TSV.
    check_bad(
        "q.tsv",
        b"id\ttext\nq1\t\"say \"\"hi\"\"\"\nq2\t\"two\nlines\"\nq3\t\"open",
        &[],
        &["q.tsv", "record 3 (line 5, column \"text\")", "opens on line 5"],
    );
}
