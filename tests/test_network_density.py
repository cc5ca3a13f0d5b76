"""The PyMC model's log density at a point, against the same density written out by hand."""

from itertools import pairwise

import numpy as np
import pytest
from scipy.special import log_softmax, softplus
from scipy.stats import norm

from bnn_sklearn._network import Architecture, build_network

#: Not 1, so that a prior sd of 1, or of prior_scale squared, gives another density.
PRIOR_SCALE = 1.7
#: The regressor's log noise prior, Normal(-1, 1) (see BayesianMLPRegressor's docstring).
LOG_NOISE_PRIOR = (-1.0, 1.0)
MIN_NOISE_SCALE = 1e-3  # the heteroscedastic noise's floor (regressor docstring: 0.001)

#: likelihood: (network outputs, targets drawn for a row, has a log noise parameter)
LIKELIHOODS = {
    "bernoulli": (1, lambda rng, n: rng.integers(0, 2, n).astype(np.int32), False),
    "categorical": (3, lambda rng, n: rng.integers(0, 3, n).astype(np.int32), False),
    "normal": (1, lambda rng, n: rng.normal(size=n), True),
    "normal_heteroscedastic": (2, lambda rng, n: rng.normal(size=n), False),
}


def hand_written_log_likelihood(likelihood, outputs, y, log_noise):
    """Each row's log-likelihood from the network's outputs ``(rows, n_outputs)``."""
    if likelihood == "bernoulli":
        p = 1.0 / (1.0 + np.exp(-outputs[:, 0]))
        return np.where(y == 1, np.log(p), np.log1p(-p))
    if likelihood == "categorical":
        return log_softmax(outputs, axis=1)[np.arange(len(y)), y]
    if likelihood == "normal":
        return norm.logpdf(y, outputs[:, 0], np.exp(log_noise))
    scale = softplus(outputs[:, 1]) + MIN_NOISE_SCALE
    return norm.logpdf(y, outputs[:, 0], scale)


@pytest.mark.parametrize("total_factor", [1, 3])
@pytest.mark.parametrize("likelihood", list(LIKELIHOODS))
def test_log_density_is_the_priors_plus_the_weighted_likelihood(likelihood, total_factor):
    """log p(theta) + total_size / rows * sum_i w_i log p(y_i | theta, x_i), with every
    weight and bias ~ Normal(0, prior_scale) and a full batch of ``rows`` rows."""
    n_outputs, draw_targets, has_noise = LIKELIHOODS[likelihood]
    rng = np.random.default_rng(0)
    rows, layer_sizes = 40, (2, 5, 4, n_outputs)
    arch = Architecture(
        n_features=2,
        hidden_layer_sizes=(5, 4),
        activation="tanh",
        n_outputs=n_outputs,
        method="advi",
        batch_size=None,
        likelihood=likelihood,
    )
    network = build_network(arch)
    X, y = rng.normal(size=(rows, 2)), draw_targets(rng, rows)
    weight = rng.uniform(0.0, 3.0, size=rows)
    total_size = total_factor * rows
    network.set_data(network.data(X, y, weight, total_size, PRIOR_SCALE))

    point, prior = {}, 0.0
    hidden = X
    for i, (n_in, n_out) in enumerate(pairwise(layer_sizes)):
        w, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
        point[f"w_{i}"], point[f"b_{i}"] = w, b
        prior += norm.logpdf(w, 0.0, PRIOR_SCALE).sum() + norm.logpdf(b, 0.0, PRIOR_SCALE).sum()
        hidden = hidden @ w + b
        if i < len(layer_sizes) - 2:
            hidden = np.tanh(hidden)
    log_noise = None
    if has_noise:
        log_noise = -0.7
        point["log_noise"] = np.array(log_noise)
        prior += norm.logpdf(log_noise, *LOG_NOISE_PRIOR)
    log_likelihood = hand_written_log_likelihood(likelihood, hidden, y, log_noise)
    expected = prior + total_size / rows * np.sum(weight * log_likelihood)

    model = network.model
    assert sorted(point) == sorted(var.name for var in model.value_vars)
    got = model.compile_logp()(point)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("group_layers", [(0,), (1, 2), (0, 1, 2)])
def test_grouped_log_density_runs_each_row_through_its_groups_network(group_layers):
    """Group g's varying layer is population + spread * offsets[g] (weights and biases with
    a spread each); the spreads are half-normal, the offsets standard normal; the NumPy
    layout of the predict methods builds the same networks from the same flat vector."""
    from scipy.stats import halfnorm

    from bnn_sklearn._groups import GroupLayout
    from bnn_sklearn._network import GROUP_SCALE_PRIOR
    from bnn_sklearn._posterior import flatten_layers, unflatten_layers

    rng = np.random.default_rng(1)
    rows, n_groups, layer_sizes = 30, 3, (2, 5, 4, 1)
    arch = Architecture(2, (5, 4), "tanh", 1, "advi", None, "bernoulli", group_layers, n_groups)
    network = build_network(arch)
    X, y = rng.normal(size=(rows, 2)), rng.integers(0, 2, rows).astype(np.int32)
    groups = rng.integers(0, n_groups, rows)
    network.set_data(
        network.data(X, y, np.ones(rows), rows, PRIOR_SCALE, groups, n_groups=n_groups)
    )
    layout = GroupLayout(layer_sizes, group_layers, n_groups, n_extra=0)
    weights = [rng.normal(size=(a, b)) for a, b in pairwise(layer_sizes)]
    biases = [rng.normal(size=b) for b in layer_sizes[1:]]
    population = flatten_layers(weights, biases)
    scales = rng.uniform(0.2, 1.5, size=2 * len(group_layers))
    offsets = rng.normal(size=(n_groups, layout.n_offsets))

    log_likelihood = np.empty(rows)
    for g in range(n_groups):
        flat = layout.network(population[None], np.log(scales)[None], offsets[g][None])[0]
        group_weights, group_biases = unflatten_layers(flat, layer_sizes)
        hidden = X[groups == g]
        for i, (w, b) in enumerate(zip(group_weights, group_biases)):
            hidden = hidden @ w + b
            if i < 2:
                hidden = np.tanh(hidden)
        log_likelihood[groups == g] = hand_written_log_likelihood(
            "bernoulli", hidden, y[groups == g], None
        )
    prior = norm.logpdf(population, 0.0, PRIOR_SCALE).sum() + norm.logpdf(offsets).sum()
    # The spreads' density in the log space ADVI and the samplers work in (the Jacobian).
    prior += np.sum(halfnorm.logpdf(scales, scale=GROUP_SCALE_PRIOR) + np.log(scales))
    expected = prior + log_likelihood.sum()

    point = {f"w_{i}": w for i, w in enumerate(weights)} | {
        f"b_{i}": b for i, b in enumerate(biases)
    }
    point |= {"group_scale_log__": np.log(scales), "group_offsets": offsets}
    got = network.model.compile_logp()(point)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_an_informed_prior_gives_each_weight_its_own_normal():
    rng = np.random.default_rng(2)
    rows, layer_sizes = 20, (2, 3, 1)
    arch = Architecture(2, (3,), "relu", 1, "advi", None, "bernoulli", informed_prior=True)
    network = build_network(arch)
    X, y = rng.normal(size=(rows, 2)), rng.integers(0, 2, rows).astype(np.int32)
    mean, sd = rng.normal(size=13), rng.uniform(0.1, 2.0, size=13)
    network.set_data(network.data(X, y, np.ones(rows), rows, None, prior=(mean, sd)))
    point, hidden = {}, X
    for i, (n_in, n_out) in enumerate(pairwise(layer_sizes)):
        w, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
        point[f"w_{i}"], point[f"b_{i}"] = w, b
        hidden = hidden @ w + b
        if i == 0:
            hidden = np.maximum(hidden, 0.0)
    flat = np.r_[point["w_0"].ravel(), point["b_0"], point["w_1"].ravel(), point["b_1"]]
    expected = norm.logpdf(flat, mean, sd).sum()
    expected += hand_written_log_likelihood("bernoulli", hidden, y, None).sum()
    got = network.model.compile_logp()(point)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
