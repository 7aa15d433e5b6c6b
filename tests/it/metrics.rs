//! The agreement metrics against scikit-learn 1.9.1 (and the `krippendorff` package for alpha) on
//! generated labelings, to 1e-9: sizes from 1 to 2,000 quotes, 1 to 15 labels, identical, permuted,
//! all-in-one and all-apart labelings, and missing ratings. Runs `scripts/reference_metrics.py` once.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use themata::evaluate::metrics::{self, Contingency};

use crate::parity::python;
use crate::util::repo_file;

/// A small deterministic generator (the cases must be the same on every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u32) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as u32
    }
}

fn partitions() -> Vec<(Vec<u32>, Vec<u32>)> {
    let mut rng = Lcg(7);
    let mut cases = Vec::new();
    for &n in &[1usize, 2, 3, 5, 12, 40, 150, 600, 2000] {
        for &(k_true, k_pred) in &[(1u32, 1u32), (1, 4), (3, 1), (2, 2), (4, 7), (9, 5), (15, 15)] {
            let t: Vec<u32> = (0..n).map(|_| rng.below(k_true)).collect();
            let p: Vec<u32> = (0..n).map(|_| rng.below(k_pred)).collect();
            // A noisy copy of t: partial agreement, the realistic case.
            let noisy: Vec<u32> =
                t.iter().map(|&x| if rng.below(4) == 0 { rng.below(k_pred) } else { x * 3 + 1 }).collect();
            cases.push((t.clone(), p));
            cases.push((t, noisy));
        }
    }
    let ramp: Vec<u32> = (0..50).collect();
    cases.push((ramp.clone(), ramp.iter().map(|x| 49 - x).collect())); // identical up to names
    cases.push((ramp.clone(), vec![0; 50])); // all apart vs all in one
    cases
}

fn kappas() -> Vec<(Vec<u32>, Vec<u32>)> {
    let mut rng = Lcg(11);
    let mut cases = vec![(vec![0, 0, 1, 1, 1, 0], vec![0, 1, 1, 1, 0, 0]), (vec![1, 1, 1], vec![1, 1, 1])];
    for &n in &[4usize, 30, 500] {
        for bias in [2u32, 3, 10] {
            let a: Vec<u32> = (0..n).map(|_| u32::from(rng.below(bias) == 0)).collect();
            let b: Vec<u32> = a.iter().map(|&x| if rng.below(3) == 0 { 1 - x } else { x }).collect();
            cases.push((a, b));
        }
    }
    cases
}

fn alphas() -> Vec<Vec<Vec<Option<u32>>>> {
    let mut rng = Lcg(13);
    let mut cases = vec![vec![vec![Some(1), Some(2), Some(3), Some(1)], vec![Some(1), Some(2), Some(3), Some(2)]]];
    for &(coders, units, values) in &[(2usize, 10usize, 3u32), (2, 200, 9), (3, 50, 4), (5, 80, 6)] {
        let truth: Vec<u32> = (0..units).map(|_| rng.below(values)).collect();
        let ratings = (0..coders)
            .map(|_| {
                truth
                    .iter()
                    .map(|&v| match rng.below(10) {
                        0 => None,
                        1 | 2 => Some(rng.below(values)),
                        _ => Some(v),
                    })
                    .collect()
            })
            .collect();
        cases.push(ratings);
    }
    cases
}

fn close(what: &str, ours: Option<f64>, reference: &Value) {
    match (ours, reference.as_f64()) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-9, "{what}: themata {a}, reference {b}"),
        (a, _) => panic!("{what}: themata {a:?}, reference {reference}"),
    }
}

#[test]
fn metrics_equal_scikit_learn_and_krippendorff() {
    let (partitions, kappas, alphas) = (partitions(), kappas(), alphas());
    let cases = json!({
        "partitions": partitions.iter().map(|(t, p)| json!({"true": t, "pred": p})).collect::<Vec<_>>(),
        "kappa": kappas,
        "alpha": alphas,
    });
    let mut child = Command::new(python())
        .arg(repo_file("scripts/reference_metrics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(cases.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "scripts/reference_metrics.py failed");
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();

    for (i, (t, p)) in partitions.iter().enumerate() {
        let table = Contingency::new(t, p);
        let r = &reference["partitions"][i];
        let (h, c, v) = metrics::homogeneity_completeness_v_measure(&table);
        let (purity, inverse) = metrics::purity_and_inverse(&table);
        let what = |m: &str| format!("case {i} ({} quotes) {m}", t.len());
        close(&what("ari"), Some(metrics::adjusted_rand_index(&table)), &r["ari"]);
        close(&what("nmi"), Some(metrics::normalized_mutual_information(&table)), &r["nmi"]);
        close(&what("ami"), Some(metrics::adjusted_mutual_information(&table)), &r["ami"]);
        close(&what("homogeneity"), Some(h), &r["homogeneity"]);
        close(&what("completeness"), Some(c), &r["completeness"]);
        close(&what("v_measure"), Some(v), &r["v_measure"]);
        close(&what("fowlkes_mallows"), Some(metrics::fowlkes_mallows(&table)), &r["fowlkes_mallows"]);
        close(&what("purity"), Some(purity), &r["purity"]);
        close(&what("inverse_purity"), Some(inverse), &r["inverse_purity"]);
    }
    for (i, (a, b)) in kappas.iter().enumerate() {
        let count = |x: u32, y: u32| a.iter().zip(b).filter(|&(&p, &q)| p == x && q == y).count() as u64;
        let ours = metrics::cohen_kappa(count(1, 1), count(1, 0), count(0, 1), count(0, 0));
        close(&format!("kappa case {i}"), ours, &reference["kappa"][i]);
    }
    for (i, ratings) in alphas.iter().enumerate() {
        close(&format!("alpha case {i}"), metrics::krippendorff_alpha_nominal(ratings), &reference["alpha"][i]);
    }
}
