"""Predictive distributions as objects: the mixture of Normals behind a regressor's predictions."""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from . import _mixture

#: Upper bound on the elements of one temporary array of a method, by chunks of rows:
#: ``n_components * values per row`` (``n_components`` more for ``crps``).
CHUNK_ELEMENTS = 2**20


class NormalMixture:
    """Equal-weight mixtures of Normal distributions, one mixture per row.

    The predictive distribution of a :class:`~bnn_sklearn.BayesianMLPRegressor` for a row
    is the mixture, over its posterior draws, of each draw's Normal (its mean and noise
    scale); :meth:`BayesianMLPRegressor.predict_distribution` returns one of these for all
    rows. Every method is exact for the mixture (no Gaussian approximation) and works on
    chunks of rows, so the temporary arrays stay under ``CHUNK_ELEMENTS`` elements;
    the object itself holds the components, ``n_components`` floats per row for the means
    and as many for the scales (one column for all rows when they share their scales).

    The names follow the frozen distributions of :mod:`scipy.stats`. Values passed to
    :meth:`logpdf`, :meth:`pdf`, :meth:`cdf`, :meth:`crps` and :meth:`ppf` have one entry
    per row on their last axis (a scalar, or a last axis of length 1, serves every row),
    and any leading axes evaluate several values per row: ``dist.pdf(grid[:, None])`` is
    ``(len(grid), len(dist))``. ``dist[i]`` is the distribution of row ``i`` alone, whose
    methods take and return values of any shape; ``dist[a:b]``, ``dist[mask]`` and
    ``dist[indices]`` are the mixtures of those rows.

    Parameters
    ----------
    means : array-like of shape (n_components, n_rows)
        Mean of each component of each row's mixture.
    scales : array-like broadcastable to (n_components, n_rows)
        Standard deviation of each component, positive; shape ``(n_components, 1)`` when
        all rows share them.

    Notes
    -----
    Cost at 500 components (``benchmarks/distribution_cost.py``, results in
    ``benchmarks/results/distribution_cost_py313.md`` and ``..._py311.md``): the object
    holds 8,000 bytes per row (about 4,000 when the rows share their scales, as the
    homoscedastic regressor's do); on 2,000 rows, ``logpdf`` and ``cdf`` took 14-35
    microseconds per row, ``ppf`` 0.2-0.3 ms, ``interval`` 0.5-0.6 ms, and ``crps``, whose
    pair terms grow as ``n_components^2``, 4.3-5.3 ms.

    Attributes
    ----------
    n_components : int
        Components (posterior draws) in each mixture.

    See Also
    --------
    bnn_sklearn.BayesianMLPRegressor.predict_distribution : This object for rows of X.
    bnn_sklearn.metrics.crps : The continuous ranked probability score of the mixture.
    bnn_sklearn.metrics.nlpd : Its negative log predictive density.

    Examples
    --------
    >>> import numpy as np
    >>> from bnn_sklearn.distributions import NormalMixture
    >>> dist = NormalMixture([[-1.0, 0.0], [1.0, 0.0]], [[0.5], [0.5]])
    >>> len(dist), dist.n_components
    (2, 2)
    >>> dist.mean()
    array([0., 0.])
    >>> np.round(dist.std(), 4)
    array([1.118, 0.5  ])
    >>> np.round(dist.cdf(0.0), 4)
    array([0.5, 0.5])
    >>> np.round(dist[0].ppf([0.5, 0.9]), 4)
    array([0.    , 1.4208])
    >>> dist.interval(0.9).shape
    (2, 2)
    """

    def __init__(self, means, scales):
        means = _as_float_array(means, "means")
        scales = _as_float_array(scales, "scales")
        if means.ndim != 2 or means.size == 0:
            raise ValueError(
                "means must have shape (n_components, n_rows) with at least one of each; "
                f"got shape {means.shape}."
            )
        try:
            scales = np.broadcast_to(scales, means.shape)
        except ValueError:
            raise ValueError(
                f"scales of shape {scales.shape} do not broadcast to the means' shape "
                f"{means.shape}; give (n_components, n_rows) or (n_components, 1)."
            ) from None
        if not np.all(np.isfinite(means)):
            raise ValueError("means must be finite; they contain NaN or infinity.")
        if not np.all(np.isfinite(scales) & (scales > 0)):
            raise ValueError("scales must be finite and positive.")
        self._means = _read_only(means)
        self._scales = _read_only(scales)
        self._single = False

    @classmethod
    def _of(cls, means: np.ndarray, scales: np.ndarray, single: bool) -> NormalMixture:
        """A mixture from already checked components."""
        new = cls.__new__(cls)
        new._means, new._scales, new._single = _read_only(means), _read_only(scales), single
        return new

    @property
    def n_components(self) -> int:
        """Components (posterior draws) in each row's mixture."""
        return self._means.shape[0]

    def __len__(self) -> int:
        if self._single:
            raise TypeError("A single row's distribution has no len(); it is dist[i] of one.")
        return self._means.shape[1]

    def __getitem__(self, key) -> NormalMixture:
        if self._single:
            raise TypeError("A single row's distribution cannot be indexed further.")
        if isinstance(key, slice):
            return self._of(self._means[:, key], self._scales[:, key], single=False)
        rows = np.arange(self._means.shape[1])[key]
        if rows.ndim == 0:
            return self._of(self._means[:, rows, None], self._scales[:, rows, None], single=True)
        return self._of(self._means[:, rows.ravel()], self._scales[:, rows.ravel()], single=False)

    def __repr__(self) -> str:
        rows = "1 row" if self._single else f"{self._means.shape[1]} rows"
        return f"<NormalMixture: {rows} of {self.n_components} components>"

    # Moments.

    def mean(self) -> np.ndarray:
        """Mean of each row's mixture: the mean of its components' means.

        Returns
        -------
        mean : ndarray of shape (n_rows,), or a 0-d array for one row
        """
        return self._finish(self._means.mean(axis=0))

    def var(self) -> np.ndarray:
        """Variance of each row's mixture: the mean component variance plus the variance of
        the component means.

        Returns
        -------
        var : ndarray of shape (n_rows,), or a 0-d array for one row
        """
        aleatoric, epistemic = _mixture.variance_parts(self._means, self._scales)
        return self._finish(aleatoric + epistemic)

    def std(self) -> np.ndarray:
        """Standard deviation of each row's mixture, the square root of :meth:`var`.

        Returns
        -------
        std : ndarray of shape (n_rows,), or a 0-d array for one row
        """
        return np.sqrt(self.var())

    # Functions of values.

    def logpdf(self, y) -> np.ndarray:
        """Log probability density of each row's mixture at ``y``.

        Parameters
        ----------
        y : array-like of shape (..., n_rows) or scalar
            Values, one per row on the last axis; leading axes give several per row.

        Returns
        -------
        logpdf : ndarray of the shape of ``y`` broadcast to (..., n_rows)
        """
        return self._evaluate(_mixture.log_density, y, "y")

    def pdf(self, y) -> np.ndarray:
        """Probability density of each row's mixture at ``y``, the exponential of
        :meth:`logpdf` (parameters and shapes as there)."""
        return np.exp(self.logpdf(y))

    def cdf(self, y) -> np.ndarray:
        """Cumulative distribution function of each row's mixture at ``y``.

        Parameters
        ----------
        y : array-like of shape (..., n_rows) or scalar
            Values, as in :meth:`logpdf`.

        Returns
        -------
        cdf : ndarray of the shape of ``y`` broadcast to (..., n_rows)
        """
        return self._evaluate(_mixture.cdf, y, "y")

    def crps(self, y) -> np.ndarray:
        """Continuous ranked probability score of each row's mixture at the observation
        ``y``, in closed form (see :func:`bnn_sklearn.metrics.crps`); lower is better.

        Costs ``n_components^2 / 2`` pair terms per row.

        Parameters
        ----------
        y : array-like of shape (..., n_rows) or scalar
            Observed values, as in :meth:`logpdf`.

        Returns
        -------
        crps : ndarray of the shape of ``y`` broadcast to (..., n_rows)
        """
        return self._evaluate(_mixture.crps, y, "y", extra_per_row=self.n_components)

    def ppf(self, q) -> np.ndarray:
        """Quantile function (inverse of :meth:`cdf`) of each row's mixture.

        Found numerically by the search of
        :meth:`BayesianMLPRegressor.predict_interval`, to 1e-6 of the smallest component
        sd or better; 0 and 1 give minus and plus infinity.

        Parameters
        ----------
        q : array-like of shape (..., n_rows) or scalar
            Probabilities in [0, 1], as the values of :meth:`logpdf`.

        Returns
        -------
        ppf : ndarray of the shape of ``q`` broadcast to (..., n_rows)
        """
        q = self._values(q, "q")
        if np.any((q < 0) | (q > 1)):
            raise ValueError("q must hold probabilities in [0, 1].")
        inner = np.where((q > 0) & (q < 1), q, 0.5)
        levels = inner.reshape(-1, q.shape[-1]).T  # (n_rows, values per row)
        found = _mixture.quantiles(self._means, self._scales, levels).T.reshape(q.shape)
        found = np.where(q == 0, -np.inf, np.where(q == 1, np.inf, found))
        return found[..., 0] if self._single else found

    def median(self) -> np.ndarray:
        """Median of each row's mixture, ``ppf(0.5)``."""
        return self.ppf(0.5)

    def interval(self, confidence) -> np.ndarray:
        """Central interval holding ``confidence`` of each row's mixture.

        The bounds are the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles,
        computed as :meth:`BayesianMLPRegressor.predict_interval` computes them (the same
        function): ``dist.interval(c)`` equals ``predict_interval(X, coverage=c)``. Unlike
        scipy's tuple of two arrays, the result is one array, as ``predict_interval``'s:
        ``lower, upper = dist.interval(0.9).T``.

        Parameters
        ----------
        confidence : float
            Probability the interval holds, in (0, 1).

        Returns
        -------
        interval : ndarray of shape (n_rows, 2), or (2,) for one row
            Lower and upper bound of each row's interval.
        """
        confidence = _mixture.check_confidence(confidence, "confidence")
        bounds = _mixture.central_intervals(self._means, self._scales, confidence)
        return bounds[0] if self._single else bounds

    def rvs(self, size=None, random_state=None) -> np.ndarray:
        """Random draws of each row's mixture: a component at random, then its Normal.

        Parameters
        ----------
        size : int or tuple of int, default=None
            Draws per row, as leading axes of the result; None for one.
        random_state : int, RandomState instance or None, default=None
            Seed or generator of the draws.

        Returns
        -------
        draws : ndarray of shape (*size, n_rows)
            Without the last axis for a single row's distribution.
        """
        rng = check_random_state(random_state)
        lead = () if size is None else tuple(np.atleast_1d(size).astype(int))
        n_rows = self._means.shape[1]
        components = rng.randint(self.n_components, size=(*lead, n_rows))
        rows = np.arange(n_rows)
        noise = rng.standard_normal(size=(*lead, n_rows))
        draws = self._means[components, rows] + self._scales[components, rows] * noise
        return draws[..., 0] if self._single else draws

    # Helpers.

    def _finish(self, values: np.ndarray) -> np.ndarray:
        return values[..., 0] if self._single else values

    def _values(self, values, name: str) -> np.ndarray:
        """Values as ``(..., n_rows)``, or a ValueError that says what is wrong."""
        values = _as_float_array(values, name)
        if np.any(np.isnan(values)):
            raise ValueError(f"{name} contains NaN; give a value for every row.")
        n_rows = self._means.shape[1]
        if self._single:
            return values[..., None]
        if values.ndim == 0:
            return np.broadcast_to(values, (n_rows,))
        if values.shape[-1] not in (1, n_rows):
            raise ValueError(
                f"{name} has shape {values.shape}, but its last axis must hold one value for "
                f"each of the {n_rows} rows, or one for all of them."
            )
        return np.broadcast_to(values, (*values.shape[:-1], n_rows))

    def _evaluate(self, function, values, name: str, extra_per_row: int = 0) -> np.ndarray:
        """``function(means, scales, values)`` over chunks of rows."""
        values = self._values(values, name)
        n_rows = values.shape[-1]
        per_row = self.n_components * (values.size // max(n_rows, 1)) + extra_per_row
        step = max(1, CHUNK_ELEMENTS // per_row)
        result = np.empty(values.shape)
        for start in range(0, n_rows, step):
            rows = slice(start, start + step)
            result[..., rows] = function(
                self._means[:, rows], self._scales[:, rows], values[..., rows]
            )
        return result[..., 0] if self._single else result


def _as_float_array(values, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from None


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def distribution_kind(estimator) -> str | None:
    """What :func:`predictive_distribution` gives for a regressor.

    Parameters
    ----------
    estimator : estimator
        A regressor, or a pipeline ending in one.

    Returns
    -------
    kind : {"mixture", "gaussian"} or None
        ``"mixture"`` for an estimator with ``predict_distribution``; ``"gaussian"`` for one
        whose ``predict`` takes ``return_std`` (a Normal of that mean and sd); None for
        others.

    Examples
    --------
    >>> from sklearn.linear_model import BayesianRidge, Ridge
    >>> from bnn_sklearn import BayesianMLPRegressor
    >>> from bnn_sklearn.distributions import distribution_kind
    >>> [distribution_kind(m) for m in (BayesianMLPRegressor(), BayesianRidge(), Ridge())]
    ['mixture', 'gaussian', None]
    """
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if isinstance(final, Pipeline):
        return distribution_kind(final)
    if callable(getattr(final, "predict_distribution", None)):
        return "mixture"
    predict = getattr(final, "predict", None)
    if callable(predict) and "return_std" in inspect.signature(predict).parameters:
        return "gaussian"
    return None


def predictive_distribution(estimator, X) -> NormalMixture:
    """The predictive distribution of a fitted regressor for the rows of X.

    The mixture of :meth:`BayesianMLPRegressor.predict_distribution` where the estimator
    has that method; otherwise the Normal of ``predict(X, return_std=True)`` (as
    :class:`~sklearn.linear_model.BayesianRidge` or
    :class:`~sklearn.gaussian_process.GaussianProcessRegressor` give), a mixture of one
    component. A pipeline transforms X with its steps before the last.

    Parameters
    ----------
    estimator : estimator
        A fitted regressor, or a pipeline ending in one.
    X : array-like of shape (n_samples, n_features)
        Input data.

    Returns
    -------
    dist : NormalMixture
        One mixture per row of X.

    Raises
    ------
    TypeError
        If the estimator has neither ``predict_distribution`` nor ``predict(X,
        return_std=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from bnn_sklearn.distributions import predictive_distribution
    >>> X = np.arange(20.0)[:, None]
    >>> y = 2 * X[:, 0] + np.sin(X[:, 0])
    >>> dist = predictive_distribution(BayesianRidge().fit(X, y), X[:3])
    >>> len(dist), dist.n_components
    (3, 1)
    """
    kind = distribution_kind(estimator)
    while isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    if kind == "mixture":
        return estimator.predict_distribution(X)
    if kind == "gaussian":
        mean, std = estimator.predict(X, return_std=True)
        return NormalMixture(np.asarray(mean, dtype=np.float64)[None], np.asarray(std)[None])
    raise TypeError(
        f"{type(estimator).__name__} gives no predictive distribution: it has neither "
        "predict_distribution(X) nor predict(X, return_std=True)."
    )
