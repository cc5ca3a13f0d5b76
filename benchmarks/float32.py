"""Prediction in single precision against double: the largest difference and the time.

For each data set, the default ``BayesianMLPClassifier`` behind a StandardScaler is fitted
once; its ``predict_proba`` and ``predict_std`` then run with ``prediction_dtype="float64"``
and ``"float32"`` on ``--rows`` rows resampled from the data set (with replacement), the two
in turn, ``--repeats`` times each. Reported: the largest absolute difference of the
probabilities and of their standard deviations over those rows, the median seconds of
``predict_proba`` in each precision and their ratio (float32 / float64). The data sets: the
seed's moons and the five of ``benchmarks.datasets.classification_datasets``.

Writes ``float32.md`` to ``--out`` (default ``benchmarks/results``) and prints it.

    python -m benchmarks.float32            # the real run (a few minutes)
    python -m benchmarks.float32 --quick    # a smoke run: two small data sets
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier

if not __package__:  # run as a file: python benchmarks/float32.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, header, markdown_table, timed
from benchmarks.datasets import classification_datasets, seed_data

COLUMNS = (
    "data set",
    "classes",
    "largest probability difference",
    "largest std difference",
    "float64 s",
    "float32 s",
    "float32 / float64 time",
)


def datasets(quick: bool) -> dict:
    X_train, _, y_train, _ = seed_data()
    return {"seed moons": (X_train, y_train), **classification_datasets(quick)}


def measure(model, X, repeats: int) -> dict:
    """Both precisions on ``X``, in turn: differences and median seconds of predict_proba."""
    outputs, seconds = {}, {"float64": [], "float32": []}
    for _ in range(repeats):
        for dtype in seconds:
            model.set_params(bayesianmlpclassifier__prediction_dtype=dtype)
            spent, proba = timed(lambda: model.predict_proba(X))
            seconds[dtype].append(spent)
            outputs[dtype] = proba, model[-1].predict_std(model[:-1].transform(X))
    (p64, s64), (p32, s32) = outputs["float64"], outputs["float32"]
    t64, t32 = np.median(seconds["float64"]), np.median(seconds["float32"])
    return {
        "proba": float(np.abs(p64 - p32).max()),
        "std": float(np.abs(s64 - s32).max()),
        "t64": t64,
        "t32": t32,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--rows", type=int, default=50_000, help="rows predicted per data set")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per precision")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    args = parser.parse_args(argv)
    rows, repeats = (2_000, 1) if args.quick else (args.rows, args.repeats)
    settings = {"max_iter": 300, "tol": None, "n_draws": 100} if args.quick else {}
    table = []
    for name, (X, y) in datasets(args.quick).items():
        model = make_pipeline(StandardScaler(), BayesianMLPClassifier(random_state=0, **settings))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        X_rows = X[np.random.default_rng(0).integers(0, len(X), size=rows)]
        result = measure(model, X_rows, repeats)
        table.append(
            [
                name,
                str(len(np.unique(y))),
                f"{result['proba']:.1e}",
                f"{result['std']:.1e}",
                f"{result['t64']:.2f}",
                f"{result['t32']:.2f}",
                f"{result['t32'] / result['t64']:.2f}",
            ]
        )
        print(" | ".join(table[-1]), flush=True)
    n_draws = BayesianMLPClassifier(**settings).n_draws
    note = (
        f"defaults behind a StandardScaler ({n_draws} draws), {rows:,} rows per data set, "
        f"median of {repeats} calls per precision"
    )
    text = header("float32", argv, note) + "\n\n" + markdown_table(COLUMNS, table) + "\n"
    print("\n" + text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "float32.md").write_text(text)


if __name__ == "__main__":
    main()
