#!/usr/bin/env python3
"""Writes tests/fixtures/sklearn_tokens.json: the tokens scikit-learn's analyzer gives for tricky strings.

Run with the venv that .ci/run builds:  .venv/bin/python scripts/gen_sklearn_token_fixture.py
"""
import json
import sys

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer

TEXTS = [
    "I can't stop: 3.5 days, 1,000 steps; e-mail peer_support __init__ x",
    "Don\u2019t call me \u2018a case\u2019 \u2014 I\u02bcm a worker",
    "cafe\u0301 na\u00efve caf\u00e9 Cre\u0300me",            # decomposed and composed accents
    "Arabic-Indic \u0663\u0664 Lao \u0ed2\u0ed3 superscript x\u00b2 \u00bd cup \u216b chapter",
    "\u039f\u0394\u039f\u03a3 \u039a\u0391\u0399 \u0395\u039b\u03a0\u0399\u0394\u0391\u03a3",  # Greek capitals, final sigma
    "\u0130stanbul STRASSE Stra\u00dfe \ufb01nance \u01c5emal",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \U0001F600 ok \U0001F469\u200d\U0001F4BB coder",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e",  # Devanagari: vowel signs are marks
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u0639\u0645\u0644",
    "soft\u00adhyphen zero\u200bwidth non\u00a0breaking tab\there new\nline",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0401\u0436\u0438\u043a",
    "a b cd \u00c5ngstr\u00f6m \u212b \u00e5",
    "",
]

cases = []
for strip in (None, "unicode"):
    analyzer = TfidfVectorizer(strip_accents=strip).build_analyzer()
    for text in TEXTS:
        cases.append({"text": text, "strip_accents": strip is not None, "tokens": analyzer(text)})

with open("tests/fixtures/sklearn_tokens.json", "w", encoding="utf-8") as out:
    json.dump(
        {"generator": f"scikit-learn {sklearn.__version__}, Python {sys.version.split()[0]}", "cases": cases},
        out, ensure_ascii=False, indent=1,
    )
    out.write("\n")
print(len(cases), "cases")
