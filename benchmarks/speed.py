"""Speed of the compiled ADVI engine against stock ``pm.fit``, measured in the same process.

The reference is what a notebook does: build the PyMC model and call ``pm.fit`` (same
model, same starting point, same Adam step, same number of iterations) for every fit. A
second reference is the origin notebook's own, smaller model (no biases, ``pm.Bernoulli``)
under stock ``pm.fit``. The ratios printed are reference time / engine time; targets are
for Python >= 3.12.

    python -m benchmarks.speed             # the real settings (a few minutes)
    python -m benchmarks.speed --quick     # fewer iterations, no cold-cache runs
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pymc as pm
import pytensor
from pytensor.compile.mode import get_mode
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn._inference import ENGINES

if not __package__:  # run as a file: python benchmarks/speed.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, cold_first_fit, timed
from benchmarks.datasets import seed_data
from tests.stock import StockBayesianMLPClassifier, plain_seed_fit


def add_row(rows, *cells) -> None:
    """Add a row to the table and print it as it comes."""
    rows.append(cells)
    print(" | ".join(cells), flush=True)


def compare(label, make, X, y, n_iter, rows):
    """Time a fit of ``n_iter`` iterations with the engine (warm) and with stock pm.fit."""
    make(BayesianMLPClassifier, 50).fit(X, y)  # compile outside the timing
    engine_s, engine = timed(lambda: make(BayesianMLPClassifier, n_iter).fit(X, y))
    stock_s, stock = timed(lambda: make(StockBayesianMLPClassifier, n_iter).fit(X, y))
    tail = slice(-max(1, n_iter // 10), None)
    add_row(
        rows,
        label,
        f"{engine_s:.2f} s ({1e6 * engine_s / n_iter:.0f} us/iter)",
        f"{stock_s:.2f} s ({1e6 * stock_s / n_iter:.0f} us/iter)",
        f"{stock_s / engine_s:.1f}x",
        f"{engine.loss_curve_[tail].mean():.1f} / {stock.loss_curve_[tail].mean():.1f}",
    )


def against_the_notebook(label, make, batch_size, X, y, n_iter, rows):
    """The engine against the origin notebook's own model (no biases, ``pm.Bernoulli``)
    under stock ``pm.fit``: per iteration with compiling left out, then whole fits with the
    first compile counted (the engine's pool emptied; both find PyTensor's disk cache warm).
    """
    ENGINES.clear()
    first_s, _ = timed(lambda: make(BayesianMLPClassifier, n_iter).fit(X, y))
    warm_s, _ = timed(lambda: make(BayesianMLPClassifier, n_iter).fit(X, y))
    plain_seed_fit(X, y, batch_size=batch_size, n_iter=1)  # its first compile, to the disk cache
    setup_s, _ = timed(lambda: plain_seed_fit(X, y, batch_size=batch_size, n_iter=1))
    plain_s, _ = timed(lambda: plain_seed_fit(X, y, batch_size=batch_size, n_iter=n_iter))
    engine_us, plain_us = 1e6 * warm_s / n_iter, 1e6 * (plain_s - setup_s) / (n_iter - 1)
    target_warm = 5 if batch_size else 2.5
    add_row(
        rows,
        f"{label}: per iteration, warm (target >= {target_warm}x)",
        f"{engine_us:.0f} us/iter",
        f"{plain_us:.0f} us/iter",
        f"{plain_us / engine_us:.1f}x",
        "",
    )
    add_row(
        rows,
        f"{label}: whole fit, first compile counted (target >= 2x)",
        f"{first_s:.2f} s",
        f"{plain_s:.2f} s",
        f"{plain_s / first_s:.1f}x",
        "",
    )


def main(argv=None) -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)  # stock pm.fit's "Finished" lines
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few iterations, no cold runs")
    args = parser.parse_args(argv)
    long_run, wide_run, grid_run = (2000, 300, 500) if args.quick else (50_000, 5000, 5000)
    X_train, X_test, y_train, y_test = seed_data()
    rows = []
    print("workload | engine | stock pm.fit | speed-up | final loss engine / stock")

    def seed_model(hidden, activation, batch_size):
        return lambda cls, n: cls(
            hidden_layer_sizes=hidden,
            activation=activation,
            batch_size=batch_size,
            prior_scale=1.0,
            max_iter=n,
            tol=None,
            random_state=0,
        )

    compare(
        "seed (5, 5) tanh, minibatch 50 (target >= 7x)",
        seed_model((5, 5), "tanh", 50),
        X_train,
        y_train,
        long_run,
        rows,
    )
    compare(
        "seed (5, 5) tanh, full batch (target >= 2.5x)",
        seed_model((5, 5), "tanh", None),
        X_train,
        y_train,
        long_run,
        rows,
    )
    for batch_size, mode in [(50, "minibatch 50"), (None, "full batch")]:
        against_the_notebook(
            f"seed (5, 5) tanh against the notebook's plain model, {mode}",
            seed_model((5, 5), "tanh", batch_size),
            batch_size,
            X_train,
            y_train,
            long_run,
            rows,
        )
    X_wide, y_wide = make_classification(20_000, 20, n_informative=10, random_state=0)
    compare(
        "(64, 64) relu, 20,000 x 20, minibatch 256 (target >= 1.5x)",
        seed_model((64, 64), "relu", 256),
        X_wide,
        y_wide,
        wide_run,
        rows,
    )

    # Setup of a second fit of a warm architecture on new data of another size.
    model = seed_model((5, 5), "tanh", None)
    setup_s, _ = timed(lambda: model(BayesianMLPClassifier, 1).fit(X_test[:333], y_test[:333]))
    stock_setup_s, _ = timed(
        lambda: model(StockBayesianMLPClassifier, 1).fit(X_test[:333], y_test[:333])
    )
    add_row(
        rows,
        "second fit on new data: setup (target <= 50 ms)",
        f"{1e3 * setup_s:.0f} ms",
        f"{1e3 * stock_setup_s:.0f} ms",
        f"{stock_setup_s / setup_s:.0f}x",
        "",
    )

    # New widths of a depth this process has fitted: no compile (one engine per depth).
    model = seed_model((16, 16), "relu", None)
    model(BayesianMLPClassifier, 200).fit(X_train, y_train)
    for hidden in [(23, 23), (40, 40)]:
        model = seed_model(hidden, "relu", None)
        new_width_s, _ = timed(
            lambda model=model: model(BayesianMLPClassifier, 200).fit(X_train, y_train)
        )
        stock_width_s, _ = timed(
            lambda model=model: model(StockBayesianMLPClassifier, 200).fit(X_train, y_train)
        )
        add_row(
            rows,
            f"new width {hidden} after (16, 16), 200 iterations (target <= 0.5 s)",
            f"{new_width_s:.2f} s",
            f"{stock_width_s:.2f} s",
            f"{stock_width_s / new_width_s:.0f}x",
            "",
        )

    # A grid search: 2 architectures x 2 prior scales x 2 batch sizes x 3 folds.
    grid = {
        "hidden_layer_sizes": [(5, 5), (32,)],
        "prior_scale": [1.0, 2.0],
        "batch_size": [None, 50],
    }
    searches = {}
    for cls in (BayesianMLPClassifier, StockBayesianMLPClassifier):
        ENGINES.clear()
        search = GridSearchCV(
            cls(max_iter=grid_run, tol=None, random_state=0), grid, cv=StratifiedKFold(3), n_jobs=1
        )
        searches[cls], _ = timed(lambda search=search: search.fit(X_train, y_train))
    engine_s, stock_s = searches.values()
    add_row(
        rows,
        "GridSearchCV, 24 fits, in-process pool emptied first (target >= 5x)",
        f"{engine_s:.1f} s",
        f"{stock_s:.1f} s",
        f"{stock_s / engine_s:.1f}x",
        "",
    )

    # The defaults on the seed, with a warm engine.
    BayesianMLPClassifier(max_iter=50, tol=None).fit(X_train, y_train)
    default_s, clf = timed(lambda: BayesianMLPClassifier(random_state=0).fit(X_train, y_train))
    proba = clf.predict_proba(X_test)
    add_row(
        rows,
        "defaults on the seed, warm (target <= 1.5 s, acc >= 0.95, log loss <= 0.13)",
        f"{default_s:.2f} s, {clf.n_iter_} iterations",
        f"accuracy {accuracy_score(y_test, clf.predict(X_test)):.3f}",
        f"log loss {log_loss(y_test, proba):.3f}",
        "",
    )

    big = np.random.default_rng(0).normal(size=(100_000, 2))
    predict_s, _ = timed(lambda: clf.predict_proba(big))
    add_row(
        rows, "predict_proba, 100,000 rows x 500 draws (report)", f"{predict_s:.2f} s", "", "", ""
    )

    if not args.quick:
        one = cold_first_fit(1)
        two = cold_first_fit(2)
        add_row(
            rows,
            "first fit with an empty compile cache, 1 process / 2 at once (report)",
            f"{one:.1f} s",
            f"{two:.1f} s",
            "",
            "",
        )

    versions = (
        f"Python {platform.python_version()}, PyMC {pm.__version__}, PyTensor "
        f"{pytensor.__version__} ({type(get_mode(None).linker).__name__}), "
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores"
    )
    table = "\n".join(
        [
            f"`python -m benchmarks.speed{' --quick' if args.quick else ''}`: {versions}",
            "",
            "| workload | engine | stock pm.fit | ratio | final loss engine / stock |",
            "|---|---|---|---|---|",
        ]
        + ["| " + " | ".join(row) + " |" for row in rows]
    )
    print("\n" + table)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
        (RESULTS / f"speed_{tag}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
