"""Informed priors: a fitted model's posterior as the prior of a new fit."""

import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import clone
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.preprocessing import scale

from bnn_sklearn import (
    TRUSTED_TYPES,
    BayesianMLPClassifier,
    BayesianMLPRegressor,
    NetworkPrior,
)
from bnn_sklearn._posterior import flatten_layers

from .conftest import FAST


@pytest.fixture(scope="module")
def task():
    """Standardised moons: plenty of rows for the source model, a new draw of the same task
    with few rows for the target fit, and held-out rows."""
    X, y = make_moons(700, noise=0.25, random_state=0)
    X = scale(X)
    return (X[:400], y[:400]), (X[400:410], y[400:410]), (X[410:], y[410:])


@pytest.fixture(scope="module")
def source(task):
    (X, y), _, _ = task
    return BayesianMLPClassifier(**FAST).fit(X, y)


def test_a_prior_holds_the_posterior_of_the_weights(source):
    prior = source.as_prior()
    mean = flatten_layers(source.coefs_mean_, source.intercepts_mean_)
    std = flatten_layers(source.coefs_std_, source.intercepts_std_)
    assert prior.layer_sizes == (2, 8, 1) and prior.likelihood == "bernoulli"
    # The mean and sd of 100 draws: within Monte Carlo error of the Gaussian's.
    assert np.all(np.abs(prior.mean - mean) < 4 * std / np.sqrt(100))
    np.testing.assert_allclose(prior.sd, std, rtol=0.4)
    assert prior.target_scale is None
    np.testing.assert_allclose(prior.widened(2.0).sd, 2 * prior.sd)


@pytest.mark.parametrize(
    ("mean", "sd", "message"),
    [(np.zeros(5), np.ones(33), "needs 33 means"), (np.zeros(33), np.zeros(33), "positive")],
)
def test_a_malformed_prior_is_refused(mean, sd, message):
    with pytest.raises(ValueError, match=message):
        NetworkPrior((2, 8, 1), mean, sd, "bernoulli")


def test_a_prior_of_another_network_is_refused(source, task):
    _, (X, y), _ = task
    for clf in (
        BayesianMLPClassifier(**{**FAST, "hidden_layer_sizes": (4,)}, prior=source.as_prior()),
        BayesianMLPClassifier(**FAST, prior=source.as_prior()),
    ):
        data = (X, y) if clf.hidden_layer_sizes == (4,) else (np.c_[X, X], y)
        with pytest.raises(ValueError, match="prior describes a network of layer sizes"):
            clf.fit(*data)


def test_a_sharp_prior_holds_the_weights_where_it_says(source, task):
    _, (X, y), _ = task
    sharp = source.as_prior()
    sharp = NetworkPrior(sharp.layer_sizes, sharp.mean, np.full(sharp.mean.size, 1e-3), "bernoulli")
    # Labels flipped: the data pull every weight away from the prior's means.
    clf = BayesianMLPClassifier(**FAST, prior=sharp).fit(X, 1 - y)
    fitted = flatten_layers(clf.coefs_mean_, clf.intercepts_mean_)
    assert np.abs(fitted - sharp.mean).max() < 0.01
    flat = BayesianMLPClassifier(**FAST).fit(X, 1 - y)
    assert np.abs(flatten_layers(flat.coefs_mean_, flat.intercepts_mean_) - sharp.mean).max() > 0.5


def test_an_informed_prior_beats_the_flat_one_on_few_rows(source, task):
    _, (X, y), (X_test, y_test) = task
    informed = BayesianMLPClassifier(**FAST, prior=source.as_prior()).fit(X, y)
    flat = BayesianMLPClassifier(**FAST).fit(X, y)
    informed_loss = log_loss(y_test, informed.predict_proba(X_test))
    assert informed_loss < log_loss(y_test, flat.predict_proba(X_test)) - 0.1
    assert informed_loss < 0.4


def test_an_estimator_with_a_prior_clones_pickles_and_saves(source, task, tmp_path):
    _, (X, y), (X_test, _) = task
    clf = BayesianMLPClassifier(**FAST, prior=source.as_prior())
    fitted = clone(clf).fit(X, y)
    np.testing.assert_array_equal(clone(clf).prior.mean, clf.prior.mean)
    expected = fitted.predict_proba(X_test)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(fitted)).predict_proba(X_test), expected
    )
    sio.dump(fitted, tmp_path / "informed.skops")
    loaded = sio.load(tmp_path / "informed.skops", trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), expected)
    assert isinstance(loaded.prior, NetworkPrior)


def test_a_regressors_prior_keeps_its_targets_units():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(300, 1))
    y = 50.0 + 10.0 * np.sin(2 * X[:, 0]) + rng.normal(scale=1.0, size=300)
    source = BayesianMLPRegressor(**FAST).fit(X, y)
    prior = source.as_prior()
    assert (prior.target_mean, prior.target_scale) == (source.y_mean_, source.y_scale_)
    few = slice(0, 8)
    reg = BayesianMLPRegressor(**FAST, prior=prior).fit(X[few], y[few])
    assert (reg.y_mean_, reg.y_scale_) == (source.y_mean_, source.y_scale_)
    informed_rmse = np.sqrt(np.mean((reg.predict(X[100:]) - y[100:]) ** 2))
    flat = BayesianMLPRegressor(**FAST).fit(X[few], y[few])
    assert informed_rmse < np.sqrt(np.mean((flat.predict(X[100:]) - y[100:]) ** 2))


def test_a_grouped_models_prior_of_a_new_group_is_wider_than_a_groups(task):
    (X, y), _, _ = task
    groups = np.arange(len(X)) % 4
    flipped = np.where(groups % 2 == 1, 1 - y, y)  # groups that disagree
    clf = BayesianMLPClassifier(**FAST).fit(X, flipped, groups=groups)
    new, seen = clf.as_prior(), clf.as_prior(group=2)
    last_layer = slice(24, 33)  # the varying output layer's weights and bias
    assert new.sd[last_layer].mean() > 1.1 * seen.sd[last_layer].mean()
    np.testing.assert_allclose(new.sd[:24], seen.sd[:24], rtol=0.3)  # shared layers
    with pytest.raises(ValueError, match="not seen in training"):
        clf.as_prior(group=9)
    with pytest.raises(ValueError, match="fitted without groups"):
        BayesianMLPClassifier(**FAST).fit(X, y).as_prior(group=0)


def test_nuts_samples_with_an_informed_prior(source, task):
    _, (X, y), _ = task
    sharp = source.as_prior()
    sharp = NetworkPrior(sharp.layer_sizes, sharp.mean, np.full(sharp.mean.size, 1e-3), "bernoulli")
    settings = dict(method="nuts", chains=2, tune=100, draws=25, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = BayesianMLPClassifier((8,), prior=sharp, **settings).fit(X, 1 - y)
    assert np.abs(clf.posterior_draws_ - sharp.mean).max() < 0.01
