"""Stock PyMC ADVI, the reference the compiled engine is measured against.

``StockBayesianMLPClassifier`` is the estimator with every fit run the way a notebook runs
it: build the PyMC model, then ``pm.ADVI(...).fit`` from the engine's starting point with
the same Adam step. ``benchmarks/speed.py`` times it. ``stock_step_advi`` calls the step
function that ``pm.fit`` builds and calls once per iteration, with its random generator
seeded as the engine seeds its own, so that the two can be compared loss for loss (the
test suite does). ``plain_seed_fit`` is the origin notebook's own model under ``pm.fit``.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pymc as pm
from pymc.data import MinibatchOp
from pytensor.graph import ancestors
from pytensor.tensor.random.type import RandomGeneratorType

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn._inference import ADVIResult, Posterior
from bnn_sklearn._likelihoods import LIKELIHOODS
from bnn_sklearn._network import build_network, parameter_names
from bnn_sklearn._posterior import unflatten_layers


def stock_inference(
    arch, X, y, *, sample_weight, total_size, prior_scale, init, random_seed=None
) -> pm.ADVI:
    """A fresh PyMC model of ``arch`` on ``(X, y)`` and stock ``pm.ADVI`` starting at ``init``.

    Mean-field ADVI only: ``arch.method`` is not consulted.

    Parameters
    ----------
    arch : Architecture
        The network.
    X, y, sample_weight : ndarray
        Training data (``y`` as class codes) and row weights.
    total_size : int
        Rows the likelihood is scaled to.
    prior_scale : float
        Standard deviation of the weights' prior.
    init : Posterior
        Starting means and standard deviations, in the estimator's flat layout.
    random_seed : int or None
        Passed to ``pm.ADVI``.

    Returns
    -------
    inference : pymc.ADVI
        Not fitted yet.
    """
    if LIKELIHOODS[arch.likelihood].extra_parameters:
        raise ValueError("The stock reference starts networks without extra parameters only.")
    network = build_network(arch)
    network.set_data(network.data(X, y, sample_weight, total_size, prior_scale))
    weights, biases = unflatten_layers(init.mean, arch.layer_sizes)
    start = {f"w_{i}": w for i, w in enumerate(weights)} | {
        f"b_{i}": b for i, b in enumerate(biases)
    }
    # PyMC copies each sd into its variable's slice of the flat vector: pass them flat.
    weight_std, bias_std = unflatten_layers(init.std, arch.layer_sizes)
    start_sigma = {f"w_{i}": s.ravel() for i, s in enumerate(weight_std)} | {
        f"b_{i}": s for i, s in enumerate(bias_std)
    }
    with network.model:
        return pm.ADVI(start=start, start_sigma=start_sigma, random_seed=random_seed)


def _result(arch, inference, losses, total_size, n_rows) -> ADVIResult:
    """The fitted posterior in the estimator's layout, losses on the full-data scale."""
    approx = inference.approx
    ordering = approx.groups[0].ordering
    index = np.r_[tuple(ordering[name][1] for name in parameter_names(arch.graph_key))]
    # PyMC divides the loss by total_size / rows per step; undo it, as the engine does.
    scale = total_size / (n_rows if arch.batch_size is None else arch.batch_size)
    return ADVIResult(
        Posterior(approx.mean.eval()[index], approx.std.eval()[index]),
        np.asarray(losses) * scale,
        converged=True,
    )


def stock_advi(
    arch,
    X,
    y,
    *,
    sample_weight,
    total_size,
    prior_scale,
    learning_rate,
    init,
    seed,
    max_iter,
    tol,
    n_iter_no_change,
    monitor=None,
    verbose=False,
) -> ADVIResult:
    """Build the model afresh and run stock ``pm.fit`` from the engine's starting point.

    Takes the arguments of ``CompiledADVI.fit``; ``seed`` goes to ``pm.ADVI``, which derives
    other random streams from it than the engine does, so the losses agree in distribution,
    not draw by draw. Stock ``pm.fit`` runs exactly ``max_iter`` iterations: a stopping
    rule (``tol``) or a monitor is refused, not silently dropped.
    """
    if tol is not None or monitor is not None:
        raise ValueError("The stock reference runs with tol=None and no early stopping only.")
    inference = stock_inference(
        arch,
        X,
        y,
        sample_weight=sample_weight,
        total_size=total_size,
        prior_scale=prior_scale,
        init=init,
        random_seed=seed,
    )
    with inference.approx.model:
        inference.fit(
            max_iter, obj_optimizer=pm.adam(learning_rate=learning_rate), progressbar=False
        )
    return _result(arch, inference, inference.hist, total_size, len(X))


def stock_step_advi(
    arch,
    X,
    y,
    *,
    sample_weight,
    total_size,
    prior_scale,
    learning_rate,
    init,
    seed,
    max_iter,
) -> ADVIResult:
    """Call ``max_iter`` times the ADVI step function that ``pm.fit`` builds and iterates.

    The step's random generators are seeded as ``CompiledADVI`` seeds its own
    (``numpy.random.SeedSequence(seed).spawn``, the noise's generator first, then the
    minibatch rows'), so the engine given the same arguments must reproduce these losses
    and this posterior up to round-off.
    """
    inference = stock_inference(
        arch,
        X,
        y,
        sample_weight=sample_weight,
        total_size=total_size,
        prior_scale=prior_scale,
        init=init,
    )
    with inference.approx.model:
        step = inference.objective.step_function(
            obj_optimizer=pm.adam(learning_rate=learning_rate), score=True
        )
    model = inference.approx.model
    minibatch_rngs = {
        var.owner.inputs[-1]
        for var in ancestors(model.observed_RVs + list(model.rvs_to_values.values()))
        if var.owner is not None and isinstance(var.owner.op, MinibatchOp)
    }
    generators = sorted(
        (v for v in step.get_shared() if isinstance(v.type, RandomGeneratorType)),
        key=lambda generator: generator in minibatch_rngs,
    )
    for generator, child in zip(generators, np.random.SeedSequence(seed).spawn(len(generators))):
        generator.set_value(np.random.default_rng(child))
    losses = [float(step()) for _ in range(max_iter)]
    return _result(arch, inference, losses, total_size, len(X))


class StockBayesianMLPClassifier(BayesianMLPClassifier):
    """The estimator with stock ``pm.fit`` (fresh model and compile per fit) as its engine."""

    def _run_advi(self, arch, X, y, **settings):
        return stock_advi(arch, X, y, **settings)


def plain_seed_fit(X, y, *, batch_size, n_iter, learning_rate=0.01, seed=0) -> ADVIResult:
    """The origin notebook's own model under stock ``pm.fit``, as a user's notebook runs it.

    Two hidden layers of 5 tanh units, no biases, ``Normal(0, 1)`` weights started at
    standard-normal values, ``pm.Bernoulli`` on the sigmoid, ``pm.Minibatch`` when
    ``batch_size`` is set; mean-field ADVI with the engine's Adam step. The model is built
    and ``pm.fit`` compiles its step function at every call.
    """
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1], 5, 5]
    with pm.Model():
        y = np.asarray(y, dtype=np.int32)  # PyMC casts observed integers to int32
        X_obs, y_obs = (X, y) if batch_size is None else pm.Minibatch(X, y, batch_size=batch_size)
        hidden = X_obs
        for i, (n_in, n_out) in enumerate(pairwise(sizes)):
            weights = pm.Normal(
                f"w_{i}", 0.0, 1.0, shape=(n_in, n_out), initval=rng.normal(size=(n_in, n_out))
            )
            hidden = pm.math.tanh(pm.math.dot(hidden, weights))
        weights_out = pm.Normal("w_out", 0.0, 1.0, shape=(5,), initval=rng.normal(size=5))
        pm.Bernoulli(
            "out",
            pm.math.sigmoid(pm.math.dot(hidden, weights_out)),
            observed=y_obs,
            total_size=len(y),
        )
        approx = pm.fit(
            n_iter,
            method="advi",
            obj_optimizer=pm.adam(learning_rate=learning_rate),
            random_seed=seed,
            progressbar=False,
        )
    return ADVIResult(Posterior(approx.mean.eval(), approx.std.eval()), approx.hist, converged=True)
