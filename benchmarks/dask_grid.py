"""A grid search on a local dask cluster against n_jobs=1, with warm and cold workers.

GridSearchCV (2 x 2 grid, 3 folds: 12 fits of the defaults on 1000 moons) runs with
n_jobs=1 in this process, then under ``joblib.parallel_backend("dask")`` on a
``LocalCluster`` of worker processes: first with warm workers (PyTensor's compile cache
already holds the engine), then cold, each worker given an empty compile directory so it
compiles from scratch. Beside it, the first fit in 1 and in 2 plain processes started at
once with an empty compile directory: if cold processes waited on each other's compile
lock, 2 would take about twice as long as 1. (A cluster of 1 worker would not do here:
joblib runs a search whose effective n_jobs is 1 in the calling process.)

    python -m benchmarks.dask_grid            # the real run (about 10 minutes on 2 cores)
    python -m benchmarks.dask_grid --quick    # a smoke run: few iterations, warm only
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier

if not __package__:  # run as a file: python benchmarks/dask_grid.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, cold_first_fit


def search(quick: bool, n_jobs: int) -> GridSearchCV:
    settings = {"max_iter": 300, "tol": None, "n_draws": 50} if quick else {}
    return GridSearchCV(
        make_pipeline(StandardScaler(), BayesianMLPClassifier(random_state=0, **settings)),
        {
            "bayesianmlpclassifier__prior_scale": [1.0, 2.0],
            "bayesianmlpclassifier__learning_rate": [0.01, 0.02],
        },
        cv=StratifiedKFold(3),
        scoring="neg_log_loss",
        n_jobs=n_jobs,
        error_score="raise",
    )


def timed_dask_search(X, y, quick: bool, n_workers: int, compiledir: str | None):
    """Wall seconds of the search on a fresh LocalCluster, and its cv_results_ scores."""
    env = {} if compiledir is None else {"PYTENSOR_FLAGS": f"base_compiledir={compiledir}"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # worker processes inherit the environment
    try:
        with (
            LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster),
        ):
            start = time.perf_counter()
            with joblib.parallel_backend("dask"):
                fitted = search(quick, n_jobs=-1).fit(X, y)
            return time.perf_counter() - start, fitted.cv_results_["mean_test_score"]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    args = parser.parse_args(argv)
    X, y = make_moons(n_samples=300 if args.quick else 1000, noise=0.2, random_state=0)

    search(args.quick, n_jobs=1).fit(X[:100], y[:100])  # warm this process's engine
    start = time.perf_counter()
    serial = search(args.quick, n_jobs=1).fit(X, y).cv_results_["mean_test_score"]
    serial_s = time.perf_counter() - start
    rows = [("n_jobs=1, this process, warm", serial_s, "(reference)")]
    runs = [("dask, 2 workers, warm compile cache", False)]
    if not args.quick:
        runs.append(("dask, 2 workers, empty compile cache", True))
    for label, cold in runs:
        with tempfile.TemporaryDirectory() as compiledir:
            seconds, scores = timed_dask_search(X, y, args.quick, 2, compiledir if cold else None)
        rows.append((label, seconds, bool(np.array_equal(scores, serial))))
        print(f"{label}: {seconds:.1f} s", flush=True)
    if not args.quick:
        for processes in (1, 2):
            seconds = cold_first_fit(processes)
            rows.append(
                (f"first fit, {processes} plain process(es) at once, empty cache", seconds, "-")
            )
            print(f"cold first fit, {processes} at once: {seconds:.1f} s", flush=True)

    lines = [
        f"`python -m benchmarks.dask_grid{' --quick' if args.quick else ''}`, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}; GridSearchCV of 12 fits "
        f"on {len(y)} moons.",
        "",
        "| run | wall s | ratio to n_jobs=1 | cv_results_ identical to n_jobs=1 |",
        "|---|---|---|---|",
        *(f"| {label} | {s:.1f} | {s / serial_s:.2f} | {same} |" for label, s, same in rows),
    ]
    table = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dask_grid.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":  # LocalCluster's worker processes re-import this file
    main()
