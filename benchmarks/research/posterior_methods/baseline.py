"""Reference: the package's ADVI defaults (and optionally other settings) on the UCI splits."""

import json
import sys
import time

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPRegressor
from data import SETS, load, scores

splits = [int(s) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else [0, 1]
kw = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
label = sys.argv[3] if len(sys.argv) > 3 else "package ADVI defaults"
sets = sys.argv[4].split(",") if len(sys.argv) > 4 else SETS
for name in sets:
    for split in splits:
        Xtr, ytr, Xte, yte = load(name, split)
        est = make_pipeline(StandardScaler(), BayesianMLPRegressor(random_state=0, **kw))
        t = time.perf_counter()
        est.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t
        reg = est[-1]
        d = reg.predict_draws(est[0].transform(Xte))
        ll, rmse = scores(d.mean, d.noise_scale, yte)
        rec = dict(method=label, set=name, split=split, ll=ll, rmse=rmse, fit_s=fit_s, settings=kw)
        print(json.dumps(rec), flush=True)
        with open("results.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
