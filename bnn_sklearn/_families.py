"""The Gaussian families ADVI fits, one class each (as PyMC's ``MeanFieldGroup`` and
``FullRankGroup``, NumPyro's ``AutoDiagonalNormal`` and ``AutoMultivariateNormal``).

A family turns one flat vector of free scale parameters (``packed``, what Adam updates
beside the means) into parameter draws. Each says, for its ``method=`` name:

- :meth:`~VariationalFamily.draw`: the draw ``z`` from standard-normal noise ``eps`` and
  the log of the scale factor's diagonal, in PyTensor (the engine's graph);
- :meth:`~VariationalFamily.pack`: the packed scale of a :class:`Posterior` (where a fit
  starts, or continues);
- :meth:`~VariationalFamily.unpack`: the :class:`Posterior` of fitted means and packed
  scale;
- :meth:`~VariationalFamily.sample`: parameter draws from a fitted posterior and noise,
  in NumPy (prediction);
- :meth:`~VariationalFamily.describes`: whether a fitted posterior is of this family.

Only :meth:`~VariationalFamily.draw` uses PyTensor, imported when the engine builds its
graph: prediction never imports it. A new family is one more class in :data:`FAMILIES`.
"""

from __future__ import annotations

import numpy as np

from ._posterior import Posterior, softplus, softplus_inverse


class VariationalFamily:
    """A Gaussian over the flat parameters, its scale packed in one vector."""

    #: The ``method`` value that fits this family.
    method: str

    def draw(self, mean, packed, eps, n_params):
        """The parameters drawn with the noise ``eps`` (symbolic), and the log of the
        scale factor's diagonal (PyMC's ``symbolic_random`` and ``logdet``)."""
        raise NotImplementedError

    def pack(self, posterior: Posterior) -> np.ndarray:
        """The packed scale that gives ``posterior``'s spread."""
        raise NotImplementedError

    def unpack(self, mean: np.ndarray, packed: np.ndarray) -> Posterior:
        """The posterior of these means and packed scale."""
        raise NotImplementedError

    def sample(self, posterior: Posterior, noise: np.ndarray) -> np.ndarray:
        """Parameter draws ``(n_draws, n_params)`` from standard-normal ``noise`` of that shape."""
        raise NotImplementedError

    def describes(self, posterior: Posterior) -> bool:
        """Whether ``posterior`` (a Gaussian, not sampled draws) is of this family."""
        raise NotImplementedError


class MeanField(VariationalFamily):
    """Independent Gaussians: ``z = mu + softplus(rho) * eps``, ``rho`` packed."""

    method = "advi"

    def draw(self, mean, packed, eps, n_params):
        import pytensor.tensor as pt

        std = pt.softplus(packed)
        return mean + std * eps, pt.log(std)

    def pack(self, posterior: Posterior) -> np.ndarray:
        return softplus_inverse(posterior.std)

    def unpack(self, mean: np.ndarray, packed: np.ndarray) -> Posterior:
        return Posterior(mean, softplus(packed))

    def sample(self, posterior: Posterior, noise: np.ndarray) -> np.ndarray:
        return posterior.mean + noise * posterior.std

    def describes(self, posterior: Posterior) -> bool:
        return posterior.cholesky is None


class FullRank(VariationalFamily):
    """One multivariate Gaussian: ``z = L @ eps + mu``, the lower triangle of ``L`` packed
    row by row with ``softplus`` on its diagonal (PyMC's ``L_tril``)."""

    method = "fullrank_advi"

    def draw(self, mean, packed, eps, n_params):
        import pytensor.tensor as pt

        diag = pt.arange(n_params)
        L = pt.zeros((n_params, n_params))
        L = pt.set_subtensor(L[pt.tril_indices(n_params)], packed)
        L = pt.set_subtensor(L[diag, diag], pt.softplus(L[diag, diag]))
        return L @ eps + mean, pt.log(L[diag, diag])

    def pack(self, posterior: Posterior) -> np.ndarray:
        factor = np.diag(posterior.std) if posterior.cholesky is None else posterior.cholesky
        factor = _lower_factor(factor)
        factor[np.diag_indices_from(factor)] = softplus_inverse(np.diag(factor))
        return factor[np.tril_indices_from(factor)]

    def unpack(self, mean: np.ndarray, packed: np.ndarray) -> Posterior:
        size = mean.size
        cholesky = np.zeros((size, size))
        cholesky[np.tril_indices(size)] = packed
        cholesky[np.diag_indices(size)] = softplus(np.diag(cholesky))
        return Posterior(mean, np.sqrt(np.sum(cholesky**2, axis=1)), cholesky)

    def sample(self, posterior: Posterior, noise: np.ndarray) -> np.ndarray:
        return posterior.mean + noise @ posterior.cholesky.T

    def describes(self, posterior: Posterior) -> bool:
        return posterior.cholesky is not None


#: The families by the ``method`` that fits them.
FAMILIES = {family.method: family for family in (MeanField(), FullRank())}


def family_of(posterior: Posterior) -> VariationalFamily:
    """The family of a fitted Gaussian posterior."""
    (family,) = [family for family in FAMILIES.values() if family.describes(posterior)]
    return family


def _lower_factor(rows: np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L @ L.T == rows @ rows.T`` (from a QR of ``rows.T``)."""
    r = np.linalg.qr(rows.T, mode="r")
    signs = np.where(np.diag(r) < 0, -1.0, 1.0)
    return (r * signs[:, None]).T
