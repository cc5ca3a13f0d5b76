"""Grouped (hierarchical) fits: groups' networks, the population's for unseen groups,
checks of the labels, persistence and scikit-learn's metadata routing."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
import skops.io as sio
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import TRUSTED_TYPES, BayesianMLPClassifier, BayesianMLPRegressor
from bnn_sklearn._groups import (
    UNSEEN,
    GroupLayout,
    check_group_layers,
    encode_groups,
    group_codes,
)

from .conftest import FAST
from .sampling import first_draws_from

GROUPED = {**FAST, "max_iter": 2000}


@pytest.fixture(scope="module")
def flipped():
    """Four groups whose labels follow the first feature's sign, flipped in two of them:
    a task no single network can do, each group's own network can."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 2))
    groups = np.array(["north", "south", "east", "west"])[np.arange(240) % 4]
    flip = np.isin(groups, ["south", "west"])
    y = np.where(flip, X[:, 0] < 0, X[:, 0] > 0).astype(int)
    return X, y, groups


@pytest.fixture(scope="module")
def grouped_fit(flipped):
    X, y, groups = flipped
    return BayesianMLPClassifier(**GROUPED).fit(X[:160], y[:160], groups=groups[:160])


# The layout of a grouped posterior (NumPy only).


def test_a_groups_network_moves_only_the_varying_layers():
    layout = GroupLayout((2, 3, 1), (1,), n_groups=2, n_extra=0)
    assert (layout.n_population, layout.n_offsets, layout.size) == (13, 4, 13 + 2 + 8)
    rng = np.random.default_rng(0)
    flat = rng.normal(size=(5, layout.size))
    population, log_scale, offsets = layout.split(flat)
    np.testing.assert_array_equal(layout.join(population, log_scale, offsets), flat)
    network = layout.network(population, log_scale, offsets[:, 1])
    np.testing.assert_array_equal(network[:, :9], population[:, :9])  # the first layer
    # The second layer's three weights move by their spread, its bias by its own.
    weights = population[:, 9:12] + np.exp(log_scale[:, :1]) * offsets[:, 1, :3]
    np.testing.assert_allclose(network[:, 9:12], weights)
    bias = population[:, 12] + np.exp(log_scale[:, 1]) * offsets[:, 1, 3]
    np.testing.assert_allclose(network[:, 12], bias)


@pytest.mark.parametrize(
    ("value", "layers"), [("last", (2,)), ("all", (0, 1, 2)), ((0, -1), (0, 2)), ([1], (1,))]
)
def test_group_layers_name_layers(value, layers):
    assert check_group_layers(value, 3) == layers


@pytest.mark.parametrize("value", [(3,), (), (0.5,), (True,)])
def test_bad_group_layers_are_refused(value):
    with pytest.raises(ValueError, match="group_layers must be"):
        check_group_layers(value, 3)


def test_labels_are_encoded_and_unseen_ones_marked():
    labels, index = encode_groups(["b", "a", "b", "c"], 4)
    assert labels.tolist() == ["a", "b", "c"] and index.tolist() == [1, 0, 1, 2]
    codes = group_codes(np.array(["c", "z", "a"], dtype=object), 3, labels)
    assert codes.tolist() == [2, UNSEEN, 0]
    assert group_codes(None, 2, labels).tolist() == [UNSEEN, UNSEEN]
    assert group_codes([2, 7], 2, np.array([1, 2])).tolist() == [1, UNSEEN]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([0, 1], "2 labels for 3 rows"),
        ([[0], [1], [2]], "1-D array"),
        ([0.0, np.nan, 1.0], "1 missing labels"),
        (np.array(["a", None, "b"], dtype=object), "missing labels"),
        (np.array(["a", 1, "b"], dtype=object), "not a mix"),
    ],
)
def test_bad_groups_are_refused_before_fitting(groups, message):
    X, y = np.zeros((3, 2)), np.array([0, 1, 0])
    with pytest.raises(ValueError, match=message):
        BayesianMLPClassifier(**FAST).fit(X, y, groups=groups)


# Fitting and predicting.


def test_each_group_is_predicted_by_its_own_network(grouped_fit, flipped):
    X, y, groups = flipped
    test = slice(160, None)
    accuracy = np.mean(grouped_fit.predict(X[test], groups=groups[test]) == y[test])
    assert accuracy > 0.9
    # Without the groups the population cannot tell the flipped groups from the others.
    population = np.mean(grouped_fit.predict(X[test]) == y[test])
    assert population < 0.75
    pooled = BayesianMLPClassifier(**GROUPED).fit(X[:160], y[:160])
    assert np.mean(pooled.predict(X[test]) == y[test]) < 0.75
    assert grouped_fit.groups_.tolist() == ["east", "north", "south", "west"]
    assert grouped_fit.group_offsets_mean_.shape == (4, 8 + 1)


def test_unseen_groups_get_the_population_predictive(grouped_fit, flipped):
    X = flipped[0]
    rows = X[160:170]
    population = grouped_fit.predict_proba(rows)
    unseen = grouped_fit.predict_proba(rows, groups=["elsewhere"] * 10)
    np.testing.assert_array_equal(unseen, population)
    # Not any one group's network: the population is unsure where groups disagree.
    for label in grouped_fit.groups_:
        seen = grouped_fit.predict_proba(rows, groups=[label] * 10)
        assert np.abs(seen - population).max() > 0.2
    # Rows of several groups at once get the same as one group at a time.
    mixed = np.array(["north", "elsewhere", "south", "west", "east"] * 2)
    together = grouped_fit.predict_proba(rows, groups=mixed)
    for label in set(mixed):
        alone = grouped_fit.predict_proba(rows[mixed == label], groups=mixed[mixed == label])
        np.testing.assert_allclose(together[mixed == label], alone)


def test_every_predict_method_takes_groups(grouped_fit, flipped):
    X, _, groups = flipped
    rows, labels = X[160:166], groups[160:166]
    proba = grouped_fit.predict_proba(rows, groups=labels)
    np.testing.assert_allclose(grouped_fit.predict_proba_draws(rows, labels).mean(0), proba)
    assert grouped_fit.predict_std(rows, labels).shape == proba.shape
    uncertainty = grouped_fit.predict_uncertainty(rows, groups=labels)
    assert not np.allclose(uncertainty.total, grouped_fit.predict_uncertainty(rows).total)


def test_one_group_fits_as_the_ungrouped_network(moons):
    X, y = moons
    ungrouped = BayesianMLPClassifier(**GROUPED).fit(X, y)
    grouped = BayesianMLPClassifier(**GROUPED).fit(X, y, groups=np.zeros(len(X)))
    difference = grouped.predict_proba(X, groups=np.zeros(len(X))) - ungrouped.predict_proba(X)
    assert np.abs(difference).mean() < 0.05
    accuracy = np.mean(grouped.predict(X, groups=np.zeros(len(X))) == y)
    assert abs(accuracy - np.mean(ungrouped.predict(X) == y)) < 0.03


def test_minibatches_carry_each_rows_group(flipped):
    X, y, groups = flipped
    clf = BayesianMLPClassifier(**{**GROUPED, "batch_size": 40, "max_iter": 3000})
    clf.fit(X[:160], y[:160], groups=groups[:160])
    accuracy = np.mean(clf.predict(X[160:], groups=groups[160:]) == y[160:])
    assert accuracy > 0.85


def test_sample_weights_still_weigh_rows_in_a_grouped_fit(flipped):
    X, y, groups = flipped
    weights = np.where(groups == "south", 0.0, 1.0)
    fit = BayesianMLPClassifier(**GROUPED).fit(X, y, sample_weight=weights, groups=groups)
    south = groups == "south"
    # Unweighted, south's rows carry no information: its network stays the population's.
    own = fit.predict_proba(X[south], groups=groups[south])
    np.testing.assert_allclose(own, fit.predict_proba(X[south]), atol=0.15)


def test_a_model_fitted_without_groups_refuses_them(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="fitted without groups"):
        clf.predict(X, groups=np.zeros(len(X)))


def test_early_stopping_is_refused_for_a_grouped_fit(flipped):
    X, y, groups = flipped
    with pytest.raises(ValueError, match="early_stopping=True does not support groups"):
        BayesianMLPClassifier(**FAST, early_stopping=True).fit(X, y, groups=groups)


def test_a_grouped_fit_is_not_continued(grouped_fit, flipped):
    X, y, groups = flipped
    clf = pickle.loads(pickle.dumps(grouped_fit)).set_params(warm_start=True)
    n_iter = clf.n_iter_
    for fit in (lambda: clf.fit(X, y, groups=groups), lambda: clf.fit(X, y)):
        with pytest.raises(ValueError, match="grouped fit cannot be continued"):
            fit()
    with pytest.raises(ValueError, match="grouped fit cannot be continued"):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == n_iter


# Persistence.


def test_grouped_models_round_trip_through_pickle_and_skops(grouped_fit, flipped, tmp_path):
    X, _, groups = flipped
    expected = grouped_fit.predict_proba(X[160:], groups=groups[160:])
    pickled = pickle.loads(pickle.dumps(grouped_fit))
    np.testing.assert_array_equal(pickled.predict_proba(X[160:], groups=groups[160:]), expected)
    sio.dump(grouped_fit, tmp_path / "grouped.skops")
    loaded = sio.load(tmp_path / "grouped.skops", trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(X[160:], groups=groups[160:]), expected)
    assert loaded.groups_.tolist() == grouped_fit.groups_.tolist()


def test_edited_group_arrays_are_refused(grouped_fit):
    state = grouped_fit.__getstate__()
    state["group_offsets_mean_"] = state["group_offsets_mean_"][:2]
    with pytest.raises(ValueError, match="group_offsets_mean_ of shape"):
        BayesianMLPClassifier().__setstate__(state)


# scikit-learn's metadata routing.


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_groups_are_routed_to_fit_in_cross_validation(routing, flipped):
    X, y, groups = flipped
    clf = BayesianMLPClassifier(**{**FAST, "max_iter": 300}).set_fit_request(groups=True)
    result = cross_validate(
        clf,
        X,
        y,
        cv=GroupKFold(2),
        params={"groups": groups},
        return_estimator=True,
        return_indices=True,
    )
    for estimator, test in zip(result["estimator"], result["indices"]["test"]):
        held_out = set(groups[test])
        assert set(estimator.groups_.tolist()) == set(groups) - held_out


def test_groups_are_routed_through_a_pipeline_in_a_grid_search(routing, flipped):
    X, y, groups = flipped
    clf = BayesianMLPClassifier(**{**FAST, "max_iter": 300}).set_fit_request(groups=True)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), clf),
        {"bayesianmlpclassifier__prior_scale": [1.0, 2.0]},
        cv=GroupKFold(2),
    )
    search.fit(X, y, groups=groups)
    assert search.best_estimator_[-1].groups_.tolist() == sorted(set(groups))
    assert search.cv_results_["mean_test_score"].shape == (2,)


def test_without_a_request_groups_stay_with_the_splitter(routing, flipped):
    X, y, groups = flipped
    clf = BayesianMLPClassifier(**{**FAST, "max_iter": 300}).set_fit_request(groups=False)
    result = cross_validate(
        clf, X, y, cv=GroupKFold(2), params={"groups": groups}, return_estimator=True
    )
    assert all(estimator.groups_ is None for estimator in result["estimator"])


# The regressor.


def test_the_regressor_fits_each_groups_level(flipped):
    X, _, groups = flipped
    rng = np.random.default_rng(1)
    level = {"north": -2.0, "south": 0.0, "east": 1.0, "west": 3.0}
    y = np.sin(2 * X[:, 0]) + np.array([level[g] for g in groups])
    y = y + rng.normal(scale=0.1, size=len(y))
    reg = BayesianMLPRegressor(**GROUPED).fit(X[:160], y[:160], groups=groups[:160])
    test, labels = slice(160, None), groups[160:]
    rmse = np.sqrt(np.mean((reg.predict(X[test], groups=labels) - y[test]) ** 2))
    assert rmse < 0.5
    population_rmse = np.sqrt(np.mean((reg.predict(X[test]) - y[test]) ** 2))
    assert population_rmse > 1.0
    interval = reg.predict_interval(X[test], coverage=0.9, groups=labels)
    covered = np.mean((interval[:, 0] <= y[test]) & (y[test] <= interval[:, 1]))
    assert covered > 0.75
    population_interval = reg.predict_interval(X[test], coverage=0.9)
    assert np.mean(np.diff(population_interval)) > np.mean(np.diff(interval))
    draws = reg.predict_draws(X[test], groups=labels)
    np.testing.assert_allclose(draws.mean.mean(0), reg.predict(X[test], groups=labels))
    assert reg.predict_distribution(X[test], groups=labels).mean().shape == (80,)


# NUTS samples the same grouped model.


def test_nuts_samples_a_grouped_network(flipped):
    X, y, groups = flipped
    settings = dict(method="nuts", chains=2, tune=150, draws=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short chains may warn
        clf = BayesianMLPClassifier(hidden_layer_sizes=(8,), **settings)
        clf.fit(X[:160], y[:160], groups=groups[:160])
    assert clf.posterior_draws_.shape == (100, 33 + 2 + 4 * 9)
    assert clf.group_log_scale_mean_.shape == (1, 2)
    assert clf.group_offsets_mean_.shape == (4, 9)
    test = slice(160, None)
    accuracy = np.mean(clf.predict(X[test], groups=groups[test]) == y[test])
    assert accuracy > 0.85
    assert np.mean(clf.predict(X[test]) == y[test]) < 0.75
    # The spreads enter the flat draws as logs, as ADVI fits them; the groups' weights
    # differ (their signs flip), so the spread of the weights is large.
    spread = np.exp(clf.posterior_draws_[:, 33:35])
    assert np.all(spread > 0) and np.median(spread[:, 0]) > 0.5
    np.testing.assert_allclose(clf.group_log_scale_mean_[0], np.log(spread).mean(0))


# MILE: grouped ADVI members, then a NUTS chain of the grouped model from each.


GROUPED_ARCH = dict(
    n_features=2,
    hidden_layer_sizes=(8,),
    activation="tanh",
    n_outputs=1,
    method="nuts",
    batch_size=None,
    likelihood="bernoulli",
    group_layers=(1,),
    n_groups=4,
)


def grouped_starts():
    """Two starts in the flat layout, their spreads' logs far from zero."""
    starts = np.random.default_rng(1).normal(0.0, 0.3, size=(2, 33 + 2 + 4 * 9))
    starts[:, 33:35] = [[1.5, -2.0], [-2.0, 1.5]]
    return starts


def test_grouped_chains_start_at_their_points_spreads_included(flipped):
    """One tuning step and one draw of one leapfrog step with nutpie: each chain stays by
    its start, spreads between groups included (logs in the flat layout, as nutpie moves
    them)."""
    from bnn_sklearn._network import Architecture

    X, y, groups = flipped
    starts = grouped_starts()
    first_draws = first_draws_from(
        Architecture(**GROUPED_ARCH),
        X,
        y,
        starts,
        "nutpie",
        group_index=encode_groups(groups, len(X))[1],
    )
    np.testing.assert_allclose(first_draws[:, 33:35], starts[:, 33:35], atol=0.1)
    assert np.abs(first_draws - starts).mean() < 0.1


def test_pymc_starts_grouped_chains_at_their_points(flipped):
    """PyMC's sampler is given each start as its initial values (the spreads as
    themselves): its initial points, in its own coordinates, are the starts."""
    from pymc.sampling.mcmc import init_nuts

    from bnn_sklearn._network import Architecture
    from bnn_sklearn._nuts import SAMPLERS

    X, y, groups = flipped
    starts = grouped_starts()
    with SAMPLERS.engine(Architecture(**GROUPED_ARCH)) as model:
        network = model.network
        network.set_data(
            network.data(
                X,
                y.astype(np.int32),
                np.ones(len(X)),
                len(X),
                2.0,
                encode_groups(groups, len(X))[1],
                4,
            )
        )
        with network.model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            points, _ = init_nuts(
                init="adapt_diag",
                chains=2,
                initvals=[model._initial_values(start) for start in starts],
                random_seed=0,
            )
        network.clear_data()
    for point, start in zip(points, starts):
        np.testing.assert_allclose(point["group_scale_log__"], start[33:35])
        np.testing.assert_allclose(point["group_offsets"].ravel(), start[35:])
        np.testing.assert_allclose(point["w_0"].ravel(), start[:16])


def test_mile_samples_a_grouped_network(flipped):
    X, y, groups = flipped
    settings = dict(method="mile", chains=2, tune=100, draws=50, max_iter=2000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short chains may warn
        clf = BayesianMLPClassifier(hidden_layer_sizes=(8,), **settings)
        clf.fit(X[:160], y[:160], groups=groups[:160])
    assert clf.method_ == "mile"
    assert clf.posterior_draws_.shape == (100, 33 + 2 + 4 * 9)
    test = slice(160, None)
    assert np.mean(clf.predict(X[test], groups=groups[test]) == y[test]) > 0.85
    assert np.mean(clf.predict(X[test]) == y[test]) < 0.75
    # Each group's sign flips: the members and the chains keep a large spread of the
    # varying layer's weights.
    assert np.median(np.exp(clf.posterior_draws_[:, 33])) > 0.5
    expected = clf.predict_proba(X[test], groups=groups[test])
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X[test], groups=groups[test]), expected)
