"""Behaviour of BayesianMLPClassifier with real ADVI fits."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score

from bnn_sklearn import BayesianMLPClassifier

from .conftest import FAST


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog"]), np.array([3, 7]), np.array([False, True])],
    ids=["strings", "ints", "bools"],
)
def test_binary_labels_of_any_type(moons, labels):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, labels)
    assert set(clf.predict(X)) <= set(labels)
    assert accuracy_score(labels[y], clf.predict(X)) > 0.8


def test_multiclass_with_unordered_int_labels(three_blobs):
    X, y = three_blobs
    labels = np.array([9, 3, 7])[y]
    clf = BayesianMLPClassifier(**FAST).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, [3, 7, 9])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert accuracy_score(labels, clf.predict(X)) > 0.9
    assert clf.predict_std(X).shape == (len(X), 3)


def test_fitted_posterior_is_plain_arrays_per_layer(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**{**FAST, "hidden_layer_sizes": (6, 4)}).fit(X, y)
    assert [w.shape for w in clf.coefs_mean_] == [(2, 6), (6, 4), (4, 1)]
    assert [w.shape for w in clf.coefs_std_] == [(2, 6), (6, 4), (4, 1)]
    assert [b.shape for b in clf.intercepts_mean_] == [(6,), (4,), (1,)]
    assert all(np.all(s > 0) for s in clf.coefs_std_ + clf.intercepts_std_)
    assert clf.posterior_cholesky_ is None
    assert clf.n_iter_ == len(clf.loss_curve_) == FAST["max_iter"]
    for value in vars(clf).values():
        assert type(value).__module__.split(".")[0] in {"builtins", "numpy"}


def test_fullrank_posterior_has_a_cholesky_factor(moons):
    X, y = moons
    clf = BayesianMLPClassifier(
        **{**FAST, "hidden_layer_sizes": (4,)}, method="fullrank_advi", learning_rate=3e-3
    ).fit(X, y)
    factor = clf.posterior_cholesky_
    n_params = 2 * 4 + 4 + 4 + 1
    assert factor.shape == (n_params, n_params)
    np.testing.assert_array_equal(factor, np.tril(factor))
    assert np.all(np.diag(factor) > 0)
    marginal = np.concatenate([clf.coefs_std_[0].ravel(), clf.intercepts_std_[0]])
    np.testing.assert_allclose(np.linalg.norm(factor, axis=1)[:12], marginal)
    assert accuracy_score(y, clf.predict(X)) > 0.8


def test_same_random_state_gives_identical_predictions(moons):
    X, y = moons
    first = BayesianMLPClassifier(**FAST).fit(X, y).predict_proba(X)
    second = BayesianMLPClassifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = BayesianMLPClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)


def test_tol_none_runs_exactly_max_iter_without_warning(moons):
    X, y = moons
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = BayesianMLPClassifier(**{**FAST, "max_iter": 250}).fit(X, y)
    assert clf.n_iter_ == 250


def test_hitting_max_iter_warns(moons):
    X, y = moons
    with pytest.warns(ConvergenceWarning, match="max_iter=200"):
        BayesianMLPClassifier(**{**FAST, "max_iter": 200, "tol": 1e-6}).fit(X, y)


def test_loose_tolerance_stops_early(moons):
    X, y = moons
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BayesianMLPClassifier(
            **{**FAST, "max_iter": 20000, "tol": 0.05, "n_iter_no_change": 2}
        ).fit(X, y)
    assert clf.n_iter_ < 20000


@pytest.fixture(scope="module")
def seed_fits(seed_split):
    """The default estimator fitted to the seed's split, full batch and minibatch of 50."""
    X_train, _, y_train, _ = seed_split
    return {
        batch_size: BayesianMLPClassifier(random_state=0, batch_size=batch_size).fit(
            X_train, y_train
        )
        for batch_size in (None, 50)
    }


def far_from(X_train):
    """Points of the seed's plotting square [-3, 3]^2 more than 1.5 from every training point."""
    grid = np.mgrid[-3:3:60j, -3:3:60j].reshape(2, -1).T
    distance = np.min(np.linalg.norm(grid[:, None, :] - X_train[None], axis=-1), axis=1)
    return grid[distance > 1.5]


def test_minibatch_loss_is_on_the_full_data_scale(seed_fits):
    full, mini = seed_fits[None].loss_curve_, seed_fits[50].loss_curve_
    # Without rescaling by n / batch_size the minibatch losses would be 10 times smaller.
    ratio = mini[-500:].mean() / full[-500:].mean()
    assert 0.8 < ratio < 1.25


@pytest.mark.parametrize("batch_size", [None, 50], ids=["full-batch", "minibatch"])
def test_reproduces_the_seed_notebook_accuracy(seed_split, seed_fits, batch_size):
    _, X_test, _, y_test = seed_split
    assert accuracy_score(y_test, seed_fits[batch_size].predict(X_test)) >= 0.93


def test_predict_std_is_larger_far_from_the_data(seed_split, seed_fits):
    X_train = seed_split[0]
    clf = seed_fits[None]
    far = clf.predict_std(far_from(X_train))[:, 1].mean()
    on_the_data = clf.predict_std(X_train)[:, 1].mean()
    assert far > 2 * on_the_data


def test_verbose_shows_progress_and_quiet_is_silent(moons, capsys, caplog):
    X, y = moons
    # A width no other test uses, so that building and compiling the engine is silent too.
    BayesianMLPClassifier(**{**FAST, "max_iter": 200, "hidden_layer_sizes": (3,)}).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "" and caplog.records == []
    BayesianMLPClassifier(**{**FAST, "max_iter": 200, "verbose": True}).fit(X, y)
    assert "Fitting" in capsys.readouterr().out


def test_per_draw_probabilities_underlie_the_summaries(three_blobs):
    X, y = three_blobs
    clf = BayesianMLPClassifier(**FAST).fit(X, y)
    draws = clf.predict_proba_draws(X)
    assert draws.shape == (FAST["n_draws"], len(X), 3)
    np.testing.assert_allclose(draws.mean(axis=0), clf.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(draws.std(axis=0), clf.predict_std(X), rtol=1e-12)


def test_uncertainty_split_follows_its_definitions(seed_split, seed_fits):
    X_train = seed_split[0]
    clf = seed_fits[None]
    uncertainty = clf.predict_uncertainty(X_train)
    assert uncertainty._fields == ("total", "aleatoric", "epistemic")
    proba = clf.predict_proba(X_train)
    np.testing.assert_allclose(uncertainty.total, -np.sum(proba * np.log(proba), axis=1))
    np.testing.assert_allclose(uncertainty.total, uncertainty.aleatoric + uncertainty.epistemic)
    assert np.all(uncertainty.epistemic >= 0)
    assert np.all(uncertainty.total <= np.log(2) + 1e-12)
    far = clf.predict_uncertainty(far_from(X_train))
    assert far.epistemic.mean() > 2 * uncertainty.epistemic.mean()


def test_auto_batch_size_uses_minibatches_for_many_rows_or_many_cells():
    clf = BayesianMLPClassifier()
    assert clf._effective_batch_size((200, 2)) is None  # small: full batch
    assert clf._effective_batch_size((569, 30)) is None  # breast cancer: 17,070 cells
    assert clf._effective_batch_size((1437, 64)) == 256  # digits: 91,968 cells
    assert clf._effective_batch_size((3000, 2)) == 256  # many rows
    assert clf._effective_batch_size((1000, 2), partial=True) == 256  # a streamed chunk
    assert clf._effective_batch_size((100, 2), partial=True) is None
    assert clf.set_params(batch_size=None)._effective_batch_size((10**6, 20)) is None
    assert clf.set_params(batch_size=5000)._effective_batch_size((3000, 2)) is None
