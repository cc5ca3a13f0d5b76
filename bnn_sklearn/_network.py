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

    ``group_layers`` lists the layers (0 for the first) whose weights and biases vary by
    group (empty: one network for every row); ``n_groups`` is the number of groups. ADVI's
    engine takes the number of groups as data (it is not in the :attr:`graph_key`); NUTS's
    compiled model is one per number of groups.

    ``informed_prior`` gives every weight and bias its own ``Normal(mean, sd)`` prior, the
    means and sds shared vectors set with the data (see
    :class:`~bnn_sklearn._priors.NetworkPrior`), in place of ``Normal(0, prior_scale)``.
    """

    n_features: int
    hidden_layer_sizes: tuple[int, ...]
    activation: str
    n_outputs: int
    method: str
    batch_size: int | None
    likelihood: str
    group_layers: tuple[int, ...] = ()
    n_groups: int = 0
    informed_prior: bool = False

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
            self.group_layers,
            self.informed_prior,
        )


@dataclass(frozen=True)
class GraphKey:
    """An :class:`Architecture` without its layer sizes: what ADVI's engine is compiled for.

    The layer sizes (features, hidden units, outputs) enter that graph as shared integers,
    so architectures that differ only in them share one compiled function. The minibatch
    size stays a constant of the graph (PyMC's ``Minibatch`` takes an integer), as do the
    layers that vary by group; the number of groups is a shared integer.
    """

    depth: int
    activation: str
    method: str
    batch_size: int | None
    likelihood: str
    group_layers: tuple[int, ...] = ()
    informed_prior: bool = False


#: Names of a grouped model's own free variables, after the likelihood's: the spreads
#: between groups of each varying layer's weights and of its biases, and every group's
#: standardised offsets.
GROUP_PARAMETERS = ("group_scale", "group_offsets")
#: Scale of the half-normal prior on each varying layer's spread between groups.
GROUP_SCALE_PRIOR = 1.0


def parameter_names(key: GraphKey) -> list[str]:
    """Names of the model's free variables in the flat layout: weights then bias of each
    layer in order, then the likelihood's own parameters, then (grouped models) the
    layers' spreads between groups and the groups' offsets."""
    layers = [name for i in range(key.depth + 1) for name in (f"w_{i}", f"b_{i}")]
    names = layers + list(LIKELIHOODS[key.likelihood].extra_parameters)
    return names + list(GROUP_PARAMETERS) if key.group_layers else names


def parameter_shapes(layer_sizes, likelihood: str, group_layers=(), n_groups=None) -> list[tuple]:
    """Shapes of the free variables in :func:`parameter_names`' order, from layer sizes
    (and number of groups) given as integers or as symbolic scalars."""
    layers = [shape for n_in, n_out in pairwise(layer_sizes) for shape in ((n_in, n_out), (n_out,))]
    shapes = layers + [()] * len(LIKELIHOODS[likelihood].extra_parameters)
    if group_layers:
        shapes += [
            (2 * len(group_layers),),
            (n_groups, group_offset_size(layer_sizes, group_layers)),
        ]
    return shapes


def group_offset_size(layer_sizes, group_layers):
    """Parameters of one group's offsets: the weights and biases of the varying layers
    (integers or symbolic scalars, as the layer sizes)."""
    sizes = list(pairwise(layer_sizes))
    return sum(sizes[i][0] * sizes[i][1] + sizes[i][1] for i in group_layers)


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
    group_index: pytensor.compile.SharedVariable | None = None
    n_groups: pytensor.compile.SharedVariable | int | None = None
    prior_mean: pytensor.compile.SharedVariable | None = None
    prior_sd: pytensor.compile.SharedVariable | None = None

    def set_layer_sizes(self, layer_sizes: tuple[int, ...]) -> None:
        """Size the layers (a model built with ``shared_sizes=True`` only)."""
        if self.layer_sizes is None or len(layer_sizes) != len(self.layer_sizes):
            raise ValueError(f"This model cannot take the layer sizes {layer_sizes}.")
        for var, size in zip(self.layer_sizes, layer_sizes):
            if isinstance(var, int) and var != size:
                raise ValueError(f"This model has {var} outputs, not {size}.")
            if not isinstance(var, int):
                var.set_value(np.int64(size))

    def data(
        self,
        X,
        y,
        sample_weight,
        total_size,
        prior_scale,
        group_index=None,
        n_groups=None,
        prior=None,
    ) -> dict[str, np.ndarray]:
        """The values of the shared variables for a fit, by the variables' names.

        A grouped model also takes each row's group (integers from 0) and the number of
        groups; an ungrouped one refuses them. A model with an informed prior takes its
        ``(means, sds)`` of the weights and biases in the flat layout.
        """
        values = {
            "X": X,
            "y": y,
            "sample_weight": sample_weight,
            "total_size": np.int64(total_size),
            "prior_scale": np.float64(prior_scale),
        }
        if (group_index is None) != (self.group_index is None):
            grouped = "a grouped" if self.group_index is not None else "an ungrouped"
            raise ValueError(f"The data of {grouped} model need group indices exactly then.")
        if group_index is not None:
            values["group_index"] = np.asarray(group_index, dtype=np.int64)
            if isinstance(self.n_groups, int):
                if n_groups != self.n_groups:
                    raise ValueError(f"This model has {self.n_groups} groups, not {n_groups}.")
            else:
                values["n_groups"] = np.int64(n_groups)
        if (prior is None) != (self.prior_mean is None):
            raise ValueError("An informed prior's model needs its means and sds exactly then.")
        if prior is not None:  # in place of prior_scale, which the graph then lacks
            del values["prior_scale"]
            values["prior_mean"], values["prior_sd"] = (np.asarray(p, np.float64) for p in prior)
        return values

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
        if self.group_index is not None:
            self.group_index.set_value(np.zeros(2, dtype=np.int64))


def build_network(arch: Architecture, *, shared_sizes: bool = False) -> NetworkModel:
    """Build the Bayesian MLP for ``arch``: Normal priors, tanh/relu/... hidden layers.

    The training data enter as shared variables, so one compiled graph serves any
    dataset with ``arch.n_features`` columns. The likelihood is always scaled to the shared
    ``total_size`` (a factor of 1 for a full batch of ``total_size`` rows), so the same
    graph serves ``fit`` and the streaming of ``partial_fit``. With ``shared_sizes`` the
    layer sizes are shared integers too (set with :meth:`NetworkModel.set_layer_sizes`):
    the graph then serves every architecture of ``arch.graph_key``.

    Grouped (``arch.group_layers``): each varying layer ``i`` has the population's weights
    and biases ``w_i``, ``b_i`` as above, a spread ``s`` for its weights and one for its
    biases (``group_scale``, half-normal) and every group's standardised offsets ``z[g]``
    (``group_offsets``, standard normal), and group ``g``'s layer is ``w_i + s * z[g]``
    (the non-centred hierarchy). Each row
    goes through its group's network; the rows' groups are the shared integer vector
    ``group_index``, and the number of groups is a shared integer with ``shared_sizes``.
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
    grouped = bool(arch.group_layers)
    group_index = pytensor.shared(np.zeros(2, dtype=np.int64), name="group_index")
    n_groups = arch.n_groups
    if grouped and shared_sizes:
        n_groups = pytensor.shared(np.int64(n_groups), name="n_groups")
    with pm.Model() as model:
        data = (X, y, sample_weight, group_index) if grouped else (X, y, sample_weight)
        priors = _layer_priors(sizes, prior_scale, arch.informed_prior)
        if arch.batch_size is not None:
            data = pm.Minibatch(*data, batch_size=arch.batch_size)
        X_obs, y_obs, weight_obs, *group_obs = data
        # Created in the flat layout's order: the layers, the likelihood's, the groups'.
        layers = [
            (
                pm.Normal(f"w_{i}", *w_prior, shape=(n_in, n_out)),
                pm.Normal(f"b_{i}", *b_prior, shape=(n_out,)),
            )
            for i, ((n_in, n_out), (w_prior, b_prior)) in enumerate(
                zip(pairwise(sizes), priors.layers)
            )
        ]
        extras = [
            pm.Normal(name, mean, sd)
            for name, (mean, sd) in zip(likelihood.extra_parameters, likelihood.extra_priors)
        ]
        if grouped:
            layers = _group_layers(layers, sizes, arch.group_layers, n_groups, group_obs[0])
        hidden = X_obs
        for i, (weights, bias) in enumerate(layers):
            if weights.ndim == 3:  # one matrix per row: its group's
                hidden = pt.sum(hidden[:, :, None] * weights, axis=1) + bias
            else:
                hidden = pt.dot(hidden, weights) + bias
            if i < len(sizes) - 2:
                hidden = activation(hidden)
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
        group_index=group_index if grouped else None,
        n_groups=n_groups if grouped else None,
        prior_mean=priors.mean,
        prior_sd=priors.sd,
    )


@dataclass
class _LayerPriors:
    """Each layer's ``((weights' mean, sd), (biases' mean, sd))`` and the shared vectors
    of an informed prior (None for ``Normal(0, prior_scale)``)."""

    layers: list
    mean: pytensor.compile.SharedVariable | None
    sd: pytensor.compile.SharedVariable | None


def _layer_priors(sizes, prior_scale, informed: bool) -> _LayerPriors:
    if not informed:
        flat = ((0.0, prior_scale), (0.0, prior_scale))
        return _LayerPriors([flat] * (len(sizes) - 1), None, None)
    # Of the right size where the sizes are integers (a sampler reads shapes from them).
    fixed = all(isinstance(n, int) for n in sizes)
    size = sum(n_in * n_out + n_out for n_in, n_out in pairwise(sizes)) if fixed else 1
    mean = pytensor.shared(np.zeros(size), shape=(None,), name="prior_mean")
    sd = pytensor.shared(np.ones(size), shape=(None,), name="prior_sd")
    layers, start = [], 0
    for n_in, n_out in pairwise(sizes):
        stop = start + n_in * n_out
        weights = tuple(v[start:stop].reshape((n_in, n_out)) for v in (mean, sd))
        biases = tuple(v[stop : stop + n_out] for v in (mean, sd))
        layers.append((weights, biases))
        start = stop + n_out
    return _LayerPriors(layers, mean, sd)


def _group_layers(layers, sizes, group_layers, n_groups, rows_group):
    """``layers`` with each varying layer's weights and biases those of each row's group:
    ``(rows, n_in, n_out)`` and ``(rows, n_out)``, the population's plus the spread of the
    layer's weights (or biases) times the group's offsets (created here, after every other
    free variable). Weights and biases get a spread each: measured on grouped sines, one
    spread for both kept the biases' from following the groups' levels."""
    import pymc as pm

    scale = pm.HalfNormal("group_scale", GROUP_SCALE_PRIOR, shape=(2 * len(group_layers),))
    offsets = pm.Normal(
        "group_offsets", 0.0, 1.0, shape=(n_groups, group_offset_size(sizes, group_layers))
    )
    layers, start = list(layers), 0
    for k, i in enumerate(group_layers):
        n_in, n_out = sizes[i], sizes[i + 1]
        weights, bias = layers[i]
        w_offsets = offsets[:, start : start + n_in * n_out].reshape((n_groups, n_in, n_out))
        start = start + n_in * n_out
        b_offsets = offsets[:, start : start + n_out]
        start = start + n_out
        layers[i] = (
            (weights + scale[2 * k] * w_offsets)[rows_group],
            (bias + scale[2 * k + 1] * b_offsets)[rows_group],
        )
    return layers


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
