"""Property-based: odd but valid data never crash fit or predict, or give a clear error."""

import hypothesis
import hypothesis.strategies as st
import numpy as np

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn._inference import DivergenceError

from .conftest import FAST

LABELS = {
    "ints": [7, -1, 0],
    "strings": ["cat", "dog", "emu"],
    "bools": [False, True],
}


@st.composite
def problems(draw):
    """Data sets of 2-3 classes with duplicated rows, constant columns and wild scales.

    Two features and at most three classes: with FAST's hidden layer these are the
    networks of the moons and three-blobs tests, so the examples compile nothing new.
    """
    label_type = draw(st.sampled_from(sorted(LABELS)))
    n_classes = 2 if label_type == "bools" else draw(st.integers(2, 3))
    n_samples = draw(st.integers(n_classes, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = rng.integers(0, n_classes, size=n_samples)
    X = rng.normal(size=(n_samples, 2)) + codes[:, None]
    X *= 10.0 ** np.array(draw(st.lists(st.integers(-6, 6), min_size=2, max_size=2)))
    if draw(st.booleans()):  # duplicated rows
        X[n_samples // 2 :] = X[: n_samples - n_samples // 2]
        codes[n_samples // 2 :] = codes[: n_samples - n_samples // 2]
    if draw(st.booleans()):  # a constant column
        X[:, draw(st.integers(0, 1))] = draw(st.sampled_from([0.0, 1.0, -3e5]))
    y = np.array(LABELS[label_type], dtype=object)[codes]
    return X, y.astype(type(LABELS[label_type][0]))


@hypothesis.settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
@hypothesis.given(problem=problems())
def test_fit_and_predict_give_valid_probabilities_or_a_clear_error(problem):
    X, y = problem
    X_before, y_before = X.copy(), y.copy()
    clf = BayesianMLPClassifier(**{**FAST, "max_iter": 200, "n_draws": 20})
    classes = np.unique(y)
    try:
        clf.fit(X, y)
    except ValueError as error:
        # The only refusals allowed: one class, or a divergence on data far from
        # standardised (a feature beyond 1e3), with the advice to standardise.
        assert len(classes) < 2 or isinstance(error, DivergenceError), error
        if isinstance(error, DivergenceError):
            assert np.abs(X).max() > 1e3, error
            assert "StandardScaler" in str(error)
        assert not hasattr(clf, "classes_")
        return
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), len(classes))
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert set(clf.predict(X)) <= set(classes)
    std = clf.predict_std(X)
    assert std.shape == proba.shape and np.all(np.isfinite(std))
    split = clf.predict_uncertainty(X)
    for part in split:
        assert part.shape == (len(y),) and np.all(np.isfinite(part))
