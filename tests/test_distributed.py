"""Model selection on a dask.distributed cluster of worker processes, through joblib."""

import time

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from bnn_sklearn import BayesianMLPClassifier

from .conftest import FAST

distributed = pytest.importorskip("distributed")


def grid_search(n_jobs):
    return GridSearchCV(
        BayesianMLPClassifier(**{**FAST, "max_iter": 1000}),
        {"prior_scale": [0.5, 1.0], "learning_rate": [0.01, 0.02]},
        cv=StratifiedKFold(3),
        scoring="neg_log_loss",
        n_jobs=n_jobs,
        error_score="raise",
    )


def test_grid_search_on_a_local_dask_cluster_matches_n_jobs_1(moons):
    import joblib

    X, y = moons
    start = time.perf_counter()
    serial = grid_search(n_jobs=1).fit(X, y)
    serial_seconds = time.perf_counter() - start
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
        # The fits really ran in the workers' processes.
        worker_pids = set(client.run(lambda: __import__("os").getpid()).values())
        assert len(worker_pids) == 2
    for key in ("mean_test_score", "std_test_score", "split0_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    assert on_dask.best_params_ == serial.best_params_
    print(f"grid of 12 fits: n_jobs=1 {serial_seconds:.1f} s, dask 2 workers {dask_seconds:.1f} s")
