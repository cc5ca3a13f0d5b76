"""Linearised (GGN) Laplace around each of K mean-field ADVI members' means, homoscedastic
regressor: predictive of member k at x is Normal(f(x, mu_k), J(x) Sigma_k J(x)^T + sigma_k^2),
Sigma_k = (J^T J / sigma_k^2 + I / prior_scale^2)^-1 over the weights and biases (noise fixed
at its ADVI mean); the predictive is the equal mixture over members. Jacobians in NumPy.

usage: run_laplace.py '[["label", {"K":5}], ...]' [splits] [sets]
"""

import json
import sys
import time

import numpy as np

from data import SETS, load, scores, standardise
from engine import ADVI, Spec, _parts


def jacobian(spec, theta, X):
    """Output f (n,) and df/dtheta (n, D) for one parameter vector (homoscedastic net)."""
    p = _parts(spec, theta[None], np)
    L = spec.n_layers
    W = [p[f"w{i}"][0] for i in range(L)]
    b = [p[f"b{i}"][0] for i in range(L)]
    hs, pre = [X], []
    for i in range(L):
        a = hs[-1] @ W[i] + b[i]
        pre.append(a)
        if i < L - 1:
            hs.append(np.maximum(a, 0.0))
    f = pre[-1][:, 0]
    n = X.shape[0]
    J = np.zeros((n, spec.dim))
    layout = {name: (start, shape) for name, start, shape in spec.layout()}
    delta = np.ones((n, 1))  # df/d(pre-activation of layer i)
    for i in reversed(range(L)):
        sw, shw = layout[f"w{i}"]
        sb, _ = layout[f"b{i}"]
        J[:, sw : sw + shw[0] * shw[1]] = (hs[i][:, :, None] * delta[:, None, :]).reshape(n, -1)
        J[:, sb : sb + shw[1]] = delta
        if i > 0:
            delta = (delta @ W[i].T) * (pre[i - 1] > 0)
    return f, J


if __name__ == "__main__":
    runs = json.loads(sys.argv[1])
    splits = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [0, 1]
    sets = sys.argv[3].split(",") if len(sys.argv) > 3 else SETS
    engines = {}
    for (label, cfg), name in ((r, n) for r in runs for n in sets):
        K = cfg.get("K", 5)
        for split in splits:
            Xtr, ytr, Xte, yte = load(name, split)
            Xtr, ytrs, Xte, my, sy = standardise(Xtr, ytr, Xte)
            spec = Spec(n_features=Xtr.shape[1], prior_scale=cfg.get("prior_scale", 2.0))
            compile_s = 0.0
            if spec not in engines:
                t = time.perf_counter()
                engines[spec] = ADVI(spec)
                engines[spec].fit(Xtr[:5], ytrs[:5], K, 0, max_iter=100)
                compile_s = time.perf_counter() - t
            t = time.perf_counter()
            mu, sigma, n_iter, _ = engines[spec].fit(Xtr, ytrs, K, seed=split,
                                                     max_iter=cfg.get("advi_max_iter", 20000))
            advi_s = time.perf_counter() - t
            ln = dict((nm, st) for nm, st, _ in spec.layout())["log_noise"]
            means, scales = [], []
            for k in range(K):
                noise = np.exp(mu[k, ln])
                _, J = jacobian(spec, mu[k], Xtr)
                J = J[:, :ln]  # weights and biases only
                H = J.T @ J / noise**2 + np.eye(ln) / spec.prior_scale**2
                C = np.linalg.cholesky(H)
                f, Jt = jacobian(spec, mu[k], Xte)
                V = np.linalg.solve(C, Jt[:, :ln].T)  # C^-1 J^T
                var = (V**2).sum(axis=0) * cfg.get("temperature", 1.0)
                means.append(f)
                scales.append(np.sqrt(var + noise**2))
            fit_s = time.perf_counter() - t
            ll, rmse = scores(my + sy * np.array(means), sy * np.array(scales), yte)
            rec = dict(method=label, set=name, split=split, ll=ll, rmse=rmse, fit_s=fit_s, advi_s=advi_s,
                       compile_s=compile_s, n_iter=n_iter, settings=cfg)
            print(json.dumps(rec), flush=True)
            with open("results.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
