#!/usr/bin/python3
"""Generates sklearn_auroc.json: AUROC values of scikit-learn's roc_auc_score
for the Go tests of pkg/metrics (run: /usr/bin/python3 sklearn_auroc.py).

Every case is {"name", "scores", "positive", "auroc", "fpr", "tpr"} (the
last two from roc_curve(drop_intermediate=False)); scores are written with
repr precision so that Go parses exactly the same float64 values."""
import json

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score, roc_curve

rng = np.random.default_rng(20261129)
cases = []


def add(name, scores, positive):
    scores = [float(s) for s in scores]
    positive = [bool(p) for p in positive]
    fpr, tpr, _ = roc_curve(positive, scores, drop_intermediate=False)
    cases.append({"name": name, "scores": scores, "positive": positive,
                  "auroc": float(roc_auc_score(positive, scores)),
                  "fpr": [float(x) for x in fpr], "tpr": [float(x) for x in tpr]})


add("small-ties", [0.1, 0.4, 0.35, 0.8, 0.35, 0.4, 0.9, 0.1],
    [0, 0, 1, 1, 0, 1, 1, 1])
add("continuous-50", rng.normal(size=50), rng.random(50) < 0.4)
# Heavy ties: scores from 5 values, shifted for positives.
pos = rng.random(200) < 0.7
add("ties-200", rng.integers(0, 5, 200) + pos * rng.integers(0, 2, 200), pos)
# Normal-confidence-like: errors of normals lower, confidence = 1 - minmax.
pos = rng.random(1400) < 0.7
err = np.where(pos, rng.gamma(2.0, 0.5, 1400), rng.gamma(3.0, 0.6, 1400))
conf = 1 - (err - err.min()) / (err.max() - err.min())
add("confidence-1400", conf, pos)
add("float32-rounded-300", np.round(rng.random(300), 2), rng.random(300) < 0.5)

with open("sklearn_auroc.json", "w") as f:
    json.dump({"sklearn_version": sklearn.__version__, "cases": cases}, f)
for c in cases:
    print(c["name"], repr(c["auroc"]))
