"""The likelihoods a network can have, as data: what the model builder, engines and
fitted-state checks read instead of guessing from the number of outputs.

The PyTensor log densities live in :mod:`bnn_sklearn._network` (fitting) and the NumPy
links in the estimators (prediction); both are keyed by the names below.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._posterior import softplus_inverse


@dataclass(frozen=True)
class Likelihood:
    """One observation model.

    ``extra_parameters`` are free variables besides the weights and biases (e.g. the log
    noise scale), with their ``Normal(mean, sd)`` priors in ``extra_priors``; in the flat
    parameter layout they follow the last layer's bias, in this order. ``target_dtype``
    is the dtype of the encoded targets. ``initial_output_bias`` is where ADVI starts the
    last layer's biases (zeros when empty). ``n_outputs`` is the width of the network's
    last layer, None where it varies (one output per class); a fixed width stays a
    constant of ADVI's compiled graph, which lets PyTensor specialise the output layer.
    """

    name: str
    target_dtype: str
    extra_parameters: tuple[str, ...] = ()
    extra_priors: tuple[tuple[float, float], ...] = ()
    initial_output_bias: tuple[float, ...] = ()
    n_outputs: int | None = None


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

LIKELIHOODS = {
    likelihood.name: likelihood
    for likelihood in (
        # One logit per row: a binary classifier.
        Likelihood("bernoulli", "int32", n_outputs=1),
        # One logit per class.
        Likelihood("categorical", "int32"),
        # The network's one output is the mean; one noise scale for every row.
        Likelihood("normal", "float64", ("log_noise",), (LOG_NOISE_PRIOR,), n_outputs=1),
        # Two outputs per row: the mean and the (softplus-linked) noise scale.
        Likelihood(
            "normal_heteroscedastic",
            "float64",
            initial_output_bias=(
                0.0,
                float(softplus_inverse(INITIAL_NOISE_SCALE - MIN_NOISE_SCALE)),
            ),
            n_outputs=2,
        ),
    )
}
