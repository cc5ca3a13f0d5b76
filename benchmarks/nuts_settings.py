"""NUTS settings measured: tree depth, chains, warm-up, draws and prior scale; cost on a large
data set.

1. Moons-far (as in ``posterior_quality.py``, three splits): AUROC of ``predict_std`` for
   far against near points, the near points' log loss, the median fit seconds and the
   largest predictive R-hat, per setting.
2. ``--logloss``: 3-fold CV log loss of NUTS at ``prior_scale`` 2 and 4 on iris and
   breast cancer (behind a StandardScaler).
3. ``--large``: seconds per NUTS iteration (one chain, 20 + 20 iterations) on 20,000 x 20.

    python benchmarks/nuts_settings.py                       # every setting below
    python benchmarks/nuts_settings.py "2x(500+250) depth 8" --logloss --large
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from posterior_quality import moons_far_split
from sklearn.datasets import load_breast_cancer, load_iris, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

from bnn_sklearn import BayesianMLPClassifier

SETTINGS = {
    "2x(500+250) depth 10": dict(chains=2, tune=500, draws=250, max_treedepth=10),
    "2x(500+250) depth 9": dict(chains=2, tune=500, draws=250, max_treedepth=9),
    "2x(500+250) depth 8": dict(chains=2, tune=500, draws=250, max_treedepth=8),
    "2x(500+250) depth 6": dict(chains=2, tune=500, draws=250, max_treedepth=6),
    "2x(300+200) depth 8": dict(chains=2, tune=300, draws=200, max_treedepth=8),
    "2x(500+500) depth 8 accept 0.95": dict(
        chains=2, tune=500, draws=500, max_treedepth=8, target_accept=0.95
    ),
    "2x(1000+250) depth 8 accept 0.95": dict(
        chains=2, tune=1000, draws=250, max_treedepth=8, target_accept=0.95
    ),
    "4x(500+250) depth 8": dict(chains=4, tune=500, draws=250, max_treedepth=8),
    "2x(500+250) depth 8 accept 0.9": dict(
        chains=2, tune=500, draws=250, max_treedepth=8, target_accept=0.9
    ),
    "2x(500+250) depth 8 accept 0.95": dict(
        chains=2, tune=500, draws=250, max_treedepth=8, target_accept=0.95
    ),
    "2x(500+250) depth 9 accept 0.9": dict(
        chains=2, tune=500, draws=250, max_treedepth=9, target_accept=0.9
    ),
    "2x(500+250) depth 8 prior 1": dict(
        chains=2, tune=500, draws=250, max_treedepth=8, prior_scale=1.0
    ),
    "2x(500+250) depth 8 prior 4": dict(
        chains=2, tune=500, draws=250, max_treedepth=8, prior_scale=4.0
    ),
}


def moons_far(name: str) -> str:
    aurocs, losses, seconds, rhats, divergent = [], [], [], [], []
    for seed in (0, 1, 2):
        X_train, y_train, X_near, X_far = moons_far_split(seed)
        y_near = make_moons(n_samples=700, noise=0.2, random_state=seed)[1][500:]
        start = time.perf_counter()
        clf = BayesianMLPClassifier(method="nuts", random_state=seed, **SETTINGS[name])
        clf.fit(X_train, y_train)
        seconds.append(time.perf_counter() - start)
        std = np.r_[clf.predict_std(X_near)[:, 1], clf.predict_std(X_far)[:, 1]]
        aurocs.append(roc_auc_score(np.r_[np.zeros(len(X_near)), np.ones(len(X_far))], std))
        losses.append(log_loss(y_near, clf.predict_proba(X_near)))
        rhats.append(clf.predictive_rhat_)
        divergent.append(clf.n_divergences_ / (clf.chains * clf.draws))
    return (
        f"| {name} | {np.mean(aurocs):.3f} ({min(aurocs):.2f}-{max(aurocs):.2f}) | "
        f"{np.mean(losses):.3f} | {np.median(seconds):.1f} | {max(rhats):.3f} | "
        f"{100 * np.mean(divergent):.1f} |"
    )


def cv_log_loss() -> list[str]:
    rows = []
    data = {
        "iris": load_iris(return_X_y=True),
        "breast cancer": load_breast_cancer(return_X_y=True),
    }
    for data_name, (X, y) in data.items():
        for prior in (2.0, 4.0):
            losses = []
            for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
                clf = BayesianMLPClassifier(method="nuts", prior_scale=prior, random_state=0)
                model = make_pipeline(StandardScaler(), clf).fit(X[train], y[train])
                proba = model.predict_proba(X[test])
                losses.append(log_loss(y[test], proba, labels=np.unique(y)))
            rows.append(f"| {data_name} | {prior} | {np.mean(losses):.3f} |")
    return rows


def seconds_per_iteration_on_20k() -> str:
    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=10, random_state=0)
    X = scale(X)
    small = dict(method="nuts", chains=1, tune=5, draws=5, random_state=0)
    BayesianMLPClassifier(**small).fit(X[:100], y[:100])  # compile outside the timing
    start = time.perf_counter()
    BayesianMLPClassifier(**{**small, "tune": 20, "draws": 20}).fit(X, y)
    seconds = time.perf_counter() - start
    return f"20,000 x 20, one chain of 40 iterations: {seconds:.1f} s, {seconds / 40:.2f} s each"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="*", help=f"among {list(SETTINGS)}; default: all")
    parser.add_argument("--logloss", action="store_true", help="iris and breast cancer CV")
    parser.add_argument("--large", action="store_true", help="cost per iteration on 20k rows")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    # Compile outside the timing: every setting shares the default architecture.
    BayesianMLPClassifier(method="nuts", chains=1, tune=5, draws=5).fit(*make_moons(50))
    print(
        "| setting | moons-far AUROC (min-max) | near log loss | fit s | max predictive R-hat "
        "| divergent % |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.settings or SETTINGS:
        print(moons_far(name), flush=True)
    if args.logloss:
        print("\n| data set | prior_scale | NUTS log loss, 3-fold CV |\n|---|---|---|")
        print("\n".join(cv_log_loss()), flush=True)
    if args.large:
        print("\n" + seconds_per_iteration_on_20k())


if __name__ == "__main__":
    main()
