"""The Bayesian MLP against tree ensembles, neural networks and a linear model.

Repeated stratified cross-validation (5 folds x 2 repeats, fixed seeds) on five data sets,
by ``bnn_sklearn.compare.compare``; per model and data set: accuracy, log loss, Brier
score, expected calibration error, fit and predict seconds (predicting a test fold and
scoring it). Writes ``benchmarks/results/compare.md`` and ``compare.csv``.

    python -m benchmarks.compare_classifiers            # the real run
    python -m benchmarks.compare_classifiers --quick    # a smoke run: two small data sets, 2 folds
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.compare import compare

if not __package__:  # run as a file: python benchmarks/compare_classifiers.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, write_csv
from benchmarks.datasets import classification_datasets

#: The table's columns and the ``compare`` scores they come from.
METRICS = {
    "accuracy": "accuracy",
    "log_loss": "log_loss",
    "brier": "brier_score",
    "ece": "ece",
    "fit_s": "fit_seconds",
    "predict_s": "predict_seconds",
}


def models(quick: bool) -> dict:
    bnn = {"max_iter": 300, "tol": None, "n_draws": 100} if quick else {}
    mlp = {"max_iter": 50} if quick else {}
    return {
        "BayesianMLP": make_pipeline(
            StandardScaler(), BayesianMLPClassifier(random_state=0, **bnn)
        ),
        "RandomForest": RandomForestClassifier(random_state=0),
        "GradientBoosting": GradientBoostingClassifier(random_state=0),
        "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
        "MLP": make_pipeline(StandardScaler(), MLPClassifier(random_state=0, **mlp)),
        "LogisticRegression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "MLP deep ensemble (5)": VotingClassifier(
            [
                (
                    f"mlp{seed}",
                    make_pipeline(StandardScaler(), MLPClassifier(random_state=seed, **mlp)),
                )
                for seed in range(5)
            ],
            voting="soft",
        ),
    }


def run(quick: bool) -> list[dict]:
    """Every model on every data set through ``bnn_sklearn.compare.compare``."""
    rows = []
    for data_name, (X, y) in classification_datasets(quick).items():
        start = time.perf_counter()
        table = compare(
            X,
            y,
            models=models(quick),
            preprocessing=None,  # the models carry their own scalers
            cv=2 if quick else 5,
            n_repeats=1 if quick else 2,
            random_state=0,
        )
        records = table if isinstance(table, list) else table.reset_index().to_dict("records")
        for record in records:
            rows.append(
                {"dataset": data_name, "model": record["model"]}
                | {metric: record[source] for metric, source in METRICS.items()}
            )
        print(f"{data_name:>14} | {len(records)} models | {time.perf_counter() - start:.1f} s")
    return rows


def markdown(rows: list[dict], quick: bool) -> str:
    header = (
        f"`python -m benchmarks.compare_classifiers{' --quick' if quick else ''}`, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}; means over "
        f"{'2 folds' if quick else '5 folds x 2 repeats'}; best log loss and ECE per data "
        "set in bold.\n\n"
        "| data set | model | accuracy | log loss | Brier | ECE | fit s | predict s |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for data_name in dict.fromkeys(r["dataset"] for r in rows):
        group = [r for r in rows if r["dataset"] == data_name]
        best = {m: min(r[m] for r in group) for m in ("log_loss", "ece")}
        for r in group:
            cells = [
                f"**{r[m]:.3f}**" if m in best and r[m] == best[m] else f"{r[m]:.3f}"
                for m in ("accuracy", "log_loss", "brier", "ece")
            ]
            lines.append(
                f"| {data_name} | {r['model']} | {' | '.join(cells)} | "
                f"{r['fit_s']:.2f} | {r['predict_s']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the tables")
    args = parser.parse_args(argv)
    if args.quick:  # a few iterations: the MLPs' convergence warnings say nothing here
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(rows, args.quick)
    (args.out / "compare.md").write_text(table)
    write_csv(rows, args.out / "compare.csv")
    print("\n" + table)


if __name__ == "__main__":
    main()
