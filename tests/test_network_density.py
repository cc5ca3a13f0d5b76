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
