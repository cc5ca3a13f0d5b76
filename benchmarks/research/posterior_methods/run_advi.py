"""Ensemble / hierarchical / heteroscedastic mean-field ADVI on the UCI splits.

usage: run_advi.py '[["label", {"K":5,"hier":false,"hetero":false,"prior_scale":2.0}], ...]' [splits] [sets]
"""

import json
import sys
import time

import numpy as np

from data import SETS, load, scores, standardise
from engine import ADVI, Spec, draws_from, predict_np

runs = json.loads(sys.argv[1])  # [[label, cfg], ...]
splits = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [0, 1]
sets = sys.argv[3].split(",") if len(sys.argv) > 3 else SETS
engines = {}
for (label, cfg), name in ((r, n) for r in runs for n in sets):
    if name not in cfg.get("sets", sets):
        continue
    K = cfg.get("K", 1)
    for split in splits:
        Xtr, ytr, Xte, yte = load(name, split)
        Xtr, ytrs, Xte, my, sy = standardise(Xtr, ytr, Xte)
        spec = Spec(
            n_features=Xtr.shape[1],
            hidden=tuple(cfg.get("hidden", (16, 16))),
            hetero=cfg.get("hetero", False),
            hier=cfg.get("hier", False),
            prior_scale=cfg.get("prior_scale", 2.0),
            activation=cfg.get("activation", "relu"),
        )
        if spec not in engines:
            t = time.perf_counter()
            engines[spec] = ADVI(spec, lr=cfg.get("lr", 0.01))
            # warm the JIT once (compile is reported separately)
            engines[spec].fit(Xtr[:5], ytrs[:5], K, 0, max_iter=100)
            compile_s = time.perf_counter() - t
        else:
            compile_s = 0.0
        t = time.perf_counter()
        mu, sigma, n_iter, _ = engines[spec].fit(
            Xtr, ytrs, K, seed=split, init_std=cfg.get("init_std", 0.05),
            max_iter=cfg.get("max_iter", 20000), tol=cfg.get("tol", 1e-3),
        )
        fit_s = time.perf_counter() - t
        thetas = draws_from(mu, sigma, 500, np.random.default_rng(1000 + split))
        mean, scale = predict_np(spec, thetas, Xte)
        ll, rmse = scores(my + sy * mean, sy * scale, yte)
        rec = dict(method=label, set=name, split=split, ll=ll, rmse=rmse, fit_s=fit_s,
                   compile_s=compile_s, n_iter=n_iter, settings=cfg)
        print(json.dumps(rec), flush=True)
        with open("results.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
