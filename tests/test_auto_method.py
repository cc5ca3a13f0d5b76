"""method="auto": the regressor samples with MILE where the data make one full batch (with
or without groups) and fits mean-field ADVI for everything else; the classifier's "auto"
is ADVI."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from bnn_sklearn import BayesianMLPClassifier, BayesianMLPRegressor
from bnn_sklearn._base import AUTO_FULL_BATCH_ROWS

from .sampling import fit_quietly

#: Small settings of both methods (MILE's members use the ADVI ones).
SMALL = dict(
    hidden_layer_sizes=(4,), max_iter=300, tol=None, chains=2, tune=20, draws=10, n_draws=20
)


def sine(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(X[:, 0]) + 0.1 * rng.normal(size=n)


def test_the_regressors_default_is_auto_and_the_classifiers_is_advi():
    assert BayesianMLPRegressor().get_params()["method"] == "auto"
    assert BayesianMLPClassifier().get_params()["method"] == "advi"


def test_auto_samples_with_mile_on_small_data_as_an_explicit_mile_fit_does():
    X, y = sine(80)
    auto = fit_quietly(BayesianMLPRegressor(**SMALL, random_state=0), X, y)
    mile = fit_quietly(BayesianMLPRegressor(**SMALL, method="mile", random_state=0), X, y)
    assert auto.method_ == mile.method_ == "mile"
    assert auto.posterior_draws_ is not None and auto.loss_curve_ is None
    np.testing.assert_array_equal(auto.posterior_draws_, mile.posterior_draws_)
    np.testing.assert_array_equal(auto.predict(X), mile.predict(X))


@pytest.mark.parametrize(
    "params, fit",
    [
        ({"warm_start": True}, "fit"),
        ({"early_stopping": True}, "fit"),
        ({"batch_size": 20}, "fit"),
        ({}, "partial_fit"),
    ],
    ids=["warm_start", "early_stopping", "minibatches", "partial_fit"],
)
def test_auto_fits_advi_where_mile_cannot(params, fit):
    X, y = sine(80)
    settings = {**SMALL, **params, "random_state": 0}
    auto, advi = BayesianMLPRegressor(**settings), BayesianMLPRegressor(**settings, method="advi")
    for model in (auto, advi):
        if fit == "partial_fit":
            model.partial_fit(X, y)
        else:
            fit_quietly(model, X, y)
    assert auto.method_ == advi.method_ == "advi"
    np.testing.assert_array_equal(auto.predict(X), advi.predict(X))


def test_auto_samples_a_grouped_fit_with_mile_as_an_explicit_mile_fit_does():
    X, y = sine(80)
    groups = np.arange(len(y)) % 2
    auto = fit_quietly(BayesianMLPRegressor(**SMALL, random_state=0), X, y, groups=groups)
    mile = BayesianMLPRegressor(**SMALL, method="mile", random_state=0)
    fit_quietly(mile, X, y, groups=groups)
    assert auto.method_ == "mile" and auto.groups_ is not None
    np.testing.assert_array_equal(auto.posterior_draws_, mile.posterior_draws_)
    np.testing.assert_array_equal(auto.predict(X, groups=groups), mile.predict(X, groups=groups))


def test_auto_fits_advi_on_data_too_large_for_one_batch():
    X, y = sine(AUTO_FULL_BATCH_ROWS + 1)
    model = fit_quietly(BayesianMLPRegressor(**SMALL, random_state=0), X, y)
    assert model.method_ == "advi" and model.posterior_draws_ is None


def test_auto_continues_an_advi_fit_with_warm_start():
    X, y = sine(80)
    model = fit_quietly(BayesianMLPRegressor(**SMALL, warm_start=True, random_state=0), X, y)
    fit_quietly(model, X, y)
    assert model.method_ == "advi" and model.n_iter_ == 2 * SMALL["max_iter"]


def test_the_classifiers_auto_is_advi():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] > 0).astype(int)
    auto = BayesianMLPClassifier(**SMALL, method="auto", random_state=0).fit(X, y)
    advi = BayesianMLPClassifier(**SMALL, random_state=0).fit(X, y)
    assert auto.method_ == "advi"
    np.testing.assert_array_equal(auto.predict_proba(X), advi.predict_proba(X))


def test_method_is_kept_through_pickling_and_cloning():
    X, y = sine(80)
    model = fit_quietly(BayesianMLPRegressor(**SMALL, random_state=0), X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.method_ == "mile" and loaded.method == "auto"
    assert clone(model).method == "auto" and not hasattr(clone(model), "method_")


def test_a_damaged_method_is_refused_at_load():
    X, y = sine(40)
    model = BayesianMLPRegressor(**SMALL, method="advi", random_state=0).fit(X, y)
    state = model.__getstate__()
    state["method_"] = "magic"
    with pytest.raises(ValueError, match="unknown fitting method 'magic'"):
        BayesianMLPRegressor().__setstate__(state)


def test_max_iter_auto_is_shorter_for_mile_members_only():
    assert BayesianMLPRegressor()._max_iter(None) == 20000
    assert BayesianMLPRegressor()._max_iter("mile") == 5000
    assert BayesianMLPRegressor(max_iter=300)._max_iter("mile") == 300


def test_mile_members_stop_at_max_iter_auto():
    X, y = sine(60)
    settings = {**SMALL, "method": "mile", "tol": None, "random_state": 0}
    auto = fit_quietly(BayesianMLPRegressor(**{**settings, "max_iter": "auto"}), X, y)
    explicit = fit_quietly(BayesianMLPRegressor(**{**settings, "max_iter": 5000}), X, y)
    np.testing.assert_array_equal(auto.posterior_draws_, explicit.posterior_draws_)


def test_a_sampled_fit_is_not_continued_by_auto():
    X, y = sine(60)
    model = fit_quietly(BayesianMLPRegressor(**SMALL, random_state=0), X, y)
    with pytest.raises(ValueError, match="Cannot continue ADVI from a posterior sampled"):
        model.partial_fit(X, y)
    with pytest.raises(ValueError, match="set warm_start=False"):
        model.set_params(warm_start=True).fit(X, y)
