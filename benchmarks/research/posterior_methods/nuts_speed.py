"""Faster NUTS on the seed (issue: posterior quality, item 3): NUTS defaults, nutpie's low-rank
mass matrix, less tuning, NUTS started from two ADVI members, MILE defaults. Fit seconds on the
seed (500 rows), test log loss, predictive R-hat, divergences, far-vs-near AUROC on moons-far
split 0. Run from the repository root: python benchmarks/research/posterior_methods/nuts_speed.py
Output of the run on 2026-12-03 (Python 3.13, machine shared with two other jobs): nuts_speed.txt
"""
import sys, time, warnings, functools
import numpy as np
warnings.simplefilter("ignore")
sys.path.insert(0, ".")
import nutpie
import bnn_sklearn._nuts as nm
from sklearn.metrics import log_loss
from bnn_sklearn import BayesianMLPClassifier
from benchmarks.datasets import seed_data, moons_far_split
from benchmarks.common import far_auroc
Xtr, Xte, ytr, yte = seed_data()
orig = nutpie.sample
variants = {
 "nuts default": ({"method": "nuts"}, {}),
 "nuts low_rank": ({"method": "nuts"}, {"adaptation": "low_rank"}),
 "nuts tune 250": ({"method": "nuts", "tune": 250}, {}),
 "nuts from 2 members (mile 2x(250+250) d8 ta.95)": ({"method": "mile", "chains": 2, "tune": 250, "draws": 250, "max_treedepth": 8, "target_accept": 0.95}, {}),
 "mile default": ({"method": "mile"}, {}),
}
BayesianMLPClassifier(method="nuts", random_state=0, tune=5, draws=5, chains=1).fit(Xtr[:50], ytr[:50])
for name, (params, extra) in variants.items():
    nutpie.sample = functools.partial(orig, **extra) if extra else orig
    t = time.perf_counter(); m = BayesianMLPClassifier(random_state=0, **params).fit(Xtr, ytr); s = time.perf_counter() - t
    Xo, yo, Xn, Xf = moons_far_split(0)
    mo = BayesianMLPClassifier(random_state=0, **params).fit(Xo, yo)
    au = far_auroc(mo.predict_std(Xn)[:, 1], mo.predict_std(Xf)[:, 1])
    print(f"{name}: fit {s:.1f} s, log loss {log_loss(yte, m.predict_proba(Xte)):.4f}, pred rhat {m.predictive_rhat_:.3f}, div {m.n_divergences_}, far AUROC {au:.3f}", flush=True)
