"""Equal-weight mixtures of Normals, one per column: density, CDF, quantiles, moments, CRPS.

Every array of components is ``(n_components, n_mixtures)``; values to evaluate are
``(..., n_mixtures)`` and broadcast against the mixtures. These functions do no chunking
of their own beyond :func:`quantiles`; callers bound the rows they pass.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.special import erf, logsumexp, ndtr, ndtri

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_SQRT_2PI = np.sqrt(2.0 * np.pi)
_SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)
_SQRT_PI = np.sqrt(np.pi)
_SQRT_HALF = np.sqrt(0.5)
#: The search for a predictive quantile: bisection steps before Newton's, the most steps in
#: all, and the precision (in the smallest noise sd) at which it stops.
QUANTILE_BISECTIONS = 6
QUANTILE_STEPS = 60
QUANTILE_TOLERANCE = 1e-6
#: Mixtures searched together: each group stops when its own slowest mixture has converged,
#: and its arrays stay in the CPU's cache. Two quantiles of 6,667 mixtures of 500 draws took
#: 7.0 s in one group, 2.4 s in groups of 16 (2.2-2.7 s for 4 to 16, 4.3 s for 64).
QUANTILE_CHUNK = 16


def _spread(components: np.ndarray, ndim: int) -> np.ndarray:
    """``(n_components, n_mixtures)`` reshaped to broadcast against values of ``ndim``."""
    return components.reshape(components.shape[0], *(1,) * (ndim - 1), components.shape[1])


def log_density(means: np.ndarray, scales: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Log density of ``y`` under each mixture; ``y`` is ``(..., n_mixtures)``."""
    y = np.asarray(y, dtype=np.float64)
    means, scales = _spread(means, max(y.ndim, 1)), _spread(scales, max(y.ndim, 1))
    z = (y - means) / scales
    log_components = -0.5 * z**2 - np.log(scales) - _LOG_SQRT_2PI
    return logsumexp(log_components, axis=0) - np.log(len(means))


def cdf(means: np.ndarray, scales: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cumulative distribution function of each mixture at ``y`` ``(..., n_mixtures)``."""
    y = np.asarray(y, dtype=np.float64)
    means, scales = _spread(means, max(y.ndim, 1)), _spread(scales, max(y.ndim, 1))
    return ndtr((y - means) / scales).mean(axis=0)


def variance_parts(means: np.ndarray, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean component variance (aleatoric) and the variance of the component means
    (epistemic) of each mixture; their sum is the mixture's variance."""
    return np.mean(scales**2, axis=0), np.var(means, axis=0)


def crps(means: np.ndarray, scales: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of each mixture at ``y`` ``(..., n_mixtures)``.

    ``CRPS(F, y) = E|X - y| - E|X - X'| / 2`` with ``X, X'`` independent draws of ``F``. For
    Normal components, ``X_i - y ~ N(mu_i - y, s_i^2)`` and ``X_i - X_j ~ N(mu_i - mu_j,
    s_i^2 + s_j^2)``, and ``E|N(mu, s^2)| = s sqrt(2/pi) exp(-mu^2 / 2 s^2) + mu erf(mu /
    (s sqrt 2))``: the score is exact. The second term costs ``n_components^2 / 2`` pairs
    per mixture, taken one component against all later ones (slices, no gathered copies):
    2.5x faster than all pairs at once on 500 components.
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(means)
    spread_means, spread_scales = _spread(means, max(y.ndim, 1)), _spread(scales, max(y.ndim, 1))
    to_y = np.mean(_mean_absolute(y - spread_means, spread_scales), axis=0)
    # Scales shared by every mixture (a broadcast column) need only that column.
    variances = scales[:, :1] ** 2 if scales.strides[1] == 0 else scales**2
    pairs = np.zeros(means.shape[1])
    for i in range(n - 1):
        sd = np.sqrt(variances[i + 1 :] + variances[i])
        pairs += _mean_absolute(means[i + 1 :] - means[i], sd).sum(axis=0)
    # Each unordered pair twice, plus i == j: E|N(0, 2 s^2)| = 2 s / sqrt(pi).
    between = (2.0 * pairs + 2.0 / _SQRT_PI * scales.sum(axis=0)) / n**2
    return to_y - 0.5 * between


def _mean_absolute(mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``E|Z|`` for ``Z ~ N(mu, sd^2)``, element by element (computed in place)."""
    z = mu / sd
    result = erf(z * _SQRT_HALF)
    result *= mu
    np.square(z, out=z)
    z *= -0.5
    np.exp(z, out=z)
    z *= sd
    z *= _SQRT_2_OVER_PI
    result += z
    return result


def check_confidence(value, name: str) -> float:
    """``value`` as a probability strictly between 0 and 1, or a ValueError naming it."""
    if isinstance(value, bool) or not (isinstance(value, Real) and 0 < value < 1):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}.")
    return float(value)


def central_intervals(means: np.ndarray, scales: np.ndarray, confidence: float) -> np.ndarray:
    """The central ``confidence`` interval of each mixture, ``(n_mixtures, 2)``."""
    tails = np.array([(1 - confidence) / 2, (1 + confidence) / 2])
    return quantiles(means, scales, tails)


def quantiles(means: np.ndarray, scales: np.ndarray, probabilities) -> np.ndarray:
    """Quantiles of equal-weight mixtures of Normals, one mixture per column.

    Mixtures are searched in groups of ``QUANTILE_CHUNK``. The ``p`` quantile of a mixture
    lies between the smallest and the largest ``p`` quantile of its components (below all of
    them every component's CDF is under ``p``, and so is their mean). A few bisection steps
    narrow that bracket; Newton steps on the mixture's CDF then finish, each replaced by a
    bisection step if it would leave the bracket, until the bracket or the step is below
    ``QUANTILE_TOLERANCE`` times the smallest component sd.

    Parameters
    ----------
    means, scales : ndarray of shape (n_components, n_mixtures)
        Means and standard deviations of each mixture's components.
    probabilities : array-like of shape (n_probabilities,) or (n_mixtures, n_probabilities)
        Levels in (0, 1): the same for every mixture, or a row of levels per mixture.

    Returns
    -------
    quantiles : ndarray of shape (n_mixtures, n_probabilities)
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    found = np.empty((means.shape[1], probabilities.shape[-1]))
    for start in range(0, means.shape[1], QUANTILE_CHUNK):
        columns = slice(start, start + QUANTILE_CHUNK)
        levels = probabilities[columns] if probabilities.ndim == 2 else probabilities
        found[columns] = _search_quantiles(means[:, columns], scales[:, columns], levels)
    return found


def _search_quantiles(means, scales, probabilities) -> np.ndarray:
    component = means[..., None] + scales[..., None] * ndtri(probabilities)
    low, high = component.min(axis=0), component.max(axis=0)
    tolerance = QUANTILE_TOLERANCE * scales.min(axis=0)[:, None]
    x = 0.5 * (low + high)
    for step in range(QUANTILE_STEPS):
        z = (x[None] - means[..., None]) / scales[..., None]
        excess = ndtr(z).mean(axis=0) - probabilities
        low = np.where(excess < 0, x, low)
        high = np.where(excess > 0, x, high)
        middle = 0.5 * (low + high)
        if step < QUANTILE_BISECTIONS:
            x = middle
            continue
        density = np.mean(np.exp(-0.5 * z**2) / scales[..., None], axis=0) / _SQRT_2PI
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - excess / density
        # Inclusive: a converged x sits on a bound just moved to it, and its Newton step
        # rounds to x itself; a strict test would bisect it away while others converge.
        inside = (newton >= low) & (newton <= high)
        moved = np.where(inside, np.abs(newton - x), high - low)
        x = np.where(inside, newton, middle)
        if np.all((moved <= tolerance) | (high - low <= tolerance)):
            break
    return x
