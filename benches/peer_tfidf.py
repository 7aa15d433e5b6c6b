#!/usr/bin/env python3
"""Peer comparison: themata vs scikit-learn's TfidfVectorizer on the same file, in one run.

    python3 benches/peer_tfidf.py FILE [FILE ...] [--threads 2] [--params JSON] [--repeat N]

For each file it runs `themata vectorize --compat sklearn` (release build) and scikit-learn 1.9.1 (from .venv)
with the same options, and prints a Markdown table: size, tokenize+TF-IDF time and MB/s for each, the
speed ratio, and each process's peak memory (maximum resident set size). themata's time is its "count" +
"weight" stages ("count" streams the file, so it includes parsing the texts); scikit-learn's is
fit_transform on texts already read. Whole-process times, with reading and themata's writing of
matrix.mtx, are reported apart ("total").

With --repeat N, each tool runs N times on each file, alternating, and every figure is the median of
its N values: this machine's speed drifts by 10 to 40% within minutes, so one run of each can mislead.

Build first: cargo build --release. Make tiers: python3 corpora/fetch.py --tiers 1,10,100,1000
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THEMATA = os.path.join(ROOT, "target", "release", "themata")
PYTHON = os.environ.get("THEMATA_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))

FLAGS = {  # TfidfVectorizer keyword -> themata flags
    "min_df": lambda v: ["--min-df", str(v)],
    "max_df": lambda v: ["--max-df", str(v)],
    "ngram_range": lambda v: ["--ngram-range", f"{v[0]},{v[1]}"],
    "stop_words": lambda v: ["--stop-words", v],
    "sublinear_tf": lambda v: ["--sublinear-tf"] if v else [],
    "max_features": lambda v: ["--max-features", str(v)],
}


def run_measured(cmd):
    """Runs cmd as a child; returns (stdout, stderr, wall seconds, peak RSS in MB of that child)."""
    start = time.perf_counter()
    wrapped = ["/usr/bin/time", "-f", "%M"] + cmd
    proc = subprocess.run(wrapped, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    *err_lines, peak_kb = proc.stderr.strip().splitlines()
    return proc.stdout, "\n".join(err_lines), wall, int(peak_kb) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tool per file (medians are shown)")
    parser.add_argument("--params", default="{}", help="TfidfVectorizer keyword arguments as JSON")
    args = parser.parse_args()
    params = json.loads(args.params)
    flags = [f for k, v in params.items() for f in FLAGS[k](v)]
    print(f"options: {params or 'defaults'}; themata --threads {args.threads}\n")
    print("| file | size (MB) | quotes | themata (s) | themata MB/s | scikit-learn (s) | scikit-learn MB/s | ratio | themata peak (MB) | scikit-learn peak (MB) | themata total (s) | scikit-learn total (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in args.files:
        runs = {"themata": [], "sklearn": []}
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as out:
                _, err, t_total, t_peak = run_measured(
                    [THEMATA, "vectorize", path, "--compat", "sklearn", "--threads", str(args.threads), "--out", out]
                    + flags)
            stages = dict((name, float(secs)) for name, secs in re.findall(r"(\w+) ([0-9.]+)s", err.splitlines()[-1]))
            quotes = int(re.search(r"^(\d+) quotes", err, re.M).group(1))
            runs["themata"].append((stages["count"] + stages["weight"], t_peak, t_total))
            out, _, s_total, s_peak = run_measured([PYTHON, os.path.join(ROOT, "scripts", "sklearn_tfidf.py"), path,
                                                    json.dumps(params), "--timing"])
            timing = json.loads(out)
            runs["sklearn"].append((timing["fit_transform_s"], s_peak, s_total))
        mb = timing["bytes"] / 1e6
        t_themata, t_peak, t_total = (statistics.median(column) for column in zip(*runs["themata"]))
        t_sklearn, s_peak, s_total = (statistics.median(column) for column in zip(*runs["sklearn"]))
        print(f"| {os.path.basename(path)} | {mb:.1f} | {quotes} | {t_themata:.2f} | {mb / t_themata:.0f} | "
              f"{t_sklearn:.2f} | {mb / t_sklearn:.1f} | {t_sklearn / t_themata:.1f}x | {t_peak:.0f} | {s_peak:.0f} | "
              f"{t_total:.2f} | {s_total:.2f} |", flush=True)


if __name__ == "__main__":
    main()
