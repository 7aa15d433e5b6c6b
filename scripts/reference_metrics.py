#!/usr/bin/env python3
"""Reference values for themata's agreement metrics: scikit-learn 1.9.1 and the `krippendorff` package.

    reference_metrics.py < CASES.json > VALUES.json

CASES.json: {"partitions": [{"true": [...], "pred": [...]}, ...],
             "kappa": [[[...], [...]], ...],            # two yes/no raters (0/1) over the same items
             "alpha": [[[v or null, ...], ...], ...]}   # coders x units, nominal values, null = missing
VALUES.json: the same lists, each case replaced by its values; an undefined value (NaN) is null.
statsmodels has no Krippendorff's alpha (checked: 0.15.0), so alpha comes from `krippendorff`
(Castro 2017, pip install krippendorff), the implementation the issue's reference values use.
"""
import json
import math
import sys
import warnings

import krippendorff
import numpy as np
from sklearn import metrics
from sklearn.metrics.cluster import contingency_matrix


def clean(x):
    x = float(x)
    return None if math.isnan(x) else x


def partition(case):
    t, p = case["true"], case["pred"]
    h, c, v = metrics.homogeneity_completeness_v_measure(t, p)
    cm = contingency_matrix(t, p)
    return {
        "ari": clean(metrics.adjusted_rand_score(t, p)),
        "nmi": clean(metrics.normalized_mutual_info_score(t, p)),
        "ami": clean(metrics.adjusted_mutual_info_score(t, p)),
        "homogeneity": clean(h),
        "completeness": clean(c),
        "v_measure": clean(v),
        "fowlkes_mallows": clean(metrics.fowlkes_mallows_score(t, p)),
        # Not in scikit-learn: the textbook definitions on its contingency matrix.
        "purity": clean(cm.max(axis=0).sum() / cm.sum()),
        "inverse_purity": clean(cm.max(axis=1).sum() / cm.sum()),
    }


def alpha(ratings):
    data = np.array([[np.nan if v is None else v for v in coder] for coder in ratings], dtype=float)
    try:
        return clean(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    except ValueError:  # one value in the domain, or nothing pairable: undefined
        return None


def main():
    cases = json.load(sys.stdin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            "partitions": [partition(c) for c in cases["partitions"]],
            "kappa": [clean(metrics.cohen_kappa_score(a, b)) for a, b in cases["kappa"]],
            "alpha": [alpha(r) for r in cases["alpha"]],
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
