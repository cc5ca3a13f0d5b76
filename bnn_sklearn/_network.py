"""The PyMC model of a Bayesian multilayer perceptron."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt

ACTIVATIONS = {
    "tanh": pt.tanh,
    "relu": lambda z: pt.maximum(z, 0.0),
    "logistic": pt.sigmoid,
    "identity": lambda z: z,
}


@dataclass(frozen=True)
class Architecture:
    """What fixes the shape of the PyMC graph; equal architectures share a compiled engine.

    ``batch_size`` is None for full-batch ADVI. ``n_outputs`` is 1 for a binary problem
    (a Bernoulli on one logit) and the number of classes otherwise (a Categorical).
    """

    n_features: int
    hidden_layer_sizes: tuple[int, ...]
    activation: str
    n_outputs: int
    method: str
    batch_size: int | None

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.n_features, *self.hidden_layer_sizes, self.n_outputs)


def parameter_names(n_layers: int) -> list[str]:
    """Names of the model's free variables, weights then bias of each layer in order."""
    return [name for i in range(n_layers) for name in (f"w_{i}", f"b_{i}")]


@dataclass
class NetworkModel:
    """A PyMC model whose data, weights and scales are shared variables, set before each fit.

    ``sample_weight`` multiplies each row's log-likelihood; ``total_size`` is the number of
    rows the likelihood is scaled to (PyMC's ``total_size``): the rows of ``X`` for ``fit``,
    the whole stream's for ``partial_fit``.
    """

    model: pm.Model
    X: pytensor.compile.SharedVariable
    y: pytensor.compile.SharedVariable
    sample_weight: pytensor.compile.SharedVariable
    total_size: pytensor.compile.SharedVariable
    prior_scale: pytensor.compile.SharedVariable

    def data(self, X, y, sample_weight, total_size, prior_scale) -> dict[str, np.ndarray]:
        """The values of the shared variables for a fit, by the variables' names."""
        return {
            "X": X,
            "y": y,
            "sample_weight": sample_weight,
            "total_size": np.int64(total_size),
            "prior_scale": np.float64(prior_scale),
        }

    def set_data(self, values: dict[str, np.ndarray]) -> None:
        """Set the shared variables from :meth:`data`'s values."""
        for name, value in values.items():
            getattr(self, name).set_value(value)

    def clear_data(self) -> None:
        """Drop the caller's data (placeholders of the right rank), so a pooled model does
        not keep it alive."""
        self.X.set_value(np.zeros((2, self.X.get_value().shape[1])))
        self.y.set_value(np.zeros(2, dtype="int32"))
        self.sample_weight.set_value(np.ones(2))


def build_network(arch: Architecture) -> NetworkModel:
    """Build the Bayesian MLP for ``arch``: Normal priors, tanh/relu/... hidden layers.

    The training data enter as shared variables, so one compiled graph serves any
    dataset with ``arch.n_features`` columns. The likelihood is always scaled to the shared
    ``total_size`` (a factor of 1 for a full batch of ``total_size`` rows), so the same
    graph serves ``fit`` and the streaming of ``partial_fit``.
    """
    X = pytensor.shared(np.zeros((2, arch.n_features)), name="X")
    y = pytensor.shared(np.zeros(2, dtype="int32"), name="y")
    sample_weight = pytensor.shared(np.ones(2), name="sample_weight")
    total_size = pytensor.shared(np.int64(2), name="total_size")
    prior_scale = pytensor.shared(np.float64(1.0), name="prior_scale")
    activation = ACTIVATIONS[arch.activation]
    sizes = arch.layer_sizes
    with pm.Model() as model:
        if arch.batch_size is None:
            X_obs, y_obs, weight_obs = X, y, sample_weight
        else:
            X_obs, y_obs, weight_obs = pm.Minibatch(X, y, sample_weight, batch_size=arch.batch_size)
        hidden = X_obs
        for i, (n_in, n_out) in enumerate(pairwise(sizes)):
            weights = pm.Normal(f"w_{i}", 0.0, prior_scale, shape=(n_in, n_out))
            bias = pm.Normal(f"b_{i}", 0.0, prior_scale, shape=(n_out,))
            hidden = pt.dot(hidden, weights) + bias
            if i < len(sizes) - 2:
                hidden = activation(hidden)
        if arch.n_outputs == 1:
            pm.CustomDist(
                "y_obs",
                hidden[:, 0],
                weight_obs,
                logp=bernoulli_logit_logp,
                observed=y_obs,
                total_size=[total_size],
            )
        else:
            pm.CustomDist(
                "y_obs",
                hidden,
                weight_obs,
                logp=categorical_logit_logp,
                signature="(k),()->()",
                observed=y_obs,
                total_size=[total_size],
            )
    return NetworkModel(
        model=model,
        X=X,
        y=y,
        sample_weight=sample_weight,
        total_size=total_size,
        prior_scale=prior_scale,
    )


# The likelihoods are Bernoulli(logit) and Categorical(softmax), written as log-sigmoid and
# log-softmax: pm.Bernoulli(logit_p=...) takes log(sigmoid(z)), which underflows to -inf for
# logits of a few hundred (unscaled inputs, ReLU units) and stops the fit at once.


def bernoulli_logit_logp(value, logit, weight):
    """Stable ``log Bernoulli(value | sigmoid(logit))``, times the row's weight."""
    return weight * (value * logit - pt.softplus(logit))


def categorical_logit_logp(value, logits, weight):
    """Stable ``log Categorical(value | softmax(logits))``, times the row's weight."""
    log_proba = pt.special.log_softmax(logits, axis=-1)
    chosen = pt.take_along_axis(log_proba, value[..., None].astype("int64"), axis=-1)[..., 0]
    return weight * chosen
