"""Out-of-core training: a dask array's blocks streamed through partial_fit, by dask-ml's
Incremental or by a plain loop, give the same model as the same loop over NumPy chunks."""

import numpy as np
import pytest
from sklearn.datasets import make_moons

from bnn_sklearn import BayesianMLPClassifier, BayesianMLPRegressor

from .conftest import FAST

da = pytest.importorskip("dask.array")

CHUNK = 100
# minibatches of 20 rows: the row draws must follow random_state too
SETTINGS = {**FAST, "n_draws": 50, "batch_size": 20}


@pytest.fixture(scope="module")
def stream():
    X, y = make_moons(n_samples=3 * CHUNK, noise=0.2, random_state=0)
    return X, y, da.from_array(X, chunks=(CHUNK, 2)), da.from_array(y, chunks=CHUNK)


def numpy_loop(model, X, y, **kwargs):
    for start in range(0, len(X), CHUNK):
        model.partial_fit(X[start : start + CHUNK], y[start : start + CHUNK], **kwargs)
    return model


def assert_same_model(streamed, reference, X):
    assert streamed.n_iter_ == reference.n_iter_ == 3 * CHUNK // 20
    assert streamed.n_samples_seen_ == reference.n_samples_seen_ == len(X)
    np.testing.assert_array_equal(streamed.loss_curve_, reference.loss_curve_)
    np.testing.assert_array_equal(streamed.predict_proba(X), reference.predict_proba(X))


def test_loop_over_dask_blocks_equals_the_numpy_loop(stream):
    X, y, dX, dy = stream
    kwargs = {"classes": [0, 1], "total_size": dX.shape[0]}
    streamed = BayesianMLPClassifier(**SETTINGS)
    for X_block, y_block in zip(dX.blocks, dy.blocks):
        streamed.partial_fit(X_block.compute(), y_block.compute(), **kwargs)
    reference = numpy_loop(BayesianMLPClassifier(**SETTINGS), X, y, **kwargs)
    assert_same_model(streamed, reference, X)
    # an ordinary fitted model afterwards
    assert set(streamed.predict(X)) <= {0, 1}
    np.testing.assert_allclose(streamed.predict_proba(X).sum(axis=1), 1.0)
    assert np.all(streamed.predict_std(X) > 0)


def test_incremental_equals_the_numpy_loop(stream):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y, dX, dy = stream
    kwargs = {"classes": [0, 1], "total_size": dX.shape[0]}
    incremental = wrappers.Incremental(BayesianMLPClassifier(**SETTINGS), shuffle_blocks=False)
    incremental.fit(dX, dy, **kwargs)
    reference = numpy_loop(BayesianMLPClassifier(**SETTINGS), X, y, **kwargs)
    streamed = incremental.estimator_
    assert isinstance(streamed, BayesianMLPClassifier)
    assert_same_model(streamed, reference, X)
    # predictions blockwise on the dask array, the same as the fitted model's on NumPy
    np.testing.assert_array_equal(
        incremental.predict_proba(dX).compute(), reference.predict_proba(X)
    )
    # a second pass continues from the posterior, like a second pass of the NumPy loop
    incremental.partial_fit(dX, dy, **kwargs)
    numpy_loop(reference, X, y, **kwargs)
    assert incremental.estimator_.n_iter_ == 2 * 3 * CHUNK // 20
    np.testing.assert_array_equal(incremental.estimator_.loss_curve_, reference.loss_curve_)
    np.testing.assert_array_equal(incremental.estimator_.coefs_std_[0], reference.coefs_std_[0])


def test_incremental_regressor_equals_the_numpy_loop(stream):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, _, dX, _ = stream
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    dy = da.from_array(y, chunks=CHUNK)
    kwargs = {"total_size": len(X)}
    incremental = wrappers.Incremental(BayesianMLPRegressor(**SETTINGS), shuffle_blocks=False)
    incremental.fit(dX, dy, **kwargs)
    reference = numpy_loop(BayesianMLPRegressor(**SETTINGS), X, y, **kwargs)
    np.testing.assert_array_equal(incremental.estimator_.predict(X), reference.predict(X))
    mean, std = incremental.estimator_.predict(X, return_std=True)
    assert mean.shape == std.shape == (len(X),) and np.all(std > 0)
