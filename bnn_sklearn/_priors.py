"""Informed priors: a fitted network's posterior as the prior of a new fit.

Transfer learning in the Bayesian way: what a model learnt on plenty of data (other groups,
an earlier data set of the same shape) becomes the prior of a fit on few rows, instead of
the ``Normal(0, prior_scale)`` that knows nothing. Nothing here touches PyMC or PyTensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._posterior import n_parameters


@dataclass(frozen=True, eq=False)
class NetworkPrior:
    """Independent Normal priors on every weight and bias of a network.

    Made by a fitted estimator's :meth:`~bnn_sklearn.BayesianMLPClassifier.as_prior` and
    passed to a new estimator as ``prior=``: the new fit's weights and biases then have the
    prior ``Normal(mean, sd)``, each its own, in place of ``Normal(0, prior_scale)``.

    Parameters
    ----------
    layer_sizes : tuple of int
        The network's layer sizes: features, hidden units, outputs.
    mean, sd : ndarray of shape (n_params,)
        Prior mean and standard deviation of each weight and bias, in the order
        ``coefs[0].ravel(), intercepts[0], coefs[1].ravel(), ...``.
    likelihood : str
        The likelihood of the model it came from (a prior fits only networks of the same
        outputs).
    target_mean, target_scale : float or None
        A regressor's standardisation of the target: a fit with this prior standardises
        its target the same way, so that the weights mean the same. None for a classifier.
    """

    layer_sizes: tuple[int, ...]
    mean: np.ndarray
    sd: np.ndarray
    likelihood: str
    target_mean: float | None = None
    target_scale: float | None = None

    def __post_init__(self):
        size = n_parameters(tuple(self.layer_sizes))
        mean, sd = np.asarray(self.mean, dtype=np.float64), np.asarray(self.sd, dtype=np.float64)
        if mean.shape != (size,) or sd.shape != (size,):
            raise ValueError(
                f"A prior for layer sizes {tuple(self.layer_sizes)} needs {size} means and "
                f"sds, got shapes {mean.shape} and {sd.shape}."
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd)) and np.all(sd > 0)):
            raise ValueError("A prior needs finite means and finite, positive sds.")
        object.__setattr__(self, "layer_sizes", tuple(int(n) for n in self.layer_sizes))
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "sd", sd)

    def check(self, layer_sizes: tuple[int, ...], likelihood: str) -> None:
        """Refuse a network this prior does not describe.

        Parameters
        ----------
        layer_sizes : tuple of int
            The layer sizes of the network to be fitted.
        likelihood : str
            Its likelihood's name.

        Raises
        ------
        ValueError
            When the layer sizes or the likelihood differ from the prior's, saying which.
        """
        if tuple(layer_sizes) != self.layer_sizes or likelihood != self.likelihood:
            raise ValueError(
                f"prior describes a network of layer sizes {self.layer_sizes} with a "
                f"{self.likelihood} likelihood, but this fit has layer sizes "
                f"{tuple(layer_sizes)} with a {likelihood} likelihood: fit the same "
                "hidden_layer_sizes to data with the same features and outputs."
            )

    def widened(self, factor: float) -> NetworkPrior:
        """The same prior with every sd multiplied by ``factor``.

        Parameters
        ----------
        factor : float
            Positive; above 1 trusts the prior less, below 1 more.

        Returns
        -------
        prior : NetworkPrior
            The widened prior (this one is unchanged).
        """
        if not factor > 0:
            raise ValueError(f"factor must be positive, got {factor!r}.")
        return NetworkPrior(
            self.layer_sizes,
            self.mean,
            self.sd * factor,
            self.likelihood,
            self.target_mean,
            self.target_scale,
        )


def prior_from_draws(
    draws: np.ndarray, layer_sizes: tuple[int, ...], likelihood: str, floor: float = 1e-3
) -> NetworkPrior:
    """The Normal prior of the weights and biases of ``draws`` ``(n_draws, n_params...)``:
    each parameter's mean and sd over the draws (sds at least ``floor``)."""
    size = n_parameters(layer_sizes)
    network = draws[:, :size]
    return NetworkPrior(
        layer_sizes, network.mean(axis=0), np.maximum(network.std(axis=0), floor), likelihood
    )
