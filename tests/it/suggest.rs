//! `themata suggest`: the main job.

use crate::util::{Dir, repo_file};

const FILES: [&str; 6] = ["themes.json", "themes.csv", "assignments.csv", "report.md", "report.html", "manifest.json"];

#[test]
fn suggest_writes_six_files_identical_for_one_and_two_threads() {
    let dir = Dir::new();
    let corpus = repo_file("corpora/peer-support/quotes.csv");
    let corpus = corpus.to_str().unwrap();
    let common = [
        "--k-range",
        "4,6",
        "--stability-runs",
        "2",
        "--lsa-dims",
        "20",
        "--lsa-iter",
        "3",
        "--n-init",
        "2",
        "--seed",
        "7",
    ];
    let mut one = vec!["suggest", corpus, "--threads", "1", "--out", "one"];
    one.extend(common);
    let mut two = vec!["suggest", corpus, "--threads", "2", "--out", "two"];
    two.extend(common);
    let summary = dir.run(&one).ok();
    dir.run(&two).ok();
    assert!(summary.contains("candidate themes from 454 quotes"), "{summary}");
    assert!(summary.contains("k chosen by the highest silhouette x stability^2"), "{summary}");
    for name in FILES {
        assert!(dir.path(&format!("one/{name}")).exists(), "{name} written");
    }
    // The manifest records the thread count and timings; every other file must match byte for byte.
    for name in &FILES[..5] {
        let a = std::fs::read(dir.path(&format!("one/{name}"))).unwrap();
        let b = std::fs::read(dir.path(&format!("two/{name}"))).unwrap();
        assert!(a == b, "{name} differs between --threads 1 and --threads 2");
    }
    let themes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("one/themes.json")).unwrap()).unwrap();
    assert_eq!(themes["schema_version"], 1);
    let k = themes["k"].as_u64().unwrap() as usize;
    assert!((4..=6).contains(&k));
    let list = themes["themes"].as_array().unwrap();
    assert_eq!(list.len(), k);
    let total: u64 = list.iter().map(|t| t["size"].as_u64().unwrap()).sum();
    assert_eq!(total, 454, "every quote in exactly one theme");
    for t in list {
        assert!(!t["words"].as_array().unwrap().is_empty() && !t["quotes"].as_array().unwrap().is_empty());
        let stability = t["stability_reseeded"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&stability));
        assert!(t["stability_leave_one_study_out"].as_f64().is_some());
    }
    let assignments = std::fs::read_to_string(dir.path("one/assignments.csv")).unwrap();
    assert!(assignments.starts_with("id,study,theme,score,second_theme\n"));
    assert_eq!(assignments.lines().count(), 455);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("one/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["input"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["seed"], 7);
    assert_eq!(manifest["threads"], 1);
    assert!(manifest["parameters"]["tokenizer"]["ngram_range"].is_array());
    let cluster = &manifest["parameters"]["cluster"];
    assert_eq!((&cluster["n_components"], &cluster["n_iter"], &cluster["n_init"]), (&20.into(), &3.into(), &2.into()));
    let report = std::fs::read_to_string(dir.path("one/report.md")).unwrap();
    assert!(report.contains("## Theme 1:") && report.contains("Representative quotes"));
}

#[test]
fn suggest_without_a_file_runs_on_the_shipped_corpus_and_bad_input_writes_nothing() {
    let dir = Dir::new();
    let out =
        dir.run(&["suggest", "--k", "5", "--stability-runs", "1", "--no-leave-one-study-out", "--lsa-dims", "20"]).ok();
    assert!(out.contains("5 candidate themes from 454 quotes"), "{out}");
    assert!(dir.path("themata-out/themes.json").exists());
    dir.write("bad.csv", "id,text\n1,one quote here\n1,again\n");
    dir.run(&["suggest", "bad.csv", "--out", "bad-out"]).fails_with(&["duplicate quote id \"1\""]);
    dir.run(&["suggest", "--k", "1"]).fails_with(&["--k"]);
    assert!(!dir.path("bad-out").exists());
}

#[test]
fn without_stability_runs_every_output_says_not_measured_and_none_says_nan() {
    let dir = Dir::new();
    let corpus = repo_file("corpora/peer-support/quotes.csv");
    let summary = dir
        .run(&[
            "suggest",
            corpus.to_str().unwrap(),
            "--k",
            "4",
            "--stability-runs",
            "0",
            "--lsa-dims",
            "30",
            "--export-qdc",
            "themes.qdc",
            "--out",
            "out",
        ])
        .ok();
    assert!(summary.contains("stability not measured"), "{summary}");
    assert!(!summary.contains("unstable"), "an unmeasured stability warns of nothing: {summary}");
    for file in ["out/themes.json", "out/themes.csv", "out/report.md", "out/report.html", "themes.qdc"] {
        let text = std::fs::read_to_string(dir.path(file)).unwrap();
        assert!(!text.contains("NaN"), "{file} shows NaN");
    }
    assert!(
        std::fs::read_to_string(dir.path("out/report.md")).unwrap().contains("stability not measured when reseeded")
    );
    let themes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("out/themes.json")).unwrap()).unwrap();
    assert!(themes["themes"][0]["stability_reseeded"].is_null());
}
