"""BayesianMLPRegressor: fit, predictive mean and sd, intervals, noise models, bad targets."""

import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
from scipy.optimize import brentq
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from bnn_sklearn import TRUSTED_TYPES, BayesianMLPRegressor
from bnn_sklearn._mixture import quantiles as mixture_quantiles

from .conftest import FAST


def noisy_sine(n, seed, noise=lambda x: 0.1 + 0.0 * x):
    """y = sin(2x) on [-2.5, 2.5] with Normal noise of sd ``noise(x)``."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.5, 2.5, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + rng.normal(size=n) * noise(X[:, 0])


def growing_noise(x):
    return 0.05 + 0.25 * np.abs(x)


@pytest.fixture(scope="module")
def sine_fit():
    X, y = noisy_sine(300, seed=0)
    return BayesianMLPRegressor(**{**FAST, "max_iter": 3000}).fit(X, y)


def test_fits_a_sine_and_its_intervals_cover_held_out_points(sine_fit):
    X_test, y_test = noisy_sine(2000, seed=1)
    assert sine_fit.score(X_test, y_test) > 0.9
    lower, upper = sine_fit.predict_interval(X_test, coverage=0.9).T
    covered = np.mean((lower <= y_test) & (y_test <= upper))
    assert 0.85 <= covered <= 0.95
    # The noise sd (0.1, plus what the small network leaves unexplained) is learned.
    noise_sd = np.exp(sine_fit.log_noise_mean_[0]) * sine_fit.y_scale_
    assert 0.08 < noise_sd < 0.17


def test_mean_std_and_variance_parts_are_the_moments_of_the_draws_mixture(sine_fit):
    X = np.linspace(-4, 4, 50)[:, None]
    draws = sine_fit.predict_draws(X)
    assert draws.mean.shape == draws.noise_scale.shape == (sine_fit.n_draws, 50)
    mean, std = sine_fit.predict(X, return_std=True)
    np.testing.assert_allclose(mean, draws.mean.mean(axis=0), rtol=1e-12)
    second_moment = np.mean(draws.noise_scale**2 + draws.mean**2, axis=0)
    np.testing.assert_allclose(std**2, second_moment - mean**2, rtol=1e-9)
    parts = sine_fit.predict_uncertainty(X)
    np.testing.assert_allclose(parts.total, parts.aleatoric + parts.epistemic, rtol=1e-12)
    np.testing.assert_allclose(parts.epistemic, draws.mean.var(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(sine_fit.predict(X), mean)


def test_epistemic_variance_grows_away_from_the_training_range(sine_fit):
    inside = sine_fit.predict_uncertainty(np.linspace(-2, 2, 20)[:, None]).epistemic
    outside = sine_fit.predict_uncertainty(np.linspace(5, 8, 20)[:, None]).epistemic
    assert outside.mean() > 10 * inside.mean()


def test_intervals_are_quantiles_of_the_mixture_not_a_gaussian_approximation():
    # Two components at -3 and +3: the 90 % interval of the mixture is wide and the
    # central 10 % straddles the gap; a Gaussian with the mixture's moments gets both wrong.
    means = np.array([[-3.0], [3.0]])
    scales = np.ones((2, 1))
    levels = [0.05, 0.45, 0.55, 0.95]
    got = mixture_quantiles(means, scales, levels)[0]

    def cdf(q):
        return norm.cdf(q, means[:, 0], 1.0).mean()

    expected = [brentq(lambda q, p=p: cdf(q) - p, -10, 10, xtol=1e-12) for p in levels]
    np.testing.assert_allclose(got, expected, atol=1e-6)  # QUANTILE_TOLERANCE of sd 1


def test_intervals_of_a_fit_are_the_quantiles_of_its_draws_mixture(sine_fit):
    """On a real fit, far outside the data too (where the draws' means spread and the
    mixture is no Gaussian), each bound solves mean_d Phi((q - m_d) / s_d) = p."""
    X = np.linspace(-8, 8, 9)[:, None]
    draws = sine_fit.predict_draws(X)
    coverage = 0.8
    got = sine_fit.predict_interval(X, coverage=coverage)
    expected = np.empty_like(got)
    for row in range(len(X)):
        means, scales = draws.mean[:, row], draws.noise_scale[:, row]

        def cdf(q, means=means, scales=scales):
            return norm.cdf(q, means, scales).mean()

        span = (means.min() - 10 * scales.max(), means.max() + 10 * scales.max())
        for column, p in enumerate([(1 - coverage) / 2, (1 + coverage) / 2]):
            expected[row, column] = brentq(lambda q, p=p: cdf(q) - p, *span, xtol=1e-12)
    tolerance = 1e-6 * draws.noise_scale.min()  # QUANTILE_TOLERANCE of the smallest sd
    np.testing.assert_allclose(got, expected, rtol=0, atol=10 * tolerance)


def test_the_target_scale_does_not_change_the_fit():
    X, y = noisy_sine(120, seed=2)
    small = BayesianMLPRegressor(**{**FAST, "max_iter": 300}).fit(X, y)
    large = BayesianMLPRegressor(**{**FAST, "max_iter": 300}).fit(X, 1000 * y + 5)
    assert large.y_mean_ == pytest.approx(1000 * small.y_mean_ + 5)
    np.testing.assert_allclose(large.predict(X), 1000 * small.predict(X) + 5, rtol=1e-6)
    expected = 1000 * small.predict_interval(X) + 5
    np.testing.assert_allclose(large.predict_interval(X), expected, rtol=1e-6)


def test_heteroscedastic_noise_follows_the_data_and_beats_a_constant_on_log_density():
    X, y = noisy_sine(400, seed=3, noise=growing_noise)
    X_test, y_test = noisy_sine(2000, seed=4, noise=growing_noise)
    settings = {**FAST, "hidden_layer_sizes": (16,), "max_iter": 4000}
    constant = BayesianMLPRegressor(**settings).fit(X, y)
    varying = BayesianMLPRegressor(**settings, noise="heteroscedastic").fit(X, y)
    assert varying.log_noise_mean_ is None and varying.coefs_mean_[-1].shape == (16, 2)
    edge, centre = np.array([[2.3], [-2.3]]), np.array([[0.0], [0.1]])
    noise_at = varying.predict_draws(edge).noise_scale.mean(axis=0)
    noise_centre = varying.predict_draws(centre).noise_scale.mean(axis=0)
    assert np.all(noise_at > 3 * noise_centre.max())
    constant_noise = constant.predict_draws(np.r_[edge, centre]).noise_scale.mean(axis=0)
    np.testing.assert_allclose(constant_noise, constant_noise[0])

    def mean_log_density(model):
        draws = model.predict_draws(X_test)
        return np.mean(np.log(norm.pdf(y_test, draws.mean, draws.noise_scale).mean(axis=0)))

    assert mean_log_density(varying) > mean_log_density(constant) + 0.1


def test_prior_scale_auto_is_two_for_constant_noise_and_a_half_for_varying_noise():
    X, y = noisy_sine(100, seed=5)
    settings = {**FAST, "max_iter": 300, "tol": None}
    for noise, scale in (("homoscedastic", 2.0), ("heteroscedastic", 0.5)):
        auto = BayesianMLPRegressor(**settings, noise=noise).fit(X, y)
        explicit = BayesianMLPRegressor(**settings, noise=noise, prior_scale=scale).fit(X, y)
        other = BayesianMLPRegressor(**settings, noise=noise, prior_scale=1.0).fit(X, y)
        np.testing.assert_array_equal(auto.predict(X), explicit.predict(X))
        assert not np.array_equal(auto.predict(X), other.predict(X))


def test_a_fit_whose_loss_ends_above_its_start_warns_with_advice():
    # scikit-learn's common checks' data: inputs around 100, not standardised.
    rng = np.random.RandomState(42)
    X, y = rng.normal(loc=100, size=(100, 2)), rng.normal(size=100)
    model = BayesianMLPRegressor(**{**FAST, "max_iter": 2000}, noise="heteroscedastic")
    with pytest.warns(ConvergenceWarning, match="ended above where it started.*StandardScaler"):
        model.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit((X - X.mean(axis=0)) / X.std(axis=0), y)


@pytest.mark.parametrize(
    "y, message",
    [
        (np.full(20, 3.0), "needs targets that vary"),
        (np.r_[np.nan, np.arange(19.0)], "NaN"),
        (np.r_[np.inf, np.arange(19.0)], "infinity"),
    ],
    ids=["constant", "nan", "inf"],
)
def test_bad_targets_are_refused_before_any_work(y, message):
    X = np.arange(20.0)[:, None]
    reg = BayesianMLPRegressor(**FAST)
    with pytest.raises(ValueError, match=message):
        reg.fit(X, y)
    assert not hasattr(reg, "y_mean_")


def test_interval_coverage_must_be_a_probability(sine_fit):
    for coverage in (0, 1, 1.5, True, "0.9"):
        with pytest.raises(ValueError, match="coverage must be a number in"):
            sine_fit.predict_interval(np.zeros((1, 1)), coverage=coverage)


def test_skops_round_trip_and_a_damaged_noise_scale_is_refused(sine_fit, tmp_path):
    path = tmp_path / "regressor.skops"
    sio.dump(sine_fit, path)
    assert sio.get_untrusted_types(file=path) == ["bnn_sklearn._regressor.BayesianMLPRegressor"]
    loaded = sio.load(path, trusted=TRUSTED_TYPES)
    X = np.linspace(-2, 2, 7)[:, None]
    np.testing.assert_array_equal(loaded.predict_interval(X), sine_fit.predict_interval(X))
    state = sine_fit.__getstate__()
    state["log_noise_std_"] = np.array([np.nan])
    with pytest.raises(ValueError, match="non-finite posterior parameters"):
        BayesianMLPRegressor().__setstate__(state)


def test_partial_fit_keeps_the_first_chunks_standardisation():
    X, y = noisy_sine(400, seed=5)
    reg = BayesianMLPRegressor(**{**FAST, "batch_size": 10})
    for _ in range(40):  # 10 iterations per chunk
        for chunk in np.array_split(np.arange(400), 4):
            reg.partial_fit(X[chunk], y[chunk], total_size=400)
    first = y[:100]
    assert reg.y_mean_ == pytest.approx(first.mean()) and reg.y_scale_ == pytest.approx(first.std())
    assert reg.score(X, y) > 0.8


def test_early_stopping_keeps_the_posterior_with_the_best_held_out_density():
    X, y = noisy_sine(300, seed=6)
    reg = BayesianMLPRegressor(
        **{**FAST, "tol": 1e-3, "max_iter": 5000}, early_stopping=True, n_iter_no_change=5
    ).fit(X, y)
    # The fit stopped n_iter_no_change checks after its best: the last posterior is not it.
    assert reg.validation_loss_[-1] > reg.best_validation_loss_ + 1e-4
    assert reg.n_iter_ == 100 * len(reg.validation_loss_) < reg.max_iter
    # The kept posterior is the best one: its negative log predictive density on the
    # held-out rows (standardised target, the monitor's draws) is the best score.
    *_, split_seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=4)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.1, random_state=split_seed)
    assert reg.n_samples_seen_ == len(y) - len(y_val)
    draws = reg.predict_draws(X_val)  # n_draws=100: the monitor's draws
    log_density = logsumexp(norm.logpdf(y_val, draws.mean, draws.noise_scale), axis=0)
    held_out_nll = -np.mean(log_density - np.log(reg.n_draws) + np.log(reg.y_scale_))
    assert held_out_nll == pytest.approx(reg.best_validation_loss_, rel=1e-10)
    assert reg.best_validation_loss_ < 0  # a density, on the standardised target: sd ~0.14


def test_nuts_keeps_the_noise_scale_with_the_weights_and_predicts_from_the_draws():
    X, y = noisy_sine(120, seed=7)
    reg = BayesianMLPRegressor(
        method="nuts", hidden_layer_sizes=(8,), chains=2, tune=100, draws=50, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short chains
        reg.fit(X, y)
    n_layer_params = 1 * 8 + 8 + 8 * 1 + 1
    assert reg.posterior_draws_.shape == (100, n_layer_params + 1)
    log_noise = reg.posterior_draws_[:, -1]
    np.testing.assert_allclose(reg.log_noise_mean_, [log_noise.mean()], rtol=1e-6)
    draws = reg.predict_draws(X[:5])
    np.testing.assert_allclose(
        np.sort(draws.noise_scale[:, 0]), np.sort(np.exp(log_noise) * reg.y_scale_)
    )
    assert reg.score(X, y) > 0.8


def test_full_rank_advi_is_refused_before_any_work():
    reg = BayesianMLPRegressor(**{**FAST, "method": "fullrank_advi"})
    with pytest.raises(ValueError, match=r"does not support method='fullrank_advi'.*'nuts'"):
        reg.fit(*noisy_sine(20, seed=8))
    assert not hasattr(reg, "n_features_in_")


def test_float32_prediction_stays_close_to_float64(sine_fit):
    """The docstring's bound, 4e-7 relative, for the predictive sd; the mean and the
    interval bounds cross zero, so within 1e-6 of the target's sd (measured on both
    lines: sd 2.6e-7 relative; mean 2.9e-7, bounds 3.5e-7 of the target's sd)."""
    X = np.linspace(-3, 3, 200)[:, None]
    single = pickle.loads(pickle.dumps(sine_fit)).set_params(prediction_dtype="float32")
    (mean, std), (mean32, std32) = sine_fit.predict(X, return_std=True), single.predict(X, True)
    interval, interval32 = sine_fit.predict_interval(X), single.predict_interval(X)
    assert 0 < np.max(np.abs(std32 - std) / std) < 4e-7
    for exact, fast in [(mean, mean32), (interval, interval32)]:
        assert 0 < np.max(np.abs(fast - exact)) < 1e-6 * sine_fit.y_scale_
