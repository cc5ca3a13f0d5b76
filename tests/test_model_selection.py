"""The estimator inside scikit-learn's tools: pipelines, search, cross-validation, pickling."""

import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bnn_sklearn import BayesianMLPClassifier, BayesianMLPRegressor

from .conftest import FAST


def test_pipeline_with_column_transformer_on_a_dataframe(moons):
    X, y = moons
    frame = pd.DataFrame(
        {
            "x0": X[:, 0] * 100,
            "x1": X[:, 1],
            "colour": np.where(X[:, 0] > 0.5, "red", "blue"),
        }
    )
    labels = np.where(y == 1, "upper", "lower")
    model = make_pipeline(
        ColumnTransformer(
            [("num", StandardScaler(), ["x0", "x1"]), ("cat", OneHotEncoder(), ["colour"])]
        ),
        BayesianMLPClassifier(**FAST),
    )
    model.fit(frame, labels)
    assert set(model.classes_) == {"lower", "upper"}
    assert model.score(frame, labels) > 0.85
    assert model.predict_proba(frame.iloc[:5]).shape == (5, 2)


def test_dataframe_feature_names_are_kept_and_checked(moons):
    X, y = moons
    frame = pd.DataFrame(X, columns=["a", "b"])
    clf = BayesianMLPClassifier(**{**FAST, "max_iter": 200}).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b"])
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "c"}))


@pytest.mark.slow
def test_grid_search_in_two_worker_processes_matches_one_process(moons):
    """Every candidate's score on every fold, and so the choice, are those of n_jobs=1."""
    X, y = moons

    def search(n_jobs):
        return GridSearchCV(
            BayesianMLPClassifier(**{**FAST, "max_iter": 1000}),
            {
                "hidden_layer_sizes": [(4,), (8,)],
                "prior_scale": [0.5, 1.0],
                "batch_size": [None, 50],
            },
            cv=StratifiedKFold(2),
            n_jobs=n_jobs,
            scoring="neg_log_loss",
            error_score="raise",
        ).fit(X, y)

    serial, parallel = search(1), search(2)
    for fold in ("split0_test_score", "split1_test_score"):
        assert len(np.unique(serial.cv_results_[fold])) == 8  # the candidates differ
        np.testing.assert_array_equal(parallel.cv_results_[fold], serial.cv_results_[fold])
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(parallel.predict_proba(X), serial.predict_proba(X))


def test_cross_validation_is_the_same_with_any_n_jobs(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST)
    serial = cross_val_score(clf, X, y, cv=3, scoring="neg_log_loss", n_jobs=1)
    parallel = cross_val_score(clf, X, y, cv=3, scoring="neg_log_loss", n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)
    assert serial.mean() > -0.45
    accuracy = cross_val_score(clf, X, y, cv=3, scoring="accuracy")
    assert accuracy.mean() > 0.8


def test_regressor_cross_validation_in_a_pipeline_is_the_same_with_any_n_jobs():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(150, 2)) * [1.0, 100.0]  # scales a pipeline must fix
    y = np.sin(2 * X[:, 0]) + X[:, 1] / 100 + rng.normal(scale=0.1, size=150)
    model = make_pipeline(StandardScaler(), BayesianMLPRegressor(**FAST))
    folds = KFold(3, shuffle=True, random_state=0)
    serial = cross_val_score(model, X, y, cv=folds, n_jobs=1)
    parallel = cross_val_score(model, X, y, cv=folds, n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)
    assert serial.mean() > 0.8  # R^2


def test_clone_copies_parameters_not_the_fit(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**{**FAST, "max_iter": 200}).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "coefs_mean_")


def test_saved_model_predicts_identically_in_a_fresh_process(moons, tmp_path):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X, y)
    joblib.dump(clf, tmp_path / "model.joblib")
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import sys, joblib, numpy as np
        clf = joblib.load({str(tmp_path / "model.joblib")!r})
        X = np.load({str(tmp_path / "X.npy")!r})
        np.save({str(tmp_path / "proba.npy")!r}, clf.predict_proba(X))
        np.save({str(tmp_path / "std.npy")!r}, clf.predict_std(X))
        assert "pymc" not in sys.modules and "pytensor" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), clf.predict_proba(X))
    np.testing.assert_array_equal(np.load(tmp_path / "std.npy"), clf.predict_std(X))


def test_calibration_and_permutation_importance_work_unchanged(moons):
    X, y = moons
    noisy = np.column_stack([X, np.random.default_rng(0).normal(size=len(X))])
    labels = np.where(y == 1, "upper", "lower")
    calibrated = CalibratedClassifierCV(BayesianMLPClassifier(**FAST), cv=2).fit(noisy, labels)
    proba = calibrated.predict_proba(noisy)
    assert calibrated.classes_.tolist() == ["lower", "upper"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Probabilities in the columns of classes_ (measured: accuracy 0.86, log loss 0.32;
    # swapped columns would give 0.14 and more than log 2).
    assert accuracy_score(labels, calibrated.classes_[proba.argmax(axis=1)]) > 0.8
    assert log_loss(labels, proba) < 0.4
    clf = BayesianMLPClassifier(**FAST).fit(noisy, y)
    importance = permutation_importance(
        clf, noisy, y, scoring="neg_log_loss", n_repeats=5, random_state=0
    )
    # The two moon coordinates matter; the added noise column does not.
    assert importance.importances_mean[:2].min() > 3 * abs(importance.importances_mean[2])
