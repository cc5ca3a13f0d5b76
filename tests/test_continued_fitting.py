"""warm_start, partial_fit and early stopping: ADVI continued from the fitted posterior."""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from bnn_sklearn import BayesianMLPClassifier, _inference
from bnn_sklearn._base import EARLY_STOPPING_DRAWS
from bnn_sklearn._inference import ENGINES
from bnn_sklearn._network import Architecture
from bnn_sklearn._posterior import Posterior

from .conftest import FAST

SHORT = {**FAST, "max_iter": 500}


POSTERIOR = ("coefs_mean_", "coefs_std_", "intercepts_mean_", "intercepts_std_")


def leave_another_posterior_in_the_engine(X, y, **params):
    """Fit the same network to other rows with another seed, on the pooled engine."""
    BayesianMLPClassifier(**{**SHORT, "random_state": 1, **params}).fit(X[:120], y[:120])


@pytest.mark.parametrize("method", ["advi", "fullrank_advi"])
def test_warm_start_reenters_the_posterior_exactly(moons, method):
    X, y = moons
    fitted = BayesianMLPClassifier(**{**SHORT, "method": method}, learning_rate=0.003).fit(X, y)
    clf = pickle.loads(pickle.dumps(fitted))
    leave_another_posterior_in_the_engine(X, y, method=method, learning_rate=0.003)
    # One Adam step of 1e-12 moves no parameter by more than about 1e-12: the posterior
    # comes back unchanged if it was re-entered exactly.
    clf.set_params(warm_start=True, max_iter=1, learning_rate=1e-12).fit(X, y)
    for name in POSTERIOR:
        for before, after in zip(getattr(fitted, name), getattr(clf, name)):
            np.testing.assert_allclose(after, before, rtol=1e-9, atol=1e-10, err_msg=name)
    if method == "fullrank_advi":
        before, after = fitted.posterior_cholesky_, clf.posterior_cholesky_
        np.testing.assert_allclose(after @ after.T, before @ before.T, rtol=1e-8, atol=1e-10)
    assert clf.n_iter_ == 501


def flat_means(clf):
    return np.concatenate([part.ravel() for part in (*clf.coefs_mean_, *clf.intercepts_mean_)])


def test_a_continued_fit_restarts_adam_whatever_the_engine_holds(moons, monkeypatch):
    """Continuing a fit gives the same result on an engine that still holds this fit's own
    Adam moments and step count (the next fit in the same process), on one that holds
    another fit's, and on a new engine that holds none: every continued fit restarts Adam
    and reseeds its generators."""
    X, y = moons
    fitted = BayesianMLPClassifier(**SHORT, warm_start=True).fit(X, y)
    saved = pickle.dumps(fitted)
    # Straight after the fit its engine is idle with the fit's own optimiser state.
    in_process = fitted.set_params(max_iter=300).fit(X, y)
    with monkeypatch.context() as patched:
        patched.setattr(_inference, "ENGINES", _inference._EnginePool(size=1))
        on_a_new_engine = pickle.loads(saved).set_params(max_iter=300).fit(X, y)
    leave_another_posterior_in_the_engine(X, y)
    on_a_used_engine = pickle.loads(saved).set_params(max_iter=300).fit(X, y)
    assert on_a_used_engine.n_iter_ == in_process.n_iter_ == 800
    for arm in (in_process, on_a_used_engine):
        np.testing.assert_array_equal(arm.loss_curve_, on_a_new_engine.loss_curve_)
        for name in POSTERIOR:
            for new, other in zip(getattr(on_a_new_engine, name), getattr(arm, name)):
                np.testing.assert_array_equal(other, new, err_msg=name)


def test_the_first_step_of_a_continued_fit_is_a_fresh_adam_step(moons):
    """Adam's first step after a restart (zero moments, step count 1) moves every
    parameter by the learning rate (lr * g / |g|, up to its epsilon); with the moments or
    the step count of the fit before, the steps would have other sizes."""
    X, y = moons
    clf = BayesianMLPClassifier(**SHORT, warm_start=True).fit(X, y)
    before = flat_means(clf)
    clf.set_params(max_iter=1, learning_rate=0.002).fit(X, y)  # its own engine, state and all
    steps = np.abs(flat_means(clf) - before)
    np.testing.assert_allclose(steps, 0.002, rtol=1e-3)


def test_warm_start_continues_the_loss_curve(moons):
    X, y = moons
    once = BayesianMLPClassifier(**SHORT).fit(X, y)
    clf = BayesianMLPClassifier(**SHORT, warm_start=True).fit(X, y).fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 1000
    np.testing.assert_array_equal(clf.loss_curve_[:500], once.loss_curve_)
    first, last_of_first_fit, start_of_second = (
        clf.loss_curve_[:50].mean(),
        clf.loss_curve_[450:500].mean(),
        clf.loss_curve_[500:550].mean(),
    )
    # The second fit starts where the first ended, not from the initialisation.
    assert abs(start_of_second - last_of_first_fit) < 0.2 * (first - last_of_first_fit)
    cold = clone(clf).set_params(warm_start=False).fit(X, y)
    assert cold.n_iter_ == 500


def test_warm_start_refuses_other_classes_or_layers_and_keeps_the_model(moons, three_blobs):
    X, y = moons
    clf = BayesianMLPClassifier(**SHORT, warm_start=True).fit(X, y)
    proba = clf.predict_proba(X)
    with pytest.raises(ValueError, match="same classes as the previous fit"):
        clf.fit(*three_blobs)
    with pytest.raises(ValueError, match="Set warm_start=False"):
        clf.set_params(hidden_layer_sizes=(4,)).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_partial_fit_streams_chunks_and_learns(seed_split):
    X_train, X_test, y_train, y_test = seed_split
    clf = BayesianMLPClassifier(**{**FAST, "batch_size": 50})
    chunks = np.array_split(np.arange(len(y_train)), 2)
    for _epoch in range(80):
        for rows in chunks:
            clf.partial_fit(X_train[rows], y_train[rows], classes=[0, 1], total_size=len(y_train))
    # One pass over a chunk of 250 rows in minibatches of 50 is 5 iterations.
    assert clf.n_iter_ == len(clf.loss_curve_) == 80 * 2 * 5
    assert clf.n_samples_seen_ == 80 * len(y_train)
    assert clf.loss_curve_[-50:].mean() < 0.7 * clf.loss_curve_[:50].mean()
    assert clf.score(X_test, y_test) > 0.9


def test_partial_fit_rules(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[1\] that are not in classes"):
        clf.partial_fit(X, y, classes=[0, 7])
    assert not hasattr(clf, "classes_")
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    assert clf.n_samples_seen_ == 100
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_samples_seen_ == 200
    clf.set_params(max_iter=100).fit(X[:150], y[:150]).partial_fit(X[150:], y[150:])
    assert clf.n_samples_seen_ == 150 + 50  # the fit's rows, then the chunk's
    with pytest.raises(ValueError, match="differs from the classes of the previous calls"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    # partial_fit after fit continues the fitted posterior.
    fitted = BayesianMLPClassifier(**SHORT).fit(X, y)
    fitted.partial_fit(X, y)
    assert fitted.n_iter_ == 501  # a full batch of 200 rows is one iteration


def hold_out(clf, X, y, stratify=True):
    """The rows an early-stopping fit held out, rebuilt from its random_state as fit draws them."""
    *_, split_seed = check_random_state(clf.random_state).randint(np.iinfo(np.int32).max, size=4)
    _, X_val, _, y_val = train_test_split(
        X,
        y,
        test_size=clf.validation_fraction,
        stratify=y if stratify else None,
        random_state=split_seed,
    )
    return X_val, y_val


def validation_loss(clf, X_val, y_val):
    """Log loss of ``(X_val, y_val)`` under the fitted posterior, with the monitor's draws."""
    with_monitor_draws = copy.deepcopy(clf).set_params(
        n_draws=min(clf.n_draws, EARLY_STOPPING_DRAWS)
    )
    return log_loss(y_val, with_monitor_draws.predict_proba(X_val), labels=clf.classes_)


def test_early_stopping_keeps_the_posterior_that_scored_best_on_the_held_out_rows(seed_split):
    X_train, X_test, y_train, y_test = seed_split
    clf = BayesianMLPClassifier(
        hidden_layer_sizes=(8,),
        n_draws=100,
        random_state=0,
        early_stopping=True,
        validation_fraction=0.2,
    ).fit(X_train, y_train)
    assert clf.n_iter_ < clf._max_iter(None)  # max_iter="auto": 20,000
    assert len(clf.validation_loss_) == clf.n_iter_ // 100
    # The fit stopped n_iter_no_change checks after its best: the last posterior is not it.
    assert clf.validation_loss_[-1] > clf.best_validation_loss_ + 1e-4
    X_val, y_val = hold_out(clf, X_train, y_train)
    assert len(y_val) == 100 and clf.n_samples_seen_ == 400  # fitted on the other 80 %
    np.testing.assert_allclose(
        validation_loss(clf, X_val, y_val), clf.best_validation_loss_, rtol=1e-10
    )
    # The rows that match are the stratified hold-out, not another draw of 100 rows.
    X_other, y_other = hold_out(clf, X_train, y_train, stratify=False)
    assert not np.isclose(validation_loss(clf, X_other, y_other), clf.best_validation_loss_)
    assert clf.score(X_test, y_test) > 0.93
    plain = BayesianMLPClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X_train, y_train)
    assert plain.validation_loss_ is None and plain.best_validation_loss_ is None


def test_the_engine_keeps_the_best_posterior_of_the_monitor(moons):
    X, y = moons
    arch = Architecture(2, (4,), "relu", 1, "advi", None, "bernoulli")
    n_params = 2 * 4 + 4 + 4 + 1
    scores = iter([5.0, 3.0, 4.0, 4.0, 4.0, 4.0])
    seen = []

    def monitor(posterior):
        seen.append(posterior)
        return next(scores)

    with ENGINES.engine(arch) as engine:
        result = engine.fit(
            arch,
            X,
            y.astype(np.int32),
            sample_weight=np.ones(len(y)),
            total_size=len(y),
            prior_scale=1.0,
            learning_rate=0.01,
            init=Posterior(np.zeros(n_params), np.full(n_params, 0.1)),
            seed=0,
            max_iter=10_000,
            tol=1e-3,
            n_iter_no_change=4,
            monitor=monitor,
        )
    # Stopped after four checks without improvement on 3.0, and kept the posterior that scored it.
    assert len(result.losses) == 600 and result.converged
    np.testing.assert_array_equal(result.validation_losses, [5.0, 3.0, 4.0, 4.0, 4.0, 4.0])
    np.testing.assert_array_equal(result.posterior.mean, seen[1].mean)
    assert not np.array_equal(result.posterior.mean, seen[-1].mean)


def test_partial_fit_scales_the_likelihood_to_total_size(moons):
    """The negative ELBO of a step is KL - total_size / batch * (the batch's weighted
    log-likelihood): with the same seed (so the same start, noise and rows), the first
    step's loss is affine in total_size, rising with it; without total_size the first
    chunk stands for the rows seen so far."""
    X, y = moons
    settings = {**FAST, "batch_size": 25}
    chunk = slice(0, 100)

    def first_loss(total_size):
        clf = BayesianMLPClassifier(**settings)
        clf.partial_fit(X[chunk], y[chunk], classes=[0, 1], total_size=total_size)
        return float(clf.loss_curve_[0])

    losses = {size: first_loss(size) for size in (100, 400, 1000)}
    slope = (losses[400] - losses[100]) / 300
    assert slope > 0.01  # the batch's log-likelihood per row is about -0.7 at the start
    assert losses[1000] == pytest.approx(losses[100] + 900 * slope, rel=1e-5)
    assert first_loss(None) == pytest.approx(losses[100], rel=1e-6)
    # Later chunks without total_size: all rows seen so far, the same as passing it.
    by_default, explicit = BayesianMLPClassifier(**settings), BayesianMLPClassifier(**settings)
    for seen, rows in ((100, slice(0, 100)), (200, slice(100, 200))):
        by_default.partial_fit(X[rows], y[rows], classes=[0, 1])
        explicit.partial_fit(X[rows], y[rows], classes=[0, 1], total_size=seen)
    np.testing.assert_array_equal(by_default.loss_curve_, explicit.loss_curve_)
    chunk_only = BayesianMLPClassifier(**settings)
    for rows in (slice(0, 100), slice(100, 200)):
        chunk_only.partial_fit(X[rows], y[rows], classes=[0, 1], total_size=100)
    assert not np.allclose(chunk_only.loss_curve_[4:], by_default.loss_curve_[4:], rtol=1e-3)
