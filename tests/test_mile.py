"""method="mile": ADVI members, then one short NUTS chain from each member's mean."""

import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
from sklearn.exceptions import ConvergenceWarning

from bnn_sklearn import TRUSTED_TYPES, BayesianMLPClassifier, BayesianMLPRegressor
from bnn_sklearn._base import SAMPLER_DEFAULTS
from bnn_sklearn._network import Architecture
from bnn_sklearn._nuts import STARTED_CHAINS_DIVERGENCE_WARNING, NUTSDiagnostics

from .sampling import (
    assert_same_draws_for_the_same_random_state,
    first_draws_from,
    fit_quietly,
    grid_search_scores,
)

#: Small settings: one architecture for every test on the moons (one compile per method).
MILE_FAST = dict(
    method="mile",
    hidden_layer_sizes=(8,),
    chains=2,
    tune=60,
    draws=30,
    max_iter=1500,
    random_state=0,
)
N_PARAMS = 2 * 8 + 8 + 8 + 1


@pytest.fixture(scope="module")
def mile_fit(moons):
    X, y = moons
    return fit_quietly(BayesianMLPClassifier(**MILE_FAST), X, y)


def one_step(moons, sampler):
    """The first draw of one chain per start, one leapfrog step from it, by ``sampler``."""
    X, y = moons
    arch = Architecture(2, (8,), "tanh", 1, "nuts", None, "bernoulli")
    starts = np.random.default_rng(0).normal(0.0, 1.5, size=(2, N_PARAMS))
    return starts, first_draws_from(arch, X, y, starts, sampler)


@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_each_chain_starts_at_its_own_point(moons, sampler):
    starts, first_draws = one_step(moons, sampler)
    # One step of tuning and one draw, each one leapfrog step: the chains stay near their
    # starts, which are far apart and far from where the samplers start by themselves
    # (near zero).
    for chain in range(2):
        moved = np.abs(first_draws[chain] - starts[chain]).mean()
        assert moved < 0.5 * np.abs(starts[chain]).mean(), (chain, moved)


def test_chains_start_at_different_members(moons):
    X, y = moons
    settings = {**MILE_FAST, "tune": 1, "draws": 1, "max_treedepth": 1, "max_iter": 300}
    fit = fit_quietly(BayesianMLPClassifier(**settings), X, y)
    first, second = fit.posterior_draws_
    # Members start from different random weights and land in different modes; chains
    # from one member's mean would be one leapfrog step apart.
    assert np.abs(first - second).mean() > 0.2


def test_draws_of_every_chain_make_the_posterior(mile_fit):
    assert mile_fit.posterior_draws_.shape == (2 * 30, N_PARAMS)
    assert mile_fit.n_iter_ == 60 + 30
    assert mile_fit.rhat_.shape == mile_fit.ess_.shape == (N_PARAMS,)
    np.testing.assert_allclose(
        mile_fit.coefs_mean_[0].ravel(), mile_fit.posterior_draws_[:, :16].mean(axis=0)
    )


def test_auto_sampler_settings_follow_the_method():
    assert BayesianMLPClassifier().get_params()["chains"] == "auto"
    mile = BayesianMLPClassifier(method="mile")._sampler_settings("mile")
    nuts = BayesianMLPClassifier(method="nuts")._sampler_settings("nuts")
    assert mile == SAMPLER_DEFAULTS["mile"] and nuts == SAMPLER_DEFAULTS["nuts"]
    assert mile["tune"] < nuts["tune"] and mile["chains"] > nuts["chains"]
    assert BayesianMLPClassifier(method="mile", tune=7)._sampler_settings("mile")["tune"] == 7


def test_same_random_state_same_predictions_in_a_fresh_process(mile_fit, moons):
    assert_same_draws_for_the_same_random_state(MILE_FAST, mile_fit, *moons)


def test_chains_in_different_modes_do_not_warn_but_many_divergences_do(mile_fit, moons):
    X, y = moons
    # The members' chains disagree (different modes): NUTS would warn about R-hat here.
    assert mile_fit.predictive_rhat_ > 1.1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        BayesianMLPClassifier(**MILE_FAST).fit(X, y)
    assert not caught, [str(w.message) for w in caught]
    # Two thirds of the transitions diverge: that warns.
    with pytest.warns(ConvergenceWarning, match="transitions diverged"):
        BayesianMLPClassifier(**{**MILE_FAST, "target_accept": 0.3, "tune": 10}).fit(X, y)


@pytest.mark.parametrize("share", [0.05, 0.2, 0.3])
def test_started_chains_may_diverge_more_than_nuts_chains(share):
    diagnostics = NUTSDiagnostics(
        n_divergences=int(share * 400),
        n_transitions=400,
        rhat=np.ones(3),
        ess=np.full(3, 100.0),
        predictive_rhat=1.5,
    )
    assert any("diverged" in p for p in diagnostics.problems())
    assert any("disagree" in p for p in diagnostics.problems())
    started = diagnostics.problems(started_apart=True)
    assert bool(started) == (share > STARTED_CHAINS_DIVERGENCE_WARNING)
    assert not any("disagree" in p for p in started)


def test_warm_start_and_partial_fit_are_refused(mile_fit, moons):
    X, y = moons
    with pytest.raises(ValueError, match="method='mile' does not support warm_start"):
        BayesianMLPClassifier(**MILE_FAST, warm_start=True).fit(X, y)
    assert not hasattr(BayesianMLPClassifier(method="mile"), "partial_fit")
    continued = pickle.loads(pickle.dumps(mile_fit)).set_params(method="advi", warm_start=True)
    with pytest.raises(ValueError, match="Cannot continue ADVI from a posterior sampled"):
        continued.fit(X, y)


def test_regressor_mile_fits_better_than_advi_and_is_less_sure_in_a_gap():
    """A 1-D sine with a gap in its inputs: the mean-field ADVI fit takes the sine's
    curve for noise (measured: held-out log-likelihood -0.60 / -0.45 on seeds 0 / 1, noise
    sd 0.49 where the truth is 0.1) and is surer in the gap than on the data; MILE's draws
    fit the curve and disagree most in the gap."""
    rng = np.random.default_rng(0)

    def sine(n):
        X = np.r_[rng.uniform(-3, -1, n), rng.uniform(1, 3, n)][:, None]
        return X, np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=len(X))

    (X, y), (X_test, y_test) = sine(60), sine(200)
    gap = np.linspace(-0.6, 0.6, 20)[:, None]
    settings = dict(hidden_layer_sizes=(16,), random_state=0)
    advi = fit_quietly(BayesianMLPRegressor(**settings, method="advi"), X, y)
    mile = fit_quietly(
        BayesianMLPRegressor(**settings, method="mile", chains=2, tune=100, draws=50), X, y
    )

    def held_out_log_likelihood(model):
        return model.predict_distribution(X_test).logpdf(y_test).mean()

    assert held_out_log_likelihood(mile) > held_out_log_likelihood(advi) + 0.5
    in_gap = np.sqrt(mile.predict_uncertainty(gap).epistemic).mean()
    on_data = np.sqrt(mile.predict_uncertainty(X).epistemic).mean()
    assert in_gap > 1.5 * on_data


def test_pickle_and_skops_round_trip(mile_fit, moons, tmp_path):
    X, _ = moons
    expected = mile_fit.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(mile_fit)).predict_proba(X), expected)
    path = tmp_path / "mile.skops"
    sio.dump(mile_fit, path)
    loaded = sio.load(path, trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert loaded.get_params() == mile_fit.get_params()


def test_grid_search_in_two_worker_processes_matches_one(moons):
    """Each worker runs the chains one after the other, the parent two at a time: the
    draws are the same, since each chain's seed and start are tied to it."""
    X, y = moons

    serial = grid_search_scores(MILE_FAST, X, y, n_jobs=1)
    parallel = grid_search_scores(MILE_FAST, X, y, n_jobs=2)
    for key in ("split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(parallel[key], serial[key])


def test_a_missing_sampler_is_refused_before_the_members_are_fitted(moons, monkeypatch):
    import bnn_sklearn._nuts

    X, y = moons
    monkeypatch.setattr(bnn_sklearn._nuts, "nutpie_installed", lambda: False)

    def members_fitted(*args, **kwargs):
        raise AssertionError("the ADVI members were fitted first")

    monkeypatch.setattr(BayesianMLPClassifier, "_fit_advi", members_fitted)
    clf = BayesianMLPClassifier(**MILE_FAST, nuts_sampler="nutpie")
    with pytest.raises(ImportError, match="pip install nutpie"):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_")
