"""UCI splits loader and the protocol's metrics (test LL per point of the mixture, RMSE)."""

import sys
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: benchmarks.uci
from benchmarks.uci import load_split  # noqa: E402

ROOT = Path(__file__).resolve().parents[4] / "shared" / "data" / "uci"
SETS = ["concrete", "energy", "wine-quality-red", "yacht"]


def load(name, split):
    return load_split(ROOT, name, split)


def standardise(Xtr, ytr, Xte):
    mx, sx = Xtr.mean(0), Xtr.std(0)
    sx[sx == 0] = 1.0
    my, sy = ytr.mean(), ytr.std()
    return (Xtr - mx) / sx, (ytr - my) / sy, (Xte - mx) / sx, my, sy


def scores(mean, scale, y):
    """mean, scale: (S, n) in target units. Returns (LL per point, RMSE of mixture mean)."""
    z = (y - mean) / scale
    logp = -0.5 * z**2 - np.log(scale) - 0.5 * np.log(2 * np.pi)
    ll = np.mean(logsumexp(logp, axis=0) - np.log(mean.shape[0]))
    rmse = np.sqrt(np.mean((mean.mean(0) - y) ** 2))
    return float(ll), float(rmse)
