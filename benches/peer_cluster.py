#!/usr/bin/env python3
"""Clustering quality and speed: themata suggest vs scikit-learn's best-practice pipeline, in one run.

    .venv/bin/python benches/peer_cluster.py corpora/cache/20news-train.jsonl corpora/cache/bbc.jsonl [--seeds 1,2,3,4,5]

For each labelled JSON Lines file (fields id, label, text) and each seed, with k = the number of labels:
- themata: `themata suggest FILE --k K --seed S` (its defaults; stability runs off, they are not clustering);
- scikit-learn: TfidfVectorizer(stop_words='english', min_df=2, max_df=0.5, sublinear_tf=True) +
  TruncatedSVD(100) + Normalizer + KMeans(n_init=3), each seeded with S.
Prints the mean NMI of each against the labels (arithmetic mean normalisation, scikit-learn's metric) and
the clustering time (themata's "cluster" stage; scikit-learn's SVD + Normalizer + KMeans). Then themata's
`--k auto` choice on the same file, for each seed. --themata-options adds options to every themata run (to
measure a setting against the defaults). Build first: cargo build --release.
"""
import argparse
import csv
import json
import os
import re
import subprocess
import tempfile
import time

from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import normalized_mutual_info_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THEMATA = os.path.join(ROOT, "target", "release", "themata")


def themata(path, k, seed, extra=()):
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([THEMATA, "suggest", path, "--k", str(k), "--seed", str(seed), "--stability-runs", "0",
                               "--no-leave-one-study-out", "--quotes", "1", "--threads", "2", "--out", out, *extra],
                              capture_output=True, text=True, check=True)
        with open(os.path.join(out, "assignments.csv")) as f:
            assigned = {row["id"]: row["theme"] for row in csv.DictReader(f)}
        with open(os.path.join(out, "themes.json")) as f:
            chosen_k = json.load(f)["k"]
    stages = dict(re.findall(r"(\w+) ([0-9.]+)s", proc.stderr.splitlines()[-1]))
    return assigned, float(stages["cluster"]), chosen_k


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--themata-options", default="", help="extra options for every themata run, e.g. '--n-init 3'")
    args = parser.parse_args()
    extra = args.themata_options.split()
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| corpus | quotes | k | themata NMI | scikit-learn NMI | difference | themata cluster (s) | scikit-learn cluster (s) | speed-up | themata --k auto |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in args.files:
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        rows = [r for r in rows if r["text"].strip()]
        ids = [r["id"] for r in rows]
        labels = [r["label"] for r in rows]
        k = len(set(labels))
        t_nmi, s_nmi, t_time, s_time = [], [], [], []
        X = TfidfVectorizer(stop_words="english", min_df=2, max_df=0.5, sublinear_tf=True).fit_transform(
            [r["text"] for r in rows])
        for seed in seeds:
            assigned, seconds, _ = themata(path, k, seed, extra)
            t_nmi.append(normalized_mutual_info_score(labels, [assigned[i] for i in ids]))
            t_time.append(seconds)
            start = time.perf_counter()
            reduced = make_pipeline(TruncatedSVD(100, random_state=seed), Normalizer(copy=False)).fit_transform(X)
            predicted = KMeans(k, n_init=3, random_state=seed).fit_predict(reduced)
            s_time.append(time.perf_counter() - start)
            s_nmi.append(normalized_mutual_info_score(labels, predicted))
        auto_k = ", ".join(str(themata(path, "auto", seed, ["--k-range", f"{max(2, k // 2)},{2 * k}", *extra])[2])
                           for seed in seeds)
        mean = lambda xs: sum(xs) / len(xs)
        print(f"| {os.path.basename(path)} | {len(rows)} | {k} | {mean(t_nmi):.3f} | {mean(s_nmi):.3f} | "
              f"{mean(t_nmi) - mean(s_nmi):+.3f} | {mean(t_time):.2f} | {mean(s_time):.2f} | "
              f"{mean(s_time) / mean(t_time):.1f}x | {auto_k} (true {k}) |", flush=True)


if __name__ == "__main__":
    main()
