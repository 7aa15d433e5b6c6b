#!/usr/bin/env python3
"""scikit-learn's TfidfVectorizer on a quote file: the reference for themata's parity tests and benchmarks.

    sklearn_tfidf.py FILE PARAMS_JSON [--text-col text] [--out RESULT.json] [--check-mtx MATRIX.mtx] [--timing]

FILE is CSV (.csv), TSV (.tsv) or JSON Lines (.jsonl); rows whose text is empty or whitespace are skipped,
as themata skips them. PARAMS_JSON holds TfidfVectorizer keyword arguments, e.g.
'{"ngram_range": [1, 2], "min_df": 2, "stop_words": "english"}'.
--out writes {"vocab", "idf", "shape", "indptr", "indices", "data"} (CSR with sorted indices).
--timing prints {"read_s", "fit_transform_s", "n_docs", "bytes", "nnz", "n_terms"} as JSON on stdout.
"""
import argparse
import csv
import json
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402


def read_texts(path, text_col):
    texts = []
    if path.endswith(".jsonl") or path.endswith(".ndjson"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    texts.append(json.loads(line)[text_col])
    else:
        csv.field_size_limit(sys.maxsize)
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if path.endswith(".tsv") else ",")
            texts = [row[text_col] for row in reader]
    return [t for t in texts if t.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("params")
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--out")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--check-mtx", help="a Matrix Market file that must read back (scipy.io.mmread) to this matrix")
    args = parser.parse_args()
    params = json.loads(args.params)
    if "ngram_range" in params:
        params["ngram_range"] = tuple(params["ngram_range"])
    start = time.perf_counter()
    texts = read_texts(args.file, args.text_col)
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(**params)
    X = vectorizer.fit_transform(texts)
    fit_s = time.perf_counter() - start
    if args.out:
        X = X.tocsr()
        X.sort_indices()
        result = {
            "vocab": vectorizer.get_feature_names_out().tolist(),
            "idf": vectorizer.idf_.tolist() if getattr(vectorizer, "use_idf", True) else None,
            "shape": list(X.shape),
            "indptr": X.indptr.tolist(),
            "indices": X.indices.tolist(),
            "data": X.data.tolist(),
        }
        with open(args.out, "w") as f:
            json.dump(result, f)
    if args.check_mtx:
        import numpy as np
        from scipy.io import mmread
        theirs = mmread(args.check_mtx).tocsr()
        if theirs.shape != X.shape:
            sys.exit(f"{args.check_mtx}: shape {theirs.shape}, expected {X.shape}")
        diff = abs(theirs - X).max() if X.nnz else 0.0
        if diff > 1e-9:
            sys.exit(f"{args.check_mtx}: largest difference {diff}")
    if args.timing:
        print(json.dumps({
            "read_s": read_s,
            "fit_transform_s": fit_s,
            "n_docs": len(texts),
            "bytes": sum(len(t.encode("utf-8")) for t in texts),
            "nnz": int(X.nnz),
            "n_terms": len(vectorizer.vocabulary_),
        }))


if __name__ == "__main__":
    main()
