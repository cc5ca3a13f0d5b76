"""MILE-style: K mean-field ADVI members (one batched fit), then one short nutpie NUTS chain
started from each member's mean; predict from the mixture of all chains' draws.

usage: run_mile.py '[["label", {"K":4,"tune":200,"draws":100,"adaptation":"diag"}], ...]' [splits] [sets]
"""

import dataclasses
import itertools
import json
import sys
import threading
import time

import numpy as np
import nutpie
import pymc as pm

from data import SETS, load, scores, standardise
from engine import ADVI, Spec, logp_sym, predict_np

runs = json.loads(sys.argv[1])
splits = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [0, 1]
sets = sys.argv[3].split(",") if len(sys.argv) > 3 else SETS
engines, compiled = {}, {}


def build_nuts(spec, Xtr, ytr):
    with pm.Model() as model:
        X = pm.Data("X", Xtr)
        y = pm.Data("y", ytr)
        theta = pm.Flat("theta", shape=spec.dim)
        pm.Potential("logp", logp_sym(spec, theta[None, :], X, y)[0])
    return nutpie.compile_pymc_model(model)


def starts(mu):
    """An initial-point function handing out the members' means in turn (one per chain)."""
    counter, lock = itertools.count(), threading.Lock()

    def fn(seed):
        with lock:
            return mu[next(counter) % len(mu)].copy()

    return fn


for (label, cfg), name in ((r, n) for r in runs for n in sets):
    K = cfg.get("K", 4)
    for split in splits:
        Xtr, ytr, Xte, yte = load(name, split)
        Xtr, ytrs, Xte, my, sy = standardise(Xtr, ytr, Xte)
        spec = Spec(n_features=Xtr.shape[1], hier=cfg.get("hier", False),
                    hetero=cfg.get("hetero", False), prior_scale=cfg.get("prior_scale", 2.0))
        compile_s = 0.0
        if spec not in engines:
            t = time.perf_counter()
            engines[spec] = ADVI(spec)
            engines[spec].fit(Xtr[:5], ytrs[:5], K, 0, max_iter=100)
            compiled[spec] = build_nuts(spec, Xtr, ytrs)
            compile_s = time.perf_counter() - t
        t = time.perf_counter()
        mu, sigma, n_iter, _ = engines[spec].fit(Xtr, ytrs, K, seed=split,
                                                 max_iter=cfg.get("advi_max_iter", 20000))
        advi_s = time.perf_counter() - t
        model = dataclasses.replace(compiled[spec].with_data(X=Xtr, y=ytrs), initial_point_func=starts(mu))
        kw = {}
        if "maxdepth" in cfg:
            kw["maxdepth"] = cfg["maxdepth"]
        if cfg.get("adaptation", "diag") != "diag":
            kw["adaptation"] = cfg["adaptation"]
        trace = nutpie.sample(model, chains=K, cores=1, tune=cfg.get("tune", 200),
                              draws=cfg.get("draws", 100), seed=split, progress_bar=False,
                              target_accept=cfg.get("target_accept", 0.8), **kw)
        fit_s = time.perf_counter() - t
        thetas = np.asarray(trace.posterior["theta"].values).reshape(-1, spec.dim)
        div = int(np.asarray(trace.sample_stats["diverging"].values).sum())
        stats = trace.sample_stats
        depth = next((float(np.asarray(stats[k].values).mean()) for k in ("depth", "tree_depth", "n_steps")
                      if k in stats), None)
        mean, scale = predict_np(spec, thetas, Xte)
        ll, rmse = scores(my + sy * mean, sy * scale, yte)
        rec = dict(method=label, set=name, split=split, ll=ll, rmse=rmse, fit_s=fit_s,
                   advi_s=advi_s, compile_s=compile_s, divergences=div, mean_depth=depth, n_iter=n_iter, settings=cfg)
        print(json.dumps(rec), flush=True)
        with open("results.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
