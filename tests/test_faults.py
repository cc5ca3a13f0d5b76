"""Interrupted fits, rare and missing classes, and the input types scikit-learn accepts."""

import os
import signal
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.metrics import neg_expected_calibration_error

from .conftest import FAST


@pytest.fixture
def ctrl_c_raises():
    """Python's own SIGINT handler: a shell runs background jobs with SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def interrupt_after(seconds: float) -> threading.Timer:
    """Send this process a real SIGINT (Ctrl-C) after ``seconds``."""
    timer = threading.Timer(seconds, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def fit_interrupted(estimator, X, y):
    timer = interrupt_after(0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            # Long enough to be interrupted, short enough to end if the signal were lost.
            estimator.set_params(max_iter=300_000).fit(X, y)
    finally:
        timer.cancel()


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to self is POSIX")
def test_an_interrupted_fit_leaves_the_estimator_as_it_was(moons, ctrl_c_raises):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X, y)  # also compiles the engine
    state = {k: v for k, v in vars(clf).items() if k != "max_iter"}
    proba = clf.predict_proba(X)

    fit_interrupted(clf, X[::-1], y[::-1])
    assert {k: v for k, v in vars(clf).items() if k != "max_iter"} == state
    np.testing.assert_array_equal(clf.predict_proba(X), proba)

    unfitted = BayesianMLPClassifier(**FAST)
    fit_interrupted(unfitted, X, y)
    assert set(vars(unfitted)) == set(unfitted.get_params())  # no fitted attribute at all

    # The pooled engine that was interrupted fits as if nothing had happened.
    refit = BayesianMLPClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(refit.predict_proba(X), proba)


def test_extremely_imbalanced_classes_fit_and_predict_like_sklearn():
    rng = np.random.default_rng(1)
    y = np.r_[np.full(990, "common"), np.full(10, "rare")]
    X = rng.normal(size=(1000, 3)) + np.where(y == "rare", 1.5, 0.0)[:, None]
    clf = BayesianMLPClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # The rare class gets probabilities near its base rate, higher where it lives.
    assert 0.003 < proba[:, 1].mean() < 0.05
    assert proba[y == "rare", 1].mean() > 3 * proba[y == "common", 1].mean()


def test_a_class_missing_from_a_test_fold_is_handled_like_sklearn_estimators(three_blobs):
    X, y = three_blobs
    # Two splits whose test parts hold no row of class 2, which their training parts have.
    rows_0_1 = np.flatnonzero(y != 2)
    splits = [
        (np.setdiff1d(np.arange(len(y)), test), test) for test in (rows_0_1[::4], rows_0_1[1::4])
    ]
    scoring = {
        "accuracy": "accuracy",
        "neg_log_loss": "neg_log_loss",
        "ece": neg_expected_calibration_error,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = cross_validate(BayesianMLPClassifier(**FAST), X, y, cv=splits, scoring=scoring)
        theirs = cross_validate(LogisticRegression(), X, y, cv=splits, scoring=scoring)
    # sklearn's log-loss scorer cannot score such a fold for any estimator (it infers the
    # labels from y_true and warns); accuracy and the ECE scorer, given classes_, can.
    for name in scoring:
        failed = np.isnan(ours[f"test_{name}"])
        np.testing.assert_array_equal(failed, np.isnan(theirs[f"test_{name}"]))
        assert failed.all() == (name == "neg_log_loss")
    assert sum("different number of classes" in str(w.message) for w in caught) == 4
    assert ours["test_accuracy"].min() > 0.9


@pytest.mark.parametrize("dtype", [np.float32, np.int64, bool])
def test_numeric_and_boolean_inputs_fit_as_their_float_values(moons, dtype):
    X, y = moons
    X_typed = (X > 0) if dtype is bool else (X * 10).astype(dtype)
    as_float = X_typed.astype(np.float64)
    typed = BayesianMLPClassifier(**FAST).fit(X_typed, y)
    reference = BayesianMLPClassifier(**FAST).fit(as_float, y)
    np.testing.assert_allclose(typed.predict_proba(X_typed), reference.predict_proba(as_float))


def test_pandas_nullable_dtypes_fit_and_missing_values_are_refused(moons):
    X, y = moons
    frame = pd.DataFrame(
        {
            "count": pd.array((X[:, 0] * 10).round(), dtype="Int64"),
            "level": pd.array(X[:, 1], dtype="Float64"),
            "flag": pd.array(X[:, 0] > 0, dtype="boolean"),
        }
    )
    labels = pd.Series(np.where(y == 1, "yes", "no"), dtype="string")
    clf = BayesianMLPClassifier(**FAST).fit(frame, labels)
    reference = BayesianMLPClassifier(**FAST).fit(frame.to_numpy(dtype=float), labels.to_numpy())
    np.testing.assert_allclose(
        clf.predict_proba(frame), reference.predict_proba(frame.to_numpy(dtype=float))
    )
    assert set(clf.predict(frame)) <= {"yes", "no"}
    assert list(clf.feature_names_in_) == ["count", "level", "flag"]
    with_missing = frame.copy()
    with_missing.loc[3, "count"] = pd.NA
    with pytest.raises(ValueError, match="Input X contains NaN"):
        BayesianMLPClassifier(**FAST).fit(with_missing, labels)
    boolean_labels = pd.Series(y == 1, dtype="boolean")
    fitted = BayesianMLPClassifier(**FAST).fit(frame, boolean_labels)
    assert fitted.classes_.tolist() == [False, True]
