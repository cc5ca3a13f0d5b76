"""MAPIE's conformal regressors wrapping BayesianMLPRegressor (the ``conformal`` extra).

The ``test`` extra includes ``conformal``, so CI, which installs the package with its test extra
into a new virtual environment, runs these in a fresh environment with the extra installed.
Without MAPIE the module is skipped.
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_friedman1

from bnn_sklearn import BayesianMLPRegressor

from .conftest import FAST

mapie_regression = pytest.importorskip(
    "mapie.regression", reason="MAPIE is not installed: pip install bnn_sklearn[conformal]"
)
from mapie.conformity_scores import ResidualNormalisedScore  # noqa: E402

CONFIDENCE = 0.9
N_TRAIN, N_CAL, N_TEST = 300, 1000, 2000


class PredictiveStd(RegressorMixin, BaseEstimator):
    """The fitted network's predictive sd, as the residual model of the normalised score."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y=None):
        self.n_features_in_ = self.regressor.n_features_in_
        return self

    def predict(self, X):
        return self.regressor.predict(X, return_std=True)[1]


def sine(n, seed):
    """A 1-D sine whose noise grows away from zero."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.5, 2.5, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + rng.normal(size=n) * (0.05 + 0.25 * np.abs(X[:, 0]))


def friedman(n, seed):
    """Friedman's first problem: ten inputs, five used, unit noise."""
    return make_friedman1(n_samples=n, noise=1.0, random_state=seed)


def coverage(y, intervals):
    """The share of ``y`` inside MAPIE's ``(n, 2, 1)`` intervals."""
    return np.mean((y >= intervals[:, 0, 0]) & (y <= intervals[:, 1, 0]))


@pytest.fixture(scope="module", params=[sine, friedman], ids=["sine", "friedman"])
def split(request):
    X, y = request.param(N_TRAIN + N_CAL + N_TEST, 1)
    cut = np.cumsum([N_TRAIN, N_CAL])
    return np.split(X, cut), np.split(y, cut)


def normalised_split_conformal(X_train, y_train, X_cal, y_cal):
    regressor = BayesianMLPRegressor(**FAST).fit(X_train, y_train)
    score = ResidualNormalisedScore(
        residual_estimator=PredictiveStd(regressor).fit(X_cal), prefit=True
    )
    conformal = mapie_regression.SplitConformalRegressor(
        regressor, confidence_level=CONFIDENCE, conformity_score=score, prefit=True
    )
    return regressor, conformal.conformalize(X_cal, y_cal)


def test_split_conformal_normalised_covers_nominal(split):
    """Split conformal 90 % intervals with the sd-normalised score hold 0.87-0.93 of new rows."""
    (X_train, X_cal, X_test), (y_train, y_cal, y_test) = split
    _, conformal = normalised_split_conformal(X_train, y_train, X_cal, y_cal)
    _, intervals = conformal.predict_interval(X_test)
    assert intervals.shape == (N_TEST, 2, 1)
    assert 0.87 <= coverage(y_test, intervals) <= 0.93


def test_split_conformal_width_follows_predictive_std(split):
    """The normalised score scales one quantile by each row's sd: width / sd is fixed."""
    (X_train, X_cal, X_test), (y_train, y_cal, _) = split
    regressor, conformal = normalised_split_conformal(X_train, y_train, X_cal, y_cal)
    points, intervals = conformal.predict_interval(X_test)
    mean, std = regressor.predict(X_test, return_std=True)
    np.testing.assert_allclose(points, mean)
    ratio = (intervals[:, 1, 0] - intervals[:, 0, 0]) / std
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)


def test_cross_conformal_covers_nominal():
    """Cross conformal (CV+) on an unfitted network: MAPIE fits one per fold.

    MAPIE's normalised score works only with split conformal, so this uses the absolute residual.
    CV+ guarantees only ``1 - 2 * alpha`` and tends to over-cover, hence the wider upper bound.
    """
    X, y = sine(600 + N_TEST, 2)
    conformal = mapie_regression.CrossConformalRegressor(
        BayesianMLPRegressor(**FAST), confidence_level=CONFIDENCE, cv=3, random_state=0
    ).fit_conformalize(X[:600], y[:600])
    _, intervals = conformal.predict_interval(X[600:])
    assert intervals.shape == (N_TEST, 2, 1)
    assert 0.87 <= coverage(y[600:], intervals) <= 0.95
