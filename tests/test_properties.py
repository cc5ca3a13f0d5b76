"""Property-based: odd but valid data never crash fit or predict, or give a clear error."""

import numpy as np
import pytest

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn._inference import DivergenceError

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")

LABELS = {
    "ints": [7, -1, 0, 42, 3],
    "strings": ["cat", "dog", "emu", "fox", "gnu"],
    "bools": [False, True],
}


@st.composite
def problems(draw):
    """Data sets of 2-5 classes with duplicated rows, constant columns and wild scales."""
    label_type = draw(st.sampled_from(sorted(LABELS)))
    n_classes = 2 if label_type == "bools" else draw(st.integers(2, 5))
    n_samples = draw(st.integers(n_classes, 60))
    n_features = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = rng.integers(0, n_classes, size=n_samples)
    X = rng.normal(size=(n_samples, n_features)) + codes[:, None]
    X *= 10.0 ** np.array(
        draw(st.lists(st.integers(-6, 6), min_size=n_features, max_size=n_features))
    )
    if draw(st.booleans()):  # duplicated rows
        X[n_samples // 2 :] = X[: n_samples - n_samples // 2]
        codes[n_samples // 2 :] = codes[: n_samples - n_samples // 2]
    if draw(st.booleans()):  # a constant column
        X[:, draw(st.integers(0, n_features - 1))] = draw(st.sampled_from([0.0, 1.0, -3e5]))
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
    clf = BayesianMLPClassifier(
        hidden_layer_sizes=(4,), max_iter=200, tol=None, n_draws=20, random_state=0
    )
    classes = np.unique(y)
    try:
        clf.fit(X, y)
    except ValueError as error:
        # The only refusals allowed: one class, or a divergence with its advice.
        assert len(classes) < 2 or isinstance(error, DivergenceError), error
        if isinstance(error, DivergenceError):
            assert "learning_rate" in str(error)
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
        assert part.shape == (len(y),) and np.all(np.isfinite(part)) and np.all(part >= 0)
