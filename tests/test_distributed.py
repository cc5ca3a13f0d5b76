"""Model selection on a dask.distributed cluster of worker processes, through joblib."""

import os
import time

import distributed
import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from bnn_sklearn import BayesianMLPClassifier

from .conftest import FAST

N_SPLITS = 3


def fitting_process(estimator, X, y):
    """A "score" that records which process fitted and scored the estimator: its id."""
    return float(os.getpid())


def grid_search(n_jobs):
    return GridSearchCV(
        BayesianMLPClassifier(**{**FAST, "max_iter": 1000}),
        # batch_size 50: minibatch fits, whose row draws must also follow random_state.
        {"prior_scale": [0.5, 1.0], "batch_size": [None, 50]},
        cv=StratifiedKFold(N_SPLITS),
        scoring={"neg_log_loss": "neg_log_loss", "process": fitting_process},
        refit="neg_log_loss",
        n_jobs=n_jobs,
        error_score="raise",
    )


def fitting_processes(search) -> set[int]:
    return {
        int(pid)
        for split in range(N_SPLITS)
        for pid in search.cv_results_[f"split{split}_test_process"]
    }


@pytest.mark.slow
def test_grid_search_on_a_local_dask_cluster_matches_n_jobs_1(moons):
    X, y = moons
    start = time.perf_counter()
    serial = grid_search(n_jobs=1).fit(X, y)
    serial_seconds = time.perf_counter() - start
    assert fitting_processes(serial) == {os.getpid()}
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            on_dask = grid_search(n_jobs=-1).fit(X, y)
        dask_seconds = time.perf_counter() - start
        worker_pids = set(client.run(os.getpid).values())
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    # Every fit ran in a worker's process, none in this one.
    assert fitting_processes(on_dask) <= worker_pids
    for key in ("mean_test_neg_log_loss", "std_test_neg_log_loss", "split0_test_neg_log_loss"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    assert on_dask.best_params_ == serial.best_params_
    n_fits = 4 * N_SPLITS
    print(f"grid of {n_fits} fits: n_jobs=1 {serial_seconds:.1f} s, dask {dask_seconds:.1f} s")
