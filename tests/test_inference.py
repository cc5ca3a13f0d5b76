"""The compiled ADVI engine: reuse without recompiling, chunking, reproducibility."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytensor.tensor as pt
import pytest
from pytensor.graph import ancestors
from pytensor.scan.op import Scan
from pytensor.tensor.random.op import RandomVariable, RandomVariableWithCoreShape

from bnn_sklearn import BayesianMLPClassifier, _families, _inference, _posterior
from bnn_sklearn._inference import ENGINES
from bnn_sklearn._network import Architecture
from bnn_sklearn._posterior import Posterior, n_parameters

from .conftest import FAST
from .stock import stock_step_advi


def test_a_new_dataset_of_another_size_reuses_the_compiled_engine(moons):
    X, y = moons
    BayesianMLPClassifier(**{**FAST, "max_iter": 100}).fit(X, y)
    builds = ENGINES.builds
    for rows, prior_scale, learning_rate in [(120, 0.5, 0.02), (77, 2.0, 0.005)]:
        BayesianMLPClassifier(
            **{**FAST, "max_iter": 100}, prior_scale=prior_scale, learning_rate=learning_rate
        ).fit(X[:rows], y[:rows])
    assert ENGINES.builds == builds


def test_a_fresh_engine_and_a_reused_one_give_the_same_fit(moons):
    X, y = moons
    ENGINES.clear()
    fresh = BayesianMLPClassifier(**FAST, batch_size=32).fit(X, y)
    # Fit something else with the same engine so its state is dirty, then refit.
    BayesianMLPClassifier(**{**FAST, "random_state": 5}, batch_size=32).fit(X[:50], y[:50])
    reused = BayesianMLPClassifier(**FAST, batch_size=32).fit(X, y)
    np.testing.assert_array_equal(fresh.loss_curve_, reused.loss_curve_)
    np.testing.assert_array_equal(fresh.predict_proba(X), reused.predict_proba(X))


@pytest.mark.parametrize("batch_size", [None, 32])
@pytest.mark.parametrize("limit", ["CHECK_INTERVAL", "DRAWS_PER_CALL"])
def test_iterations_per_call_do_not_change_the_result(moons, monkeypatch, batch_size, limit):
    """Each call draws its iterations' noise and rows ahead: fewer iterations per call
    (a shorter check interval, or a big network's cap on the numbers drawn ahead) must
    give the same draws to the same iterations."""
    X, y = moons
    settings = {**FAST, "max_iter": 450, "batch_size": batch_size}
    reference = BayesianMLPClassifier(**settings).fit(X, y)
    # 7 iterations per call; FAST's network on moons has 33 parameters.
    monkeypatch.setattr(_inference, limit, 7 if limit == "CHECK_INTERVAL" else 7 * 33 + 5)
    chunked = BayesianMLPClassifier(**settings).fit(X, y)
    # The loss curve is stored as float32: equal up to its last place.
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(chunked.loss_curve_, reference.loss_curve_, rtol=eps)
    np.testing.assert_allclose(chunked.coefs_mean_[0], reference.coefs_mean_[0], rtol=1e-12)


def test_the_fit_learns(moons):
    """The Monte-Carlo noise must advance between iterations, or ADVI stalls."""
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X, y)
    curve = clf.loss_curve_
    assert len(np.unique(curve)) == len(curve)
    assert curve[-100:].mean() < 0.7 * curve[:100].mean()


@pytest.mark.filterwarnings("ignore:PyTensor could not link to a BLAS:UserWarning")
@pytest.mark.parametrize("batch_size", [None, 37])
def test_the_engine_runs_the_objective_and_optimiser_of_pm_fit(moons, batch_size):
    """Loss for loss, the engine reproduces the step function that ``pm.fit`` iterates
    (whose minibatch rows and noise are drawn inside each step; the engine's ahead of
    each call)."""
    X, y = moons
    arch = Architecture(2, (8,), "relu", 1, "advi", batch_size, "bernoulli")
    n_params = n_parameters(arch.layer_sizes)
    rng = np.random.default_rng(0)
    settings = dict(
        sample_weight=rng.uniform(0.5, 2.0, size=len(y)),
        total_size=len(y),
        # Not the values the engine was built with: they must reach the compiled step.
        prior_scale=1.5,
        learning_rate=0.02,
        init=Posterior(rng.normal(scale=0.5, size=n_params), rng.uniform(0.02, 0.1, n_params)),
        seed=3,
        max_iter=200,
    )
    reference = stock_step_advi(arch, X, y.astype(np.int32), **settings)
    with ENGINES.engine(arch) as engine:
        result = engine.fit(arch, X, y.astype(np.int32), tol=None, n_iter_no_change=10, **settings)
    assert reference.losses[-20:].mean() < 0.8 * reference.losses[:20].mean()  # it moved
    np.testing.assert_allclose(result.losses, reference.losses, rtol=1e-9)
    np.testing.assert_allclose(result.posterior.mean, reference.posterior.mean, rtol=1e-9)
    np.testing.assert_allclose(result.posterior.std, reference.posterior.std, rtol=1e-9)


def test_the_model_builder_and_prediction_share_their_tables_keys():
    """Each likelihood and activation has both its PyTensor and its NumPy side."""
    from bnn_sklearn import _likelihoods, _network

    assert _network.LOG_DENSITIES.keys() == _likelihoods.LIKELIHOODS.keys()
    assert _network.ACTIVATIONS.keys() == _posterior.ACTIVATIONS.keys()


@pytest.mark.parametrize("method", sorted(_families.FAMILIES))
def test_each_family_draws_in_pytensor_as_it_samples_in_numpy(method):
    """pack and unpack are inverse; the engine's draw and prediction's sample agree; the
    samples have the posterior's standard deviations and the draw its log-determinant."""
    family = _families.FAMILIES[method]
    rng = np.random.default_rng(0)
    mean = rng.normal(size=5)
    size = family.pack(Posterior(mean, np.ones(5))).size
    packed = rng.normal(size=size)  # a full-rank factor with correlations
    posterior = family.unpack(mean, packed)
    assert _families.family_of(posterior) is family
    np.testing.assert_allclose(family.pack(posterior), packed, rtol=1e-10, atol=1e-10)
    eps = rng.standard_normal(5)
    z, log_diag = family.draw(pt.as_tensor(mean), pt.as_tensor(packed), pt.as_tensor(eps), 5)
    np.testing.assert_allclose(z.eval(), family.sample(posterior, eps[None])[0], rtol=1e-12)
    # Both families are linear in the noise: z = mean + eps @ M, covariance M.T @ M.
    M = family.sample(posterior, np.eye(5)) - mean
    covariance = M.T @ M
    np.testing.assert_allclose(np.sqrt(np.diag(covariance)), posterior.std, rtol=1e-12)
    _, logdet = np.linalg.slogdet(covariance)
    assert np.sum(log_diag.eval()) == pytest.approx(0.5 * logdet, rel=1e-10)


@pytest.mark.parametrize("x", [0.01, 0.05, 1.0, 30.0])
def test_softplus_inverse(x):
    assert _posterior.softplus(_posterior.softplus_inverse(x)) == pytest.approx(x)


def test_lower_factor_reproduces_the_covariance():
    rows = np.random.default_rng(0).normal(size=(6, 6))
    factor = _families._lower_factor(rows)
    np.testing.assert_allclose(factor @ factor.T, rows @ rows.T, atol=1e-12)
    np.testing.assert_array_equal(factor, np.tril(factor))
    assert np.all(np.diag(factor) > 0)


def test_pool_keeps_the_most_recently_used_engines():
    pool = _inference._EnginePool(size=2, build=lambda arch: object())
    for arch in ("a", "b", "a", "c"):
        with pool.engine(arch):
            pass
    assert pool.builds == 3
    with pool.engine("a"):
        pass
    assert pool.builds == 3  # "a" was used after "b", so "b" was dropped
    with pool.engine("b"):
        pass
    assert pool.builds == 4


def test_pool_hands_one_engine_to_one_fit_at_a_time():
    pool = _inference._EnginePool(size=4, build=lambda arch: object())
    with pool.engine("a") as first, pool.engine("a") as second:
        assert first is not second
    with pool.engine("a") as again:
        assert again in (first, second)


def test_concurrent_fits_in_threads_match_serial_fits(moons):
    X, y = moons
    settings = {**FAST, "max_iter": 300}
    seeds = [0, 1]
    serial = [
        BayesianMLPClassifier(**settings | {"random_state": s}).fit(X, y).predict_proba(X)
        for s in seeds
    ]
    with ThreadPoolExecutor(max_workers=2) as threads:
        fitted = list(
            threads.map(
                lambda s: BayesianMLPClassifier(**settings | {"random_state": s}).fit(X, y),
                seeds,
            )
        )
    for clf, expected in zip(fitted, serial):
        np.testing.assert_array_equal(clf.predict_proba(X), expected)


def test_loss_give_back_measures_how_far_the_loss_fell_back_from_its_best():
    windows = _inference.CHECK_INTERVAL
    falling = np.repeat([100.0, 50.0, 20.0, 10.0], windows)
    assert _inference.loss_give_back(falling) == 0.0
    # Back halfway from the best window (10) to the first (100), with one huge spike.
    halfway = np.repeat([100.0, 10.0, 55.0], windows)
    halfway[-1] = 1e12
    assert _inference.loss_give_back(halfway) == pytest.approx(0.5)
    assert _inference.loss_give_back(np.repeat([100.0, 10.0, 300.0], windows)) > 1
    assert _inference.loss_give_back(np.repeat([5.0, 9.0], windows)) == np.inf
    assert _inference.loss_give_back(falling[: windows + 5]) == 0.0
    # Windows end at the last iteration: 30 iterations at 55 before the curve above.
    assert _inference.loss_give_back(np.r_[np.full(30, 55.0), falling]) == 0.0


@pytest.mark.parametrize("method", ["advi", "fullrank_advi"])
def test_networks_of_one_depth_share_one_compiled_function(moons, three_blobs, method):
    """Other widths, features or classes: the same engine and compiled function."""
    X, y = moons
    ENGINES.clear()
    builds = ENGINES.builds
    settings = {**FAST, "max_iter": 100, "method": method}
    BayesianMLPClassifier(**settings).fit(X, y)
    arch = Architecture(2, (8,), "relu", 1, method, None, "bernoulli")
    with ENGINES.engine(arch) as engine:
        compiled = engine._run
    BayesianMLPClassifier(**settings | {"hidden_layer_sizes": (13,)}).fit(X, y)
    BayesianMLPClassifier(**settings | {"hidden_layer_sizes": (5,)}).fit(np.c_[X, X], y)
    assert ENGINES.builds == builds + 1
    with ENGINES.engine(replace(arch, n_features=3, hidden_layer_sizes=(4,))) as again:
        assert again is engine and again._run is compiled
    # Three classes and then four: one more engine (another likelihood), not two.
    X3, y3 = three_blobs
    BayesianMLPClassifier(**settings).fit(X3, y3)
    four_classes = np.arange(len(y3)) % 4
    BayesianMLPClassifier(**settings | {"hidden_layer_sizes": (6,)}).fit(X3, four_classes)
    assert ENGINES.builds == builds + 2


@pytest.mark.parametrize("batch_size", [None, 32])
def test_a_fit_does_not_depend_on_the_networks_fitted_before_it(moons, monkeypatch, batch_size):
    X, y = moons
    settings = {**FAST, "hidden_layer_sizes": (13,), "batch_size": batch_size}
    with monkeypatch.context() as patched:
        patched.setattr(_inference, "ENGINES", _inference._EnginePool(size=1))
        alone = BayesianMLPClassifier(**settings).fit(X, y)
    # The pooled engine has just fitted a wider network, on more features, with another seed.
    BayesianMLPClassifier(**settings | {"hidden_layer_sizes": (21,), "random_state": 3}).fit(
        np.c_[X, X[:, :1]], y
    )
    after_others = BayesianMLPClassifier(**settings).fit(X, y)
    np.testing.assert_array_equal(after_others.loss_curve_, alone.loss_curve_)
    np.testing.assert_array_equal(after_others.predict_proba(X), alone.predict_proba(X))
    assert after_others.score(X, y) > 0.85  # and it learned


def test_a_warm_start_continues_after_other_widths_used_the_engine(moons):
    X, y = moons
    settings = {**FAST, "max_iter": 500, "warm_start": True}
    twice = BayesianMLPClassifier(**settings).fit(X, y).fit(X, y)
    interrupted = BayesianMLPClassifier(**settings).fit(X, y)
    BayesianMLPClassifier(**settings | {"hidden_layer_sizes": (3,)}).fit(X[:50], y[:50])
    interrupted.fit(X, y)
    np.testing.assert_array_equal(interrupted.loss_curve_, twice.loss_curve_)
    for name in ("coefs_mean_", "coefs_std_"):
        for a, b in zip(getattr(interrupted, name), getattr(twice, name)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_size", [None, 32])
def test_the_loop_holds_no_random_number_op(batch_size):
    """Each call draws its iterations' noise and minibatch rows before its loop (the C
    backend runs random-number ops in Python, copying the generator every time)."""
    arch = Architecture(2, (8,), "relu", 1, "advi", batch_size, "bernoulli")
    with ENGINES.engine(arch) as engine:
        nodes = engine._run.maker.fgraph.apply_nodes
    (loop,) = [node.op for node in nodes if isinstance(node.op, Scan)]
    in_loop = [var.owner.op for var in ancestors(loop.inner_outputs) if var.owner is not None]
    # The Numba backend wraps each draw in a RandomVariableWithCoreShape.
    draws = (RandomVariable, RandomVariableWithCoreShape)
    assert not any(isinstance(op, draws) for op in in_loop)
    n_draws = sum(isinstance(node.op, draws) for node in nodes)
    assert n_draws == 1 + (batch_size is not None)


def give_back(losses, window=100):
    """How far the loss fell back (the user guide's definition): 0 when the last window of
    100 iterations is as low as the best window, 1 when back at the first window's level,
    windows ending at the last iteration and scored by their median."""
    n = len(losses) // window
    medians = np.median(np.asarray(losses[len(losses) - n * window :]).reshape(n, window), axis=1)
    return (medians[-1] - medians.min()) / (medians[0] - medians.min())


def test_a_loss_given_back_by_more_than_a_fifth_warns(moons):
    """A warm start of 100 iterations on the same rows at weight w > 1 ends above the best
    loss of the first fit, more so the larger w (measured give-back: 0, 0.37 and 0.75 for
    w = 1, 2, 3): the fit warns exactly when more than 0.2 was given back."""
    X, y = moons
    first = pickle.dumps(
        BayesianMLPClassifier(**FAST, warm_start=True).set_params(max_iter=1000).fit(X, y)
    )
    seen = []
    for w in (1.0, 2.0, 3.0):
        clf = pickle.loads(first).set_params(max_iter=100)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            clf.fit(X, y, sample_weight=np.full(len(y), w))
        unstable = [r for r in record if "ADVI was unstable" in str(r.message)]
        fell_back = give_back(clf.loss_curve_)
        seen.append(fell_back)
        assert bool(unstable) == (fell_back > 0.2), (w, fell_back)
        if unstable:
            assert f"{fell_back:.0%} of the way back from its best point" in str(
                unstable[0].message
            )
    assert seen[0] < 0.2 and all(0.2 < g < 0.9 for g in seen[1:]), seen


@pytest.mark.parametrize("batch_size", [None, 32])
def test_engines_compile_with_numba_on_both_lines_but_minibatches_on_pytensor_2(batch_size):
    """PyTensor 2's default C backend runs without BLAS after a pip install: full-batch
    engines take its Numba backend; its Numba backend cannot compile minibatches."""
    arch = Architecture(2, (8,), "relu", 1, "advi", batch_size, "bernoulli")
    with ENGINES.engine(arch) as engine:
        linker = type(engine._run.maker.linker).__name__
    numba_expected = _inference._PYTENSOR_MAJOR >= 3 or batch_size is None
    assert ("Numba" in linker) == numba_expected, linker


@pytest.mark.parametrize("batch_size", [None, 32])
def test_the_compiled_engine_holds_none_of_pymcs_parameter_checks(batch_size):
    """The checks are taken out of the graph before compiling (a diverged fit gives a NaN
    loss, not an error), not by a PyMC rewrite named in the engine's mode: a loaded engine
    runs without PyMC."""
    from pymc.logprob.utils import CheckParameterValue

    arch = Architecture(2, (8,), "relu", 1, "advi", batch_size, "bernoulli")
    with ENGINES.engine(arch) as engine:
        fgraph = engine._run.maker.fgraph
    (scan,) = [node.op for node in fgraph.apply_nodes if isinstance(node.op, Scan)]
    ops = [node.op for graph in (fgraph, scan.fgraph) for node in graph.apply_nodes]
    assert not any(isinstance(op, CheckParameterValue) for op in ops)
    assert "local_remove_check_parameter" not in engine._run.maker.mode.provided_optimizer.include
