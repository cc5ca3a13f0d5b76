"""The PyMC model of a Bayesian multilayer perceptron."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pytensor
import pytensor.tensor as pt

if TYPE_CHECKING:
    import pymc

from ._likelihoods import LIKELIHOODS, noise_scale

#: The hidden layers' activations, by the names of :data:`bnn_sklearn._posterior.ACTIVATIONS`.
ACTIVATIONS = {
    "tanh": pt.tanh,
    "relu": lambda z: pt.maximum(z, 0.0),
    "logistic": pt.sigmoid,
    "identity": lambda z: z,
}


@dataclass(frozen=True)
class Architecture:
    """The network a fit builds: its layer sizes and what else shapes the PyMC graph.

    Equal architectures share NUTS's compiled model; ADVI's engines are shared by every
    architecture of one :attr:`graph_key` (all widths of a depth).

    ``batch_size`` is None for full-batch ADVI. ``likelihood`` names an entry of
    :data:`~bnn_sklearn._likelihoods.LIKELIHOODS`; ``n_outputs`` is the width of the
    network's last layer (1 for a Bernoulli logit or a Normal mean, the number of classes
    for a Categorical, 2 for a heteroscedastic Normal's mean and noise).
    """

    n_features: int
    hidden_layer_sizes: tuple[int, ...]
    activation: str
    n_outputs: int
    method: str
    batch_size: int | None
    likelihood: str

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.n_features, *self.hidden_layer_sizes, self.n_outputs)

    @property
    def graph_key(self) -> GraphKey:
        """What fixes the graph once the layer sizes are variables (see :class:`GraphKey`)."""
        return GraphKey(
            len(self.hidden_layer_sizes),
            self.activation,
            self.method,
            self.batch_size,
            self.likelihood,
        )


@dataclass(frozen=True)
class GraphKey:
    """An :class:`Architecture` without its layer sizes: what ADVI's engine is compiled for.

    The layer sizes (features, hidden units, outputs) enter that graph as shared integers,
    so architectures that differ only in them share one compiled function. The minibatch
    size stays a constant of the graph (PyMC's ``Minibatch`` takes an integer).
    """

    depth: int
    activation: str
    method: str
    batch_size: int | None
    likelihood: str


def parameter_names(key: GraphKey) -> list[str]:
    """Names of the model's free variables in the flat layout: weights then bias of each
    layer in order, then the likelihood's own parameters."""
    layers = [name for i in range(key.depth + 1) for name in (f"w_{i}", f"b_{i}")]
    return layers + list(LIKELIHOODS[key.likelihood].extra_parameters)


def parameter_shapes(layer_sizes, likelihood: str) -> list[tuple]:
    """Shapes of the free variables in :func:`parameter_names`' order, from layer sizes
    given as integers or as symbolic scalars."""
    layers = [shape for n_in, n_out in pairwise(layer_sizes) for shape in ((n_in, n_out), (n_out,))]
    return layers + [()] * len(LIKELIHOODS[likelihood].extra_parameters)


@dataclass
class NetworkModel:
    """A PyMC model whose data, weights and scales are shared variables, set before each fit.

    ``sample_weight`` multiplies each row's log-likelihood; ``total_size`` is the number of
    rows the likelihood is scaled to (PyMC's ``total_size``): the rows of ``X`` for ``fit``,
    the whole stream's for ``partial_fit``. ``layer_sizes`` holds the shared integers that
    size the layers when the model was built with ``shared_sizes=True`` (None otherwise;
    the last is a plain integer when the likelihood fixes the number of outputs).
    """

    model: pymc.Model | None  # None in an engine loaded from the cache
    X: pytensor.compile.SharedVariable
    y: pytensor.compile.SharedVariable
    sample_weight: pytensor.compile.SharedVariable
    total_size: pytensor.compile.SharedVariable
    prior_scale: pytensor.compile.SharedVariable
    layer_sizes: tuple[pytensor.compile.SharedVariable | int, ...] | None = None

    def set_layer_sizes(self, layer_sizes: tuple[int, ...]) -> None:
        """Size the layers (a model built with ``shared_sizes=True`` only)."""
        if self.layer_sizes is None or len(layer_sizes) != len(self.layer_sizes):
            raise ValueError(f"This model cannot take the layer sizes {layer_sizes}.")
        for var, size in zip(self.layer_sizes, layer_sizes):
            if isinstance(var, int) and var != size:
                raise ValueError(f"This model has {var} outputs, not {size}.")
            if not isinstance(var, int):
                var.set_value(np.int64(size))

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
        self.y.set_value(np.zeros(2, dtype=self.y.get_value().dtype))
        self.sample_weight.set_value(np.ones(2))


def build_network(arch: Architecture, *, shared_sizes: bool = False) -> NetworkModel:
    """Build the Bayesian MLP for ``arch``: Normal priors, tanh/relu/... hidden layers.

    The training data enter as shared variables, so one compiled graph serves any
    dataset with ``arch.n_features`` columns. The likelihood is always scaled to the shared
    ``total_size`` (a factor of 1 for a full batch of ``total_size`` rows), so the same
    graph serves ``fit`` and the streaming of ``partial_fit``. With ``shared_sizes`` the
    layer sizes are shared integers too (set with :meth:`NetworkModel.set_layer_sizes`):
    the graph then serves every architecture of ``arch.graph_key``.
    """
    import pymc as pm

    likelihood = LIKELIHOODS[arch.likelihood]
    X = pytensor.shared(np.zeros((2, arch.n_features)), name="X")
    y = pytensor.shared(np.zeros(2, dtype=likelihood.target_dtype), name="y")
    sample_weight = pytensor.shared(np.ones(2), name="sample_weight")
    total_size = pytensor.shared(np.int64(2), name="total_size")
    prior_scale = pytensor.shared(np.float64(1.0), name="prior_scale")
    activation = ACTIVATIONS[arch.activation]
    sizes = arch.layer_sizes
    if shared_sizes:
        *varying, n_outputs = sizes
        sizes = (
            *(pytensor.shared(np.int64(n), name=f"n_{i}") for i, n in enumerate(varying)),
            pytensor.shared(np.int64(n_outputs)) if likelihood.n_outputs is None else n_outputs,
        )
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
        extras = [
            pm.Normal(name, mean, sd)
            for name, (mean, sd) in zip(likelihood.extra_parameters, likelihood.extra_priors)
        ]
        pm.CustomDist(
            "y_obs",
            hidden,
            weight_obs,
            *extras,
            logp=LOG_DENSITIES[arch.likelihood],
            signature=likelihood.signature,
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
        layer_sizes=sizes if shared_sizes else None,
    )


# The likelihoods are Bernoulli(logit) and Categorical(softmax), written as log-sigmoid and
# log-softmax: pm.Bernoulli(logit_p=...) takes log(sigmoid(z)), which underflows to -inf for
# logits of a few hundred (unscaled inputs, ReLU units) and stops the fit at once. Each takes
# the network's outputs of a row, its weight and the likelihood's extra parameters.

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def bernoulli_logit_logp(value, outputs, weight):
    """Stable ``log Bernoulli(value | sigmoid(logit))``, times the row's weight."""
    logit = outputs[..., 0]
    return weight * (value * logit - pt.softplus(logit))


def categorical_logit_logp(value, logits, weight):
    """Stable ``log Categorical(value | softmax(logits))``, times the row's weight."""
    log_proba = pt.special.log_softmax(logits, axis=-1)
    chosen = pt.take_along_axis(log_proba, value[..., None].astype("int64"), axis=-1)[..., 0]
    return weight * chosen


def _normal_logp(value, mean, log_scale):
    return -0.5 * ((value - mean) * pt.exp(-log_scale)) ** 2 - log_scale - _HALF_LOG_2PI


def normal_logp(value, outputs, weight, log_noise):
    """``log Normal(value | output, exp(log_noise))``, times the row's weight."""
    return weight * _normal_logp(value, outputs[..., 0], log_noise)


def heteroscedastic_normal_logp(value, outputs, weight):
    """``log Normal(value | outputs[0], noise_scale(outputs[1]))``, weighted."""
    scale = noise_scale(outputs[..., 1], pt.softplus)
    return weight * _normal_logp(value, outputs[..., 0], pt.log(scale))


#: The PyTensor log density of each likelihood, by the names of ``LIKELIHOODS``.
LOG_DENSITIES = {
    "bernoulli": bernoulli_logit_logp,
    "categorical": categorical_logit_logp,
    "normal": normal_logp,
    "normal_heteroscedastic": heteroscedastic_normal_logp,
}
