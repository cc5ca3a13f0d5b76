"""The likelihoods a network can have, each one object: what the model builder, engines,
predictions and fitted-state checks read instead of guessing from the number of outputs.

A :class:`Likelihood` carries its NumPy side (the link from the network's outputs to
predictions, the link whose R-hat NUTS reports, the validation loss of early stopping, the
number of outputs it needs, where ADVI starts its output bias); its PyTensor log density
lives in :data:`bnn_sklearn._network.LOG_DENSITIES` under the same name, so that prediction
never imports PyTensor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _mixture
from ._posterior import class_probabilities, log_loss_of_draws, softplus, softplus_inverse

#: Smallest noise scale of the heteroscedastic likelihood (standardised target), so that
#: a row the network fits exactly cannot claim zero noise.
MIN_NOISE_SCALE = 1e-3
#: The heteroscedastic noise starts at this scale (standardised target): started at
#: softplus(0) = 0.69 the noise absorbed the signal, and on a 1-D problem with growing noise
#: (three seeds) the test NLL was 1.03 against 0.36 started at 0.1.
INITIAL_NOISE_SCALE = 0.1

#: Prior of a regressor's log noise scale on the standardised target: median noise sd
#: 0.37, 95 % between 0.05 and 2.6 (the target's own sd is 1).
LOG_NOISE_PRIOR = (-1.0, 1.0)


#: ``link(outputs, extras)``: per-draw values from the network's outputs
#: ``(draws, rows, n_outputs)`` and each draw's likelihood parameters ``(draws, n_extra)``.
Link = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Likelihood:
    """One observation model.

    ``extra_parameters`` are free variables besides the weights and biases (e.g. the log
    noise scale), with their ``Normal(mean, sd)`` priors in ``extra_priors``; in the flat
    parameter layout they follow the last layer's bias, in this order. ``target_dtype``
    is the dtype of the encoded targets. ``initial_output_bias`` is where ADVI starts the
    last layer's biases (zeros when empty). ``n_outputs`` is the width of the network's
    last layer, None where it is one output per class; a fixed width stays a constant of
    ADVI's compiled graph, which lets PyTensor specialise the output layer.

    ``link`` gives the per-draw predictions (class probabilities; a regressor's mean and
    noise scale stacked on the last axis), ``rhat_link`` the per-draw values whose R-hat
    ``predictive_rhat_`` reports, and ``validation_loss(predictions, y)`` each held-out
    row's loss from its ``link`` predictions (lower is better).
    """

    name: str
    target_dtype: str
    link: Link
    rhat_link: Link
    validation_loss: Callable[[np.ndarray, np.ndarray], np.ndarray]
    extra_parameters: tuple[str, ...] = ()
    extra_priors: tuple[tuple[float, float], ...] = ()
    initial_output_bias: tuple[float, ...] = ()
    n_outputs: int | None = None

    @property
    def signature(self) -> str:
        """The log density's ``pm.CustomDist`` signature: a row's outputs, its weight, then
        one scalar per extra parameter."""
        return "(k),()" + ",()" * len(self.extra_parameters) + "->()"

    def outputs_for(self, n_classes: int | None = None) -> int:
        """The width of the network's last layer (``n_classes`` where it varies)."""
        return n_classes if self.n_outputs is None else self.n_outputs

    def output_problems(self, n_outputs: int, n_classes: int | None = None) -> list[str]:
        """What is inconsistent between this likelihood and a network's outputs."""
        if n_outputs == self.outputs_for(n_classes):
            return []
        if n_classes is None:
            return [f"{n_outputs} network outputs for its noise model"]
        return [f"{n_classes} classes for {n_outputs} network outputs"]


def noise_scale(raw: np.ndarray, softplus: Callable = softplus) -> np.ndarray:
    """The heteroscedastic noise scale from the network's second output, with NumPy's
    ``softplus`` or another library's (PyTensor's when the model is built)."""
    return softplus(raw) + MIN_NOISE_SCALE


def _class_rhat_values(outputs: np.ndarray, extras: np.ndarray) -> np.ndarray:
    # A binary network's one output is enough: the other class's probability is 1 - p.
    return class_probabilities(outputs, extras)[..., -outputs.shape[-1] :]


def _normal_link(outputs: np.ndarray, extras: np.ndarray) -> np.ndarray:
    """Each draw's mean and its one noise scale for every row, stacked on the last axis."""
    scale = np.broadcast_to(np.exp(extras[:, :1]), outputs.shape[:-1])
    return np.stack([outputs[..., 0], scale], axis=-1)


def _heteroscedastic_link(outputs: np.ndarray, extras: np.ndarray) -> np.ndarray:
    """Each draw's mean and noise scale per row, stacked on the last axis."""
    return np.stack([outputs[..., 0], noise_scale(outputs[..., 1])], axis=-1)


def _mean_output(outputs: np.ndarray, extras: np.ndarray) -> np.ndarray:
    return outputs[..., :1]


def _mixture_negative_log_density(predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -_mixture.log_density(predictions[..., 0], predictions[..., 1], y)


LIKELIHOODS = {
    likelihood.name: likelihood
    for likelihood in (
        # One logit per row: a binary classifier.
        Likelihood(
            "bernoulli",
            "int32",
            class_probabilities,
            _class_rhat_values,
            log_loss_of_draws,
            n_outputs=1,
        ),
        # One logit per class.
        Likelihood(
            "categorical", "int32", class_probabilities, _class_rhat_values, log_loss_of_draws
        ),
        # The network's one output is the mean; one noise scale for every row.
        Likelihood(
            "normal",
            "float64",
            _normal_link,
            _mean_output,
            _mixture_negative_log_density,
            ("log_noise",),
            (LOG_NOISE_PRIOR,),
            n_outputs=1,
        ),
        # Two outputs per row: the mean and the (softplus-linked) noise scale.
        Likelihood(
            "normal_heteroscedastic",
            "float64",
            _heteroscedastic_link,
            _mean_output,
            _mixture_negative_log_density,
            initial_output_bias=(
                0.0,
                float(softplus_inverse(INITIAL_NOISE_SCALE - MIN_NOISE_SCALE)),
            ),
            n_outputs=2,
        ),
    )
}


def classification_likelihood(n_classes: int) -> Likelihood:
    """Bernoulli for two classes, Categorical for more."""
    return LIKELIHOODS["bernoulli" if n_classes == 2 else "categorical"]


def regression_likelihood(heteroscedastic: bool) -> Likelihood:
    """The Normal likelihood of one noise model."""
    return LIKELIHOODS["normal_heteroscedastic" if heteroscedastic else "normal"]
