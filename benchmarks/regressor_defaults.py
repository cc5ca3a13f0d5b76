"""Candidate defaults of BayesianMLPRegressor, scored as ``compare_regression.py`` scores it.

5-fold CV on ``compare_regression.py``'s three smaller data sets (diabetes,
``make_friedman1`` with 1,000 rows, the 1-D problem with growing noise), each candidate
behind a StandardScaler and fitted with two random states (each with its own folds): mean
RMSE, NLL and 90 % coverage over seeds and folds, and the median fit seconds.
Writes ``regressor_defaults.md`` to ``--out`` (default ``benchmarks/results``).

    python -m benchmarks.regressor_defaults            # every candidate
    python -m benchmarks.regressor_defaults --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPRegressor

if not __package__:  # run as a file: python benchmarks/regressor_defaults.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS
from benchmarks.compare_regression import score_split
from benchmarks.datasets import regression_datasets

CANDIDATES = {
    "(16, 16) relu, prior 2": dict(prior_scale=2.0),
    "(16, 16) relu, prior 1": dict(prior_scale=1.0),
    "(16, 16) relu, prior 0.5": dict(prior_scale=0.5),
    "(32,) relu, prior 2": dict(hidden_layer_sizes=(32,)),
    "(32,) relu, prior 1": dict(hidden_layer_sizes=(32,), prior_scale=1.0),
    "(32, 32) relu, prior 1": dict(hidden_layer_sizes=(32, 32), prior_scale=1.0),
    "(16, 16) tanh, prior 1": dict(activation="tanh", prior_scale=1.0),
    "(16, 16) relu heteroscedastic, prior 2": dict(noise="heteroscedastic", prior_scale=2.0),
    "(16, 16) relu heteroscedastic, prior 1": dict(noise="heteroscedastic", prior_scale=1.0),
    "(16, 16) relu heteroscedastic, prior 0.5": dict(noise="heteroscedastic", prior_scale=0.5),
}
#: Each candidate is fitted with these random states, each with its own folds.
SEEDS = (0, 1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    data = regression_datasets(args.quick)
    data.pop("friedman1_20k", None)
    candidates = dict(list(CANDIDATES.items())[:2]) if args.quick else CANDIDATES
    # The study chose ADVI's network and prior: every candidate is fitted by ADVI.
    settings = {"method": "advi"}
    if args.quick:
        settings |= {"max_iter": 300, "tol": None, "n_draws": 100}
    seeds = SEEDS[:1] if args.quick else SEEDS
    lines = [
        "| candidate | "
        + " | ".join(f"{name}: RMSE / NLL / 90 % coverage" for name in data)
        + " | mean NLL rank | median fit s |",
        "|---|" + "---|" * len(data) + "---|---|",
    ]
    nll = {name: [] for name in candidates}
    cells = {name: [] for name in candidates}
    seconds = {name: [] for name in candidates}
    for data_name, (X, y) in data.items():
        for name, params in candidates.items():
            rows = []
            for seed in seeds:
                model = make_pipeline(
                    StandardScaler(), BayesianMLPRegressor(random_state=seed, **settings, **params)
                )
                folds = KFold(n_splits=2 if args.quick else 5, shuffle=True, random_state=seed)
                rows += [
                    score_split(model, X[train], y[train], X[test], y[test])
                    for train, test in folds.split(X)
                ]
            means = {key: np.mean([row[key] for row in rows]) for key in rows[0]}
            nll[name].append(means["nll"])
            seconds[name] += [row["fit_s"] for row in rows]
            cells[name].append(
                f"{means['rmse']:.3f} / {means['nll']:.3f} / {means['coverage_90']:.2f}"
            )
            print(f"{data_name:>18} | {name:<24} | {cells[name][-1]}", flush=True)
    ranks = np.argsort(np.argsort(np.array(list(nll.values())), axis=0), axis=0) + 1
    for (name, row), rank in zip(cells.items(), ranks.mean(axis=1)):
        lines.append(
            f"| {name} | " + " | ".join(row) + f" | {rank:.1f} | {np.median(seconds[name]):.1f} |"
        )
    header = (
        f"`python -m benchmarks.regressor_defaults{' --quick' if args.quick else ''}`: "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}. Mean over "
        f"random states {', '.join(map(str, seeds))}, each with its own 5-fold CV."
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "regressor_defaults.md").write_text(header + "\n\n" + "\n".join(lines) + "\n")
    print("\n" + header + "\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
