"""method="nuts": the posterior sampled by nutpie or PyMC's NUTS, kept as draws."""

import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from bnn_sklearn import TRUSTED_TYPES, BayesianMLPClassifier
from bnn_sklearn._nuts import SAMPLERS

from .sampling import (
    assert_same_draws_for_the_same_random_state,
    fit_quietly,
    grid_search_scores,
)

#: Small settings: one architecture for every test on the moons (one compile).
NUTS_FAST = dict(
    method="nuts", hidden_layer_sizes=(8,), chains=2, tune=100, draws=50, random_state=0
)
N_PARAMS = 2 * 8 + 8 + 8 + 1

CLASSIFIER_TYPE = "bnn_sklearn._classifier.BayesianMLPClassifier"


@pytest.fixture(scope="module")
def nuts_fit(moons):
    X, y = moons
    return fit_quietly(BayesianMLPClassifier(**NUTS_FAST), X, y)


def forward(draws, X):
    """The network's probability of class 1 under each flat draw, written out by hand."""
    w0, b0 = draws[:, :16].reshape(-1, 2, 8), draws[:, 16:24]
    w1, b1 = draws[:, 24:32].reshape(-1, 8, 1), draws[:, 32:33]
    hidden = np.maximum(np.einsum("nf,dfh->dnh", X, w0) + b0[:, None, :], 0.0)
    return expit(np.einsum("dnh,dho->dno", hidden, w1)[..., 0] + b1)


def test_predictions_average_the_kept_draws(nuts_fit, moons):
    X, _ = moons
    clf = nuts_fit
    kept = clf.posterior_draws_
    assert kept.shape == (min(clf.n_draws, clf.chains * clf.draws), N_PARAMS)
    per_draw = forward(kept, X)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], per_draw.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(clf.predict_std(X)[:, 1], per_draw.std(axis=0), atol=1e-12)
    assert clf.predict_proba_draws(X).shape == (len(kept), len(X), 2)
    assert clf.predict_uncertainty(X).epistemic.shape == (len(X),)
    assert clf.score(X, moons[1]) > 0.85
    # Fewer draws asked for after the fit: evenly spaced ones of those kept.
    clf_fewer = pickle.loads(pickle.dumps(clf)).set_params(n_draws=10)
    np.testing.assert_allclose(
        clf_fewer.predict_proba_draws(X)[:, :, 1], per_draw[::11], rtol=1e-10
    )


def test_summaries_and_diagnostics(nuts_fit):
    clf = nuts_fit
    assert clf.loss_curve_ is None and clf.n_iter_ == clf.tune + clf.draws
    assert clf.posterior_cholesky_ is None
    assert [w.shape for w in clf.coefs_mean_] == [(2, 8), (8, 1)]
    assert isinstance(clf.n_divergences_, int) and clf.n_divergences_ >= 0
    # The summaries describe the draws: every kept draw's mean lies within the spread.
    mean = np.concatenate([clf.coefs_mean_[0].ravel(), clf.intercepts_mean_[0]])
    kept_mean = clf.posterior_draws_[:, :24].mean(axis=0)
    std = np.concatenate([clf.coefs_std_[0].ravel(), clf.intercepts_std_[0]])
    assert np.all(np.abs(kept_mean - mean) < std)


def by_chain(kept, chains):
    """Kept draws ``(draws x chains, ...)``, interleaved by chain, as ``(chains, draws, ...)``."""
    return kept.reshape(-1, chains, *kept.shape[1:]).swapaxes(0, 1)


def arviz_rhat_and_ess(chains):
    """ArviZ's rank-normalised split R-hat and bulk ESS of each column of ``(chains, draws, k)``,
    one column at a time (a 2-D array is ``(chain, draw)`` to every ArviZ version)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az

        columns = [np.ascontiguousarray(chains[..., j]) for j in range(chains.shape[-1])]
        rhat = np.array([float(az.rhat(column)) for column in columns])
        ess = np.array([float(az.ess(column)) for column in columns])
    return rhat, ess


def test_diagnostics_are_those_of_every_chains_draws(nuts_fit, moons):
    """rhat_ and ess_ are ArviZ's of each parameter's chains; predictive_rhat_ is the largest
    R-hat of the predicted probability over the training rows (all 200 of the moons)."""
    X, _ = moons
    clf = nuts_fit
    kept = clf.posterior_draws_
    assert len(kept) == clf.chains * clf.draws  # n_draws=500: every draw is kept
    chains = by_chain(kept, clf.chains)
    rhat, ess = arviz_rhat_and_ess(chains)
    np.testing.assert_allclose(clf.rhat_, rhat, rtol=1e-10)
    np.testing.assert_allclose(clf.ess_, ess, rtol=1e-10)
    # The chains taken apart differently (one chain of every draw, or the kept order cut in
    # two halves) give other diagnostics: the comparison above can tell the layout.
    halves = kept.reshape(clf.chains, clf.draws, -1)
    assert not np.allclose(arviz_rhat_and_ess(halves)[0], clf.rhat_, rtol=1e-3)
    proba = forward(kept, X)  # (draws, rows), interleaved by chain
    predictive, _ = arviz_rhat_and_ess(by_chain(proba, clf.chains))
    assert clf.predictive_rhat_ == pytest.approx(np.nanmax(predictive), rel=1e-10)
    # Short chains: some parameters mix badly, and the diagnostics say so.
    assert clf.rhat_.max() > 1.01 and clf.ess_.min() < clf.chains * clf.draws


def test_fit_keeps_evenly_spaced_draws_of_every_chain(nuts_fit, moons):
    """With more draws than n_draws, the kept ones are spread over the run and the chains,
    and the summaries still describe every draw."""
    X, y = moons
    every_draw = nuts_fit.posterior_draws_  # 2 chains x 50 draws, interleaved
    assert len(every_draw) == 100
    fewer = fit_quietly(BayesianMLPClassifier(**NUTS_FAST, n_draws=34), X, y)
    # linspace(0, 99, 34) is every third draw: both chains, first to last.
    np.testing.assert_array_equal(fewer.posterior_draws_, every_draw[::3])
    for name in ("coefs_mean_", "coefs_std_", "intercepts_mean_", "intercepts_std_"):
        for a, b in zip(getattr(fewer, name), getattr(nuts_fit, name)):
            np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(fewer.rhat_, nuts_fit.rhat_)


def test_same_random_state_same_draws_in_a_fresh_process(nuts_fit, moons):
    assert_same_draws_for_the_same_random_state(NUTS_FAST, nuts_fit, *moons)


def test_pymc_sampler_is_the_fallback(moons):
    X, y = moons
    settings = {**NUTS_FAST, "nuts_sampler": "pymc"}
    first = fit_quietly(BayesianMLPClassifier(**settings), X, y)
    second = fit_quietly(BayesianMLPClassifier(**settings), X, y)
    np.testing.assert_array_equal(first.posterior_draws_, second.posterior_draws_)
    assert first.posterior_draws_.shape == (100, N_PARAMS)
    assert first.score(X, y) > 0.85


def test_one_compile_serves_new_data(nuts_fit, moons):
    X, y = moons
    builds = SAMPLERS.builds
    fit_quietly(BayesianMLPClassifier(**NUTS_FAST), X[:120], y[:120])
    fit_quietly(BayesianMLPClassifier(**{**NUTS_FAST, "prior_scale": 1.0}), X, y)
    assert SAMPLERS.builds == builds


@pytest.mark.parametrize(
    "option", [{"early_stopping": True}, {"warm_start": True}, {"batch_size": 50}]
)
def test_advi_only_options_are_refused_before_any_work(moons, option):
    X, y = moons
    builds = SAMPLERS.builds
    clf = BayesianMLPClassifier(**NUTS_FAST, **option)
    with pytest.raises(ValueError, match=r"method='nuts' does not support .*method='advi'"):
        clf.fit(X, y)
    assert SAMPLERS.builds == builds
    assert not hasattr(clf, "classes_")


def test_partial_fit_is_not_available(nuts_fit, moons):
    X, y = moons
    assert not hasattr(BayesianMLPClassifier(method="nuts"), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit") as excinfo:
        BayesianMLPClassifier(method="nuts").partial_fit(X, y, classes=[0, 1])
    # scikit-learn's available_if raises its own AttributeError from ours, which says why.
    assert "method='advi' to stream" in str(excinfo.value.__cause__)
    continued = pickle.loads(pickle.dumps(nuts_fit)).set_params(method="advi", warm_start=True)
    with pytest.raises(ValueError, match="Cannot continue ADVI from a posterior sampled by NUTS"):
        continued.fit(X, y)


def test_weights_match_repeated_rows_within_monte_carlo_error(moons):
    X, y = moons
    weight = np.where((y == 1) & (X[:, 0] > 1.0), 4, 1)
    settings = {**NUTS_FAST, "tune": 300, "draws": 200}
    weighted = fit_quietly(BayesianMLPClassifier(**settings), X, y, sample_weight=weight)
    repeated = fit_quietly(
        BayesianMLPClassifier(**settings), np.repeat(X, weight, 0), y.repeat(weight)
    )
    unweighted = fit_quietly(BayesianMLPClassifier(**settings), X, y)
    grid = np.mgrid[-1.5:2.5:20j, -1:1.5:20j].reshape(2, -1).T
    same = np.abs(weighted.predict_proba(grid) - repeated.predict_proba(grid))[:, 1]
    other = np.abs(weighted.predict_proba(grid) - unweighted.predict_proba(grid))[:, 1]
    assert same.mean() < 0.5 * other.mean(), (same.mean(), other.mean())


def test_bad_diagnostics_warn_and_good_ones_do_not(moons):
    X, y = moons
    with pytest.warns(ConvergenceWarning, match="NUTS diagnostics") as record:
        BayesianMLPClassifier(**{**NUTS_FAST, "tune": 1, "draws": 20}).fit(X, y)
    assert record[0].filename == __file__  # reported at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BayesianMLPClassifier(**{**NUTS_FAST, "tune": 300, "draws": 200}).fit(X, y)
    assert clf.predictive_rhat_ <= 1.1


def fit_recording_warnings(X, y, **params):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", ConvergenceWarning)
        clf = BayesianMLPClassifier(**{**NUTS_FAST, **params}).fit(X, y)
    return clf, " ".join(str(w.message) for w in record if w.category is ConvergenceWarning)


def test_a_predictive_rhat_above_1_1_warns_and_says_so(moons):
    """The documented threshold (user guide: NUTS): R-hat above 1.1 warns. Very short chains
    land between 1.1 and 2 (measured 1.16-1.25 on both lines, seeds 4 and 5)."""
    X, y = moons
    rhats = []
    for seed in (4, 5):
        clf, message = fit_recording_warnings(X, y, tune=20, draws=40, random_state=seed)
        rhats.append(clf.predictive_rhat_)
        assert clf.n_divergences_ == 0
        # Over all 200 training rows (the largest is past row 100 for one of the seeds).
        by_row, _ = arviz_rhat_and_ess(by_chain(forward(clf.posterior_draws_, X), clf.chains))
        assert clf.predictive_rhat_ == pytest.approx(np.nanmax(by_row), rel=1e-10)
        assert ("chains disagree" in message) == (clf.predictive_rhat_ > 1.1), message
        if clf.predictive_rhat_ > 1.1:
            assert f"predictive_rhat_={clf.predictive_rhat_:.2f} > 1.1" in message
    assert any(1.1 < rhat < 2 for rhat in rhats), rhats


def test_divergences_above_one_percent_warn_and_say_so(moons):
    """A target_accept far too low makes the step too long: most transitions diverge."""
    X, y = moons
    clf, message = fit_recording_warnings(X, y, target_accept=0.05)
    n_transitions = clf.chains * clf.draws
    assert clf.n_divergences_ > 0.01 * n_transitions
    assert f"{clf.n_divergences_} of {n_transitions} transitions diverged" in message
    assert "raise target_accept" in message


def test_pickle_and_skops_round_trip(nuts_fit, moons, tmp_path):
    X, _ = moons
    expected = nuts_fit.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(nuts_fit)).predict_proba(X), expected)
    path = tmp_path / "nuts.skops"
    sio.dump(nuts_fit, path)
    assert sio.get_untrusted_types(file=path) == [CLASSIFIER_TYPE]
    np.testing.assert_array_equal(sio.load(path, trusted=TRUSTED_TYPES).predict_proba(X), expected)
    damaged = pickle.loads(pickle.dumps(nuts_fit))
    damaged.posterior_draws_ = damaged.posterior_draws_.copy()
    damaged.posterior_draws_[3, 5] = np.nan
    with pytest.raises(ValueError, match="non-finite posterior draws"):
        pickle.loads(pickle.dumps(damaged))
    damaged.posterior_draws_ = nuts_fit.posterior_draws_[:, :-1]
    with pytest.raises(ValueError, match="posterior draws of shape"):
        pickle.loads(pickle.dumps(damaged))


def test_grid_search_in_two_worker_processes_matches_one(moons):
    X, y = moons

    serial = grid_search_scores(NUTS_FAST, X, y, n_jobs=1)
    parallel = grid_search_scores(NUTS_FAST, X, y, n_jobs=2)
    for key in ("split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(parallel[key], serial[key])
