"""The forward pass on several threads: the same numbers as on one, and the threads it takes."""

import threading
from contextlib import contextmanager

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from bnn_sklearn import BayesianMLPClassifier, _posterior, _threads
from bnn_sklearn._posterior import (
    class_probabilities,
    iter_draw_outputs,
    n_parameters,
    unflatten_layers,
)
from bnn_sklearn._threads import forward_threads, single_threaded_blas

from .conftest import FAST


def threads_allowed(monkeypatch, n: int) -> None:
    """Let the forward pass take ``n`` threads, whatever this machine has."""

    @contextmanager
    def forward_threads_n():
        with single_threaded_blas():
            yield n

    monkeypatch.setattr(_posterior, "forward_threads", forward_threads_n)
    monkeypatch.setattr(_posterior, "available_cores", lambda: n)


def network(seed=0, sizes=(3, 16, 16, 2), n_draws=7):
    rng = np.random.default_rng(seed)
    n_params = n_parameters(sizes)
    return unflatten_layers(rng.normal(size=(n_draws, n_params)), sizes)


@pytest.mark.parametrize("n_threads", [2, 3])
def test_threads_give_the_single_threaded_numbers_in_order(monkeypatch, n_threads):
    weights, biases = network()
    X = np.random.default_rng(1).normal(size=(1000, 3))
    options = dict(chunk_elements=16 * 45)  # 45 rows a chunk: 23 chunks, the last short
    threads_allowed(monkeypatch, 1)
    serial = list(iter_draw_outputs(X, weights, biases, "relu", class_probabilities, **options))
    threads_allowed(monkeypatch, n_threads)
    seen = set()

    def link(outputs, extras):
        seen.add(threading.get_ident())
        return class_probabilities(outputs, extras)

    threaded = list(iter_draw_outputs(X, weights, biases, "relu", link, **options))
    assert len(seen) == n_threads  # it did run on that many threads
    assert len(threaded) == len(serial) == 23
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)  # to the bit, chunk by chunk


def test_predictions_on_threads_equal_those_on_one(moons, monkeypatch):
    """Through the estimator: 20,000 rows are three chunks of the default chunking."""
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X, y)
    rows = np.random.default_rng(2).normal(size=(20_000, 2))
    threads_allowed(monkeypatch, 1)
    serial = clf.predict_proba(rows), clf.predict_std(rows)
    threads_allowed(monkeypatch, 3)
    threaded = clf.predict_proba(rows), clf.predict_std(rows)
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


def test_the_forward_pass_takes_the_threads_blas_was_allowed(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 8)
    with threadpool_limits(limits=2, user_api="blas"), forward_threads() as n:
        assert n == 2
    with single_threaded_blas(), forward_threads() as n:  # a caller that asked for one
        assert n == 1
    monkeypatch.setattr(_threads, "available_cores", lambda: 1)
    with threadpool_limits(limits=2, user_api="blas"), forward_threads() as n:
        assert n == 1  # never more than the cores


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_the_blas_limit_is_not_held_while_the_caller_consumes_a_chunk():
    weights, biases = network()
    X = np.random.default_rng(1).normal(size=(200, 3))
    with threadpool_limits(limits=2, user_api="blas"):
        if blas_threads() != {2}:
            pytest.skip("BLAS does not take two threads here")
        chunks = iter_draw_outputs(
            X, weights, biases, "tanh", class_probabilities, chunk_elements=16 * 50
        )
        next(chunks)
        assert blas_threads() == {2}
        chunks.close()
