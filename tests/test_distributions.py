"""NormalMixture and predict_distribution: exact for the draws' mixture, on the target's scale."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import BayesianRidge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPRegressor
from bnn_sklearn.distributions import NormalMixture, distribution_kind, predictive_distribution

from .conftest import FAST


def noisy_sine(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.5, 2.5, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + rng.normal(size=n) * (0.05 + 0.2 * np.abs(X[:, 0]))


@pytest.fixture(scope="module", params=["homoscedastic", "heteroscedastic"])
def fitted(request):
    X, y = noisy_sine(200, seed=0)
    return BayesianMLPRegressor(**FAST, noise=request.param).fit(X, y)


@pytest.fixture(scope="module")
def X_test():
    return np.linspace(-4, 4, 61)[:, None]  # the ends lie outside the training inputs


def reference_log_density(draws, y):
    """The mixture's log density written out from predict_draws."""
    return logsumexp(norm.logpdf(y, draws.mean, draws.noise_scale), axis=0) - np.log(
        len(draws.mean)
    )


def test_density_and_cdf_are_the_draws_mixture(fitted, X_test):
    draws = fitted.predict_draws(X_test)
    dist = fitted.predict_distribution(X_test)
    assert len(dist) == len(X_test) and dist.n_components == fitted.n_draws
    y = np.sin(2 * X_test[:, 0]) + 0.3
    np.testing.assert_allclose(dist.logpdf(y), reference_log_density(draws, y), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dist.pdf(y), np.exp(reference_log_density(draws, y)), rtol=1e-12)
    cdf = norm.cdf(y, draws.mean, draws.noise_scale).mean(axis=0)
    np.testing.assert_allclose(dist.cdf(y), cdf, rtol=0, atol=1e-14)
    # Several values per row on a leading axis.
    grid = np.linspace(-3, 3, 7)[:, None]
    expected = np.stack([reference_log_density(draws, np.full(len(X_test), g)) for g in grid[:, 0]])
    np.testing.assert_allclose(dist.logpdf(grid), expected, rtol=0, atol=1e-12)


def test_moments_and_interval_are_those_of_the_predict_methods(fitted, X_test):
    dist = fitted.predict_distribution(X_test)
    mean, std = fitted.predict(X_test, return_std=True)
    np.testing.assert_allclose(dist.mean(), mean, rtol=1e-13)
    np.testing.assert_allclose(dist.std(), std, rtol=1e-13)
    np.testing.assert_allclose(dist.var(), fitted.predict_uncertainty(X_test).total, rtol=1e-13)
    for confidence in (0.5, 0.9):
        np.testing.assert_allclose(
            dist.interval(confidence),
            fitted.predict_interval(X_test, coverage=confidence),
            rtol=0,
            atol=1e-12,
        )


def test_ppf_inverts_cdf(fitted, X_test):
    dist = fitted.predict_distribution(X_test)
    levels = np.array([1e-6, 0.01, 0.05, 0.3, 0.5, 0.7, 0.95, 0.999])[:, None]
    quantiles = dist.ppf(levels)
    assert quantiles.shape == (len(levels), len(X_test))
    assert np.max(np.abs(dist.cdf(quantiles) - levels)) < 1e-8
    assert np.all(np.diff(quantiles, axis=0) > 0)
    np.testing.assert_array_equal(dist.ppf([[0.0], [1.0]]), [[-np.inf] * 61, [np.inf] * 61])
    np.testing.assert_allclose(dist.median(), dist.ppf(0.5), rtol=0, atol=0)


def test_draws_follow_the_mixture_and_are_seeded(fitted, X_test):
    dist = fitted.predict_distribution(X_test)
    draws = dist.rvs(size=20000, random_state=0)
    assert draws.shape == (20000, len(X_test))
    np.testing.assert_array_equal(dist.rvs(size=(2, 3), random_state=1), dist.rvs((2, 3), 1))
    # The empirical CDF at the mixture's quartiles (sd of a proportion: 0.0031).
    for level in (0.25, 0.5, 0.75):
        share_below = np.mean(draws < dist.ppf(level), axis=0)
        assert np.max(np.abs(share_below - level)) < 0.015


def test_rows_select_their_mixtures(fitted, X_test):
    dist = fitted.predict_distribution(X_test)
    y = np.linspace(-1, 1, len(X_test))
    one = dist[7]
    assert one.mean().shape == () and one.interval(0.9).shape == (2,)
    np.testing.assert_allclose(one.logpdf(y[7]), dist.logpdf(y)[7], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(one.cdf([-1.0, y[7]])[1], dist.cdf(y)[7], rtol=1e-12, atol=1e-13)
    assert one.rvs(size=5, random_state=0).shape == (5,)
    with pytest.raises(TypeError, match="no len"):
        len(one)
    part = dist[10:20]
    assert len(part) == 10
    np.testing.assert_allclose(part.std(), dist.std()[10:20], rtol=1e-12, atol=1e-13)
    mask = X_test[:, 0] > 0
    np.testing.assert_allclose(
        dist[mask].logpdf(y[mask]), dist.logpdf(y)[mask], rtol=1e-12, atol=1e-13
    )
    np.testing.assert_allclose(dist[[3, 1]].mean(), dist.mean()[[3, 1]], rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(fitted.predict_distribution(X_test[10:20]).mean(), part.mean())


def test_distribution_is_on_the_targets_scale():
    X, y = noisy_sine(200, seed=0)
    scale, shift = 250.0, 1000.0
    small = BayesianMLPRegressor(**FAST).fit(X, y)
    large = BayesianMLPRegressor(**FAST).fit(X, scale * y + shift)
    X_new = np.linspace(-3, 3, 11)[:, None]
    y_new = np.cos(X_new[:, 0])
    a, b = small.predict_distribution(X_new), large.predict_distribution(X_new)
    np.testing.assert_allclose(b.mean(), scale * a.mean() + shift, rtol=1e-6)
    np.testing.assert_allclose(b.std(), scale * a.std(), rtol=1e-6)
    np.testing.assert_allclose(
        b.logpdf(scale * y_new + shift), a.logpdf(y_new) - np.log(scale), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(b.crps(scale * y_new + shift), scale * a.crps(y_new), rtol=1e-6)


def test_homoscedastic_rows_share_one_column_of_scales(X_test):
    X, y = noisy_sine(200, seed=0)
    model = BayesianMLPRegressor(**FAST).fit(X, y)
    dist = model.predict_distribution(X_test)
    draws = model.predict_draws(X_test)
    np.testing.assert_array_equal(dist.rvs(size=3, random_state=0).shape, (3, len(X_test)))
    # Same values as the draws' scales, held once for all rows.
    held = dist._scales
    while held.base is not None:
        held = held.base
    assert held.size == model.n_draws
    np.testing.assert_array_equal(np.asarray(dist._scales), draws.noise_scale)


def test_other_regressors_give_a_gaussian_or_a_clear_error():
    X, y = noisy_sine(60, seed=2)
    ridge = make_pipeline(StandardScaler(), BayesianRidge()).fit(X, y)
    assert distribution_kind(ridge) == "gaussian"
    dist = predictive_distribution(ridge, X[:5])
    mean, std = ridge.predict(X[:5], return_std=True)
    assert dist.n_components == 1
    np.testing.assert_allclose(dist.mean(), mean, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dist.logpdf(y[:5]), norm.logpdf(y[:5], mean, std), rtol=1e-12)
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    assert distribution_kind(forest) is None
    with pytest.raises(TypeError, match="RandomForestRegressor gives no predictive"):
        predictive_distribution(forest, X)
    assert distribution_kind(make_pipeline(StandardScaler(), BayesianMLPRegressor())) == "mixture"


@pytest.mark.parametrize(
    ("means", "scales", "match"),
    [
        ([0.0, 1.0], [1.0, 1.0], "means must have shape"),
        ([[0.0, 1.0]], [[1.0, 1.0, 1.0]], "do not broadcast"),
        ([[0.0, np.nan]], [[1.0]], "means must be finite"),
        ([[0.0, 1.0]], [[1.0, 0.0]], "scales must be finite and positive"),
        ([[0.0, 1.0]], [[1.0, -2.0]], "scales must be finite and positive"),
        ([["a", "b"]], [[1.0]], "means must be numeric"),
    ],
)
def test_bad_components_are_refused(means, scales, match):
    with pytest.raises(ValueError, match=match):
        NormalMixture(means, scales)


def test_bad_values_are_refused():
    dist = NormalMixture(np.zeros((3, 4)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="y contains NaN"):
        dist.logpdf([0.0, np.nan, 1.0, 2.0])
    with pytest.raises(ValueError, match="one value for each of the 4 rows"):
        dist.cdf(np.zeros(3))
    with pytest.raises(ValueError, match=r"q must hold probabilities in \[0, 1\]"):
        dist.ppf(1.5)
    with pytest.raises(ValueError, match=r"confidence must be a number in \(0, 1\)"):
        dist.interval(1.0)
    with pytest.raises(ValueError, match="y contains NaN"):
        dist[0].crps(np.nan)
    with pytest.raises(IndexError):
        dist[4]
    with pytest.raises(TypeError, match="cannot be indexed further"):
        dist[0][0]
