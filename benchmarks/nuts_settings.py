"""NUTS settings measured: tree depth, chains, warm-up, draws and prior scale; cost on a large
data set.

1. Moons-far (``benchmarks.datasets.moons_far_split``, splits 0, 1, 2 unless ``--seeds``):
   AUROC of ``predict_std`` for far against near points, the near points' log loss, the
   median fit seconds, the largest predictive R-hat and the share of divergent draws, per
   setting.
2. ``--logloss``: 3-fold CV log loss of NUTS at ``prior_scale`` 2 and 4 on iris and
   breast cancer (behind a StandardScaler).
3. ``--large``: seconds per NUTS iteration (one chain, 20 + 20 iterations) on 20,000 x 20.

Writes ``nuts_settings.md`` to ``--out`` (default ``benchmarks/results``) and prints it.

    python -m benchmarks.nuts_settings                       # every setting below
    python -m benchmarks.nuts_settings --docs                # the user guide's table
    python -m benchmarks.nuts_settings "2x(500+250) depth 8" --logloss --large
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

from bnn_sklearn import BayesianMLPClassifier

if not __package__:  # run as a file: python benchmarks/nuts_settings.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, far_auroc, header, markdown_table
from benchmarks.datasets import moons_far_split

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
#: The settings of the user guide's table (docs/user_guide/nuts.md).
DOCS = (
    "2x(500+250) depth 10",
    "2x(500+250) depth 9 accept 0.9",
    "2x(500+250) depth 8",
    "2x(500+250) depth 8 accept 0.9",
    "2x(500+250) depth 8 accept 0.95",
    "2x(500+250) depth 6",
    "2x(500+250) depth 8 prior 1",
    "2x(500+250) depth 8 prior 4",
)
COLUMNS = (
    "setting",
    "moons-far AUROC (min-max)",
    "near log loss",
    "fit s",
    "max predictive R-hat",
    "divergent %",
)


def moons_far(name: str, seeds=(0, 1, 2)) -> list[str]:
    """One table row: ``name``'s setting on the moons-far splits of ``seeds``."""
    aurocs, losses, seconds, rhats, divergent = [], [], [], [], []
    for seed in seeds:
        X_train, y_train, X_near, X_far = moons_far_split(seed)
        y_near = make_moons(n_samples=700, noise=0.2, random_state=seed)[1][500:]
        start = time.perf_counter()
        clf = BayesianMLPClassifier(method="nuts", random_state=seed, **SETTINGS[name])
        clf.fit(X_train, y_train)
        seconds.append(time.perf_counter() - start)
        aurocs.append(far_auroc(clf.predict_std(X_near)[:, 1], clf.predict_std(X_far)[:, 1]))
        losses.append(log_loss(y_near, clf.predict_proba(X_near)))
        rhats.append(clf.predictive_rhat_)
        divergent.append(clf.n_divergences_ / (clf.chains * clf.draws))
    return [
        name,
        f"{np.mean(aurocs):.3f} ({min(aurocs):.2f}-{max(aurocs):.2f})",
        f"{np.mean(losses):.3f}",
        f"{np.median(seconds):.1f}",
        f"{max(rhats):.3f}",
        f"{100 * np.mean(divergent):.1f}",
    ]


def cv_log_loss() -> list[list[str]]:
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
            rows.append([data_name, str(prior), f"{np.mean(losses):.3f}"])
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
    parser.add_argument("--docs", action="store_true", help="the user guide's settings")
    parser.add_argument("--seeds", type=int, default=3, help="moons-far splits (0, 1, ...)")
    parser.add_argument("--logloss", action="store_true", help="iris and breast cancer CV")
    parser.add_argument("--large", action="store_true", help="cost per iteration on 20k rows")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    args = parser.parse_args(argv)
    unknown = set(args.settings) - set(SETTINGS)
    if unknown:
        parser.error(f"unknown settings {sorted(unknown)}; choose among {list(SETTINGS)}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    # Compile outside the timing: every setting shares the default architecture.
    BayesianMLPClassifier(method="nuts", chains=1, tune=5, draws=5).fit(*make_moons(50))
    names = args.settings or (DOCS if args.docs else SETTINGS)
    rows = []
    for name in names:
        rows.append(moons_far(name, seeds=tuple(range(args.seeds))))
        print(" | ".join(rows[-1]), flush=True)
    parts = [
        header(
            "nuts_settings", argv, note=f"moons-far splits {', '.join(map(str, range(args.seeds)))}"
        ),
        markdown_table(COLUMNS, rows),
    ]
    if args.logloss:
        columns = ("data set", "prior_scale", "NUTS log loss, 3-fold CV")
        parts.append(markdown_table(columns, cv_log_loss()))
    if args.large:
        parts.append(seconds_per_iteration_on_20k())
    text = "\n\n".join(parts) + "\n"
    print("\n" + text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nuts_settings.md").write_text(text)


if __name__ == "__main__":
    main()
