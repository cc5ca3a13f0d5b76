"""CRPS and NLPD of predictive distributions, their scorers, and their columns in compare()."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import BayesianRidge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPRegressor
from bnn_sklearn.compare import compare, main
from bnn_sklearn.distributions import NormalMixture
from bnn_sklearn.metrics import DISTRIBUTION_SCORERS, crps, crps_scorer, nlpd, nlpd_scorer

from .conftest import FAST


@pytest.fixture(scope="module")
def two_humps():
    """Rows whose mixtures have two separated humps of unequal components."""
    rng = np.random.default_rng(0)
    n_components, n_rows = 6, 5  # few: 6 of the 36 pairs in E|X - X'| have i == j
    hump = np.where(np.arange(n_components) % 2 == 0, -2.0, 2.0)[:, None]
    means = hump + rng.normal(scale=0.3, size=(n_components, n_rows)) + np.arange(n_rows)
    scales = rng.uniform(0.2, 0.8, size=(n_components, n_rows))
    return NormalMixture(means, scales)


def test_crps_matches_a_monte_carlo_estimate_within_its_standard_error(two_humps):
    y = np.array([-2.5, 0.0, 1.0, 4.5, 9.0])
    exact = two_humps.crps(y)
    draws = two_humps.rvs(size=(2, 100_000), random_state=0)
    # One unbiased term per pair of independent draws: |X - y| - |X - X'| / 2.
    terms = np.abs(draws[0] - y) - 0.5 * np.abs(draws[0] - draws[1])
    estimate = terms.mean(axis=0)
    standard_error = terms.std(axis=0) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(exact - estimate) < 3 * standard_error)
    assert np.all(standard_error < 0.01)  # tight enough to catch a wrong term


def test_crps_is_the_integral_of_the_squared_cdf_difference(two_humps):
    y = np.array([-2.5, 0.0, 1.0, 4.5, 9.0])
    for row in range(len(two_humps)):
        one = two_humps[row]
        below, _ = quad(lambda t, one=one: one.cdf(t) ** 2, -30, y[row], limit=200)
        above, _ = quad(lambda t, one=one: (1 - one.cdf(t)) ** 2, y[row], 40, limit=200)
        assert one.crps(y[row]) == pytest.approx(below + above, rel=1e-7)


def test_crps_of_one_normal_is_the_gaussian_closed_form():
    mean, sd = np.array([0.0, 1.0, -3.0]), np.array([1.0, 0.5, 2.0])
    y = np.array([0.0, 2.2, -1.0])
    z = (y - mean) / sd
    gaussian = sd * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    dist = NormalMixture(mean[None], sd[None])
    np.testing.assert_allclose(dist.crps(y), gaussian, rtol=1e-13)
    assert crps(y, dist) == pytest.approx(gaussian.mean(), rel=1e-13)
    assert nlpd(y, dist) == pytest.approx(-norm.logpdf(y, mean, sd).mean(), rel=1e-13)
    weights = np.array([1.0, 0.0, 3.0])
    assert crps(y, dist, sample_weight=weights) == pytest.approx(
        np.average(gaussian, weights=weights), rel=1e-13
    )


def test_crps_chunks_rows_without_changing_the_result(two_humps, monkeypatch):
    y = np.linspace(-3, 6, len(two_humps))
    whole = two_humps.crps(y)
    monkeypatch.setattr("bnn_sklearn.distributions.CHUNK_ELEMENTS", 1)
    np.testing.assert_allclose(two_humps.crps(y), whole, rtol=1e-14)
    np.testing.assert_allclose(two_humps.logpdf(y), two_humps[:].logpdf(y), rtol=1e-14)


def test_scores_refuse_bad_input(two_humps):
    y = np.zeros(len(two_humps))
    with pytest.raises(ValueError, match="y_true contains NaN"):
        crps(np.r_[np.nan, y[1:]], two_humps)
    with pytest.raises(ValueError, match="y_true has 4 values but y_dist describes 5 rows"):
        nlpd(y[:4], two_humps)
    with pytest.raises(TypeError, match="y_dist must be a NormalMixture"):
        crps(y, norm(0, 1))
    with pytest.raises(
        ValueError, match=r"y_true must be 1-D, one target per row; got shape \(5, 2\)"
    ):
        nlpd(np.zeros((5, 2)), two_humps)
    forest = RandomForestRegressor(n_estimators=2).fit(np.eye(5), y)
    with pytest.raises(TypeError, match="gives no predictive distribution"):
        crps_scorer(forest, np.eye(5), y)


@pytest.fixture(scope="module")
def sine():
    rng = np.random.default_rng(3)
    X = rng.uniform(-2.5, 2.5, size=(120, 1))
    return X, np.sin(2 * X[:, 0]) + rng.normal(scale=0.2, size=120)


def test_scorers_in_cross_validate_are_the_scores_of_each_fold(sine):
    X, y = sine
    model = make_pipeline(StandardScaler(), BayesianMLPRegressor(**{**FAST, "max_iter": 500}))
    result = cross_validate(
        model,
        X,
        y,
        cv=KFold(2),
        scoring={**DISTRIBUTION_SCORERS, "r2": "r2"},
        return_estimator=True,
        return_indices=True,
    )
    for fold, fitted in enumerate(result["estimator"]):
        test = result["indices"]["test"][fold]
        dist = fitted[-1].predict_distribution(fitted[0].transform(X[test]))
        assert result["test_neg_crps"][fold] == -crps(y[test], dist)
        assert result["test_neg_nlpd"][fold] == -nlpd(y[test], dist)
        assert nlpd_scorer(fitted, X[test], y[test]) == -nlpd(y[test], dist)


def test_scorers_choose_in_grid_search(sine):
    X, y = sine
    search = GridSearchCV(
        BayesianMLPRegressor(**{**FAST, "max_iter": 500}),
        {"prior_scale": [0.01, 2.0]},
        scoring=DISTRIBUTION_SCORERS,
        refit="neg_crps",
        cv=KFold(2),
    )
    search.fit(X, y)
    scores = search.cv_results_["mean_test_neg_crps"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    # A prior of sd 0.01 pins the network near a constant: it scores worse on both rules.
    assert search.best_params_ == {"prior_scale": 2.0}
    assert np.argmax(search.cv_results_["mean_test_neg_nlpd"]) == 1
    assert search.score(X, y) == crps_scorer(search.best_estimator_, X, y)
    ridge = GridSearchCV(BayesianRidge(), {"alpha_1": [1e-6, 1.0]}, scoring=nlpd_scorer, cv=2)
    assert np.isfinite(ridge.fit(X, y).best_score_)


def test_compare_reports_crps_and_nlpd_and_which_distribution(sine):
    X, y = sine
    models = {
        "BayesianMLP": BayesianMLPRegressor(**{**FAST, "max_iter": 500}),
        "HistGradientBoosting": None,
        "GradientBoosting": None,
        "RandomForest": RandomForestRegressor(n_estimators=10, random_state=0),
    }
    table = compare(X, y, models=models, cv=KFold(2), random_state=0)
    assert table.loc["BayesianMLP", "distribution"] == "mixture"
    assert table.loc["BayesianRidge", "distribution"] == "gaussian"
    assert table.loc["RandomForest", "distribution"] == "none"
    assert np.isnan(table.loc["RandomForest", "crps"]) and np.isnan(
        table.loc["RandomForest", "nlpd"]
    )
    by_hand = cross_validate(
        make_pipeline(StandardScaler(), BayesianRidge()),
        X,
        y,
        cv=KFold(2),
        scoring=DISTRIBUTION_SCORERS,
    )
    assert table.loc["BayesianRidge", "crps"] == pytest.approx(-by_hand["test_neg_crps"].mean())
    assert table.loc["BayesianRidge", "nlpd"] == pytest.approx(-by_hand["test_neg_nlpd"].mean())
    assert 0 < table.loc["BayesianMLP", "crps"] < table.loc["BayesianMLP", "mean_absolute_error"]


def test_the_command_prints_the_distribution_scores(sine, tmp_path, capsys):
    X, y = sine
    path = tmp_path / "sine.csv"
    np.savetxt(path, np.c_[X, y], delimiter=",", header="x,target", comments="")
    main([str(path), "--target", "target", "--cv", "2"])
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith("| model"))
    assert "| crps | nlpd |" in header and header.endswith("| distribution |")
    forest = next(line for line in printed.splitlines() if line.startswith("| RandomForest"))
    assert "| n/a | n/a |" in forest and forest.endswith("| none |")
    assert next(line for line in printed.splitlines() if "| BayesianMLP" in line).endswith(
        "| mixture |"
    )
