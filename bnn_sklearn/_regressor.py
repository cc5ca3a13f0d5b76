"""BayesianMLPRegressor: a Bayesian neural network for continuous targets, with intervals."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.metaestimators import available_if

from . import _mixture
from ._base import BaseBayesianMLP, Targets
from ._compat import StrOptions, _fit_context
from ._likelihoods import Likelihood, regression_likelihood
from .distributions import NormalMixture


class PredictiveDraws(NamedTuple):
    """Each posterior draw's predictive Normal: its mean and its noise scale, both of shape
    ``(n_draws, n_samples)`` and in the target's units."""

    mean: np.ndarray
    noise_scale: np.ndarray


class PredictiveVariance(NamedTuple):
    """The predictive variance of a regressor and its two parts, each ``(n_samples,)``.

    ``aleatoric`` is the expected noise variance (what more data would not remove),
    ``epistemic`` the variance of the draws' means (disagreement between plausible
    networks), ``total`` their sum: the variance of the predictive distribution.
    """

    total: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray


class BayesianMLPRegressor(RegressorMixin, BaseBayesianMLP):
    """Bayesian multilayer perceptron regressor fitted by variational inference or NUTS.

    The network's output is the mean of a Normal likelihood whose noise scale is learned:
    one for every row (``noise="homoscedastic"``) or, from a second output, one per row
    (``"heteroscedastic"``). Every weight and bias has a ``Normal(0, prior_scale)``
    prior; the log noise scale a ``Normal(-1, 1)`` prior. The target is standardised
    inside ``fit`` (as GaussianProcessRegressor's ``normalize_y``) and predictions are
    mapped back. The predictive distribution is the mixture, over ``n_draws`` posterior
    draws, of each draw's Normal: :meth:`predict` gives its mean (and standard deviation),
    :meth:`predict_interval` its central intervals.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(16, 16)
        Units in each hidden layer; ``()`` gives Bayesian linear regression.
    activation : {"tanh", "relu", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    prior_scale : float or "auto", default="auto"
        Standard deviation of the ``Normal(0, prior_scale)`` prior on every weight and
        bias (on standardised inputs and target). ``"auto"``: 2.0 with
        ``noise="homoscedastic"`` (the classifier's), 0.5 with ``"heteroscedastic"``, whose
        per-row noise lets the mean run wild under a wider prior ("Regression" in the user
        guide; the figures are on the benchmarks page).
    noise : {"homoscedastic", "heteroscedastic"}, default="homoscedastic"
        One noise scale for all rows, or a noise scale per row from a second output of
        the network (``softplus`` of it, at least 0.001 of the target's sd): for data whose
        noise varies with the inputs.
    method : {"auto", "advi", "mile", "nuts"}, default="auto"
        Mean-field ADVI, MILE (ADVI members, then a short NUTS chain from each) or NUTS,
        as in :class:`~bnn_sklearn.BayesianMLPClassifier`. ``"auto"`` is MILE where the
        data make one full batch (``batch_size``: up to 2048 rows and 32,768 rows x
        features) for a fit from scratch, grouped or not, and mean-field ADVI for
        everything else: ``partial_fit``, ``warm_start``, ``early_stopping`` and minibatch
        fits.
        ``method_`` says which one a fit used. On the UCI regression benchmark MILE's
        test log-likelihood is above NUTS's or within 0.12 of it on all four sets, where
        ADVI's is 0.04-0.42 below it, at several times ADVI's cost ("Choosing the
        method" in the user guide); pass ``method="advi"`` for the fastest fits.
        ``"fullrank_advi"`` is refused: on the Normal likelihood its objective diverged.
    batch_size : int, "auto" or None, default="auto"
        None: full batch; an int: minibatches of that many rows; "auto": full batch up to
        2048 rows and 32,768 rows x features, minibatches of 256 above.
    max_iter : int or "auto", default="auto"
        Maximum number of ADVI iterations. "auto": 20,000, and 5,000 for each MILE
        member (NUTS moves on from it).
    learning_rate : float, default=0.01
        Step size of the Adam optimiser.
    tol : float or None, default=1e-3
        Relative tolerance of the stopping rule on the negative ELBO (checked every 100
        iterations); None runs exactly ``max_iter`` iterations.
    n_iter_no_change : int, default=10
        Checks without improvement before stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop on their negative log
        predictive density instead of the ELBO, keeping the best posterior seen.
    validation_fraction : float, default=0.1
        Fraction of the rows held out when ``early_stopping`` is True.
    n_draws : int, default=500
        Posterior draws behind every prediction.
    prediction_dtype : {"float64", "float32"}, default="float64"
        Floating-point type of the predict methods' forward pass, as in
        :class:`~bnn_sklearn.BayesianMLPClassifier`. The fit is always float64.
    chains : int or "auto", default="auto"
        NUTS and MILE only: independent Markov chains (MILE: the ADVI members, one chain
        each); "auto": 2 for NUTS, 4 for MILE.
    tune : int or "auto", default="auto"
        NUTS and MILE only: warm-up iterations of each chain, discarded; "auto": 500 for
        NUTS, 300 for MILE.
    draws : int or "auto", default="auto"
        NUTS and MILE only: iterations of each chain kept after ``tune``; "auto": 250
        for NUTS, 100 for MILE.
    target_accept : float or "auto", default="auto"
        NUTS and MILE only: target acceptance rate of the step-size adaptation; raise it
        when a fit reports divergences. "auto": 0.95 for NUTS, 0.8 for MILE.
    max_treedepth : int or "auto", default="auto"
        NUTS and MILE only: at most ``2**max_treedepth - 1`` leapfrog steps per draw;
        "auto": 8 for NUTS, 6 for MILE.
    nuts_sampler : {"auto", "nutpie", "pymc"}, default="auto"
        NUTS and MILE only: "nutpie", PyMC's own sampler "pymc", or "auto" (nutpie when it is
        installed).
    init_std : float, default=0.05
        Starting standard deviation of the variational posterior of every parameter.
    group_layers : {"last", "all"} or tuple of int, default="last"
        With ``fit(X, y, groups=...)``: the layers whose weights and biases vary by
        group ("last": the output layer; "all"; or layer indices, 0 for the input
        layer's weights, -1 for the output layer's). Each group's layer is the
        population's plus the layer's spread between groups (one for its weights, one
        for its biases) times the group's own standard-normal offsets (a non-centred
        hierarchy), so groups with few rows borrow strength from the others ("Groups" in
        the user guide). Ignored without groups.
    prior : NetworkPrior or None, default=None
        An informed prior: another fitted model's posterior, from its
        :meth:`as_prior`, gives every weight and bias its own ``Normal(mean, sd)`` prior
        (``prior_scale`` is then unused) and ADVI's starting means, for a fit on few rows
        of a related task (transfer learning; "Groups" in the user guide). The network
        must have the same layer sizes and outputs. None: ``Normal(0, prior_scale)``.
    warm_start : bool, default=False
        When True and the model is fitted, ``fit`` continues ADVI from the current
        posterior; the target keeps the standardisation of the first fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the starting weights, the inference and the posterior draws.
    verbose : bool, default=False
        Show the progress bar of ADVI or of the NUTS sampler.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    y_mean_, y_scale_ : float
        Mean and standard deviation of the training target: the network models
        ``(y - y_mean_) / y_scale_``.
    log_noise_mean_, log_noise_std_ : ndarray of shape (1,) or None
        Posterior mean and standard deviation of the log noise scale on the standardised
        target (``exp(log_noise_mean_) * y_scale_`` is about the noise sd in the
        target's units); None with ``noise="heteroscedastic"``.
    coefs_mean_, coefs_std_, intercepts_mean_, intercepts_std_ : list of ndarray
        Posterior means and standard deviations of the weights and biases of each layer.
    posterior_cholesky_ : None
        Always None (no full-rank ADVI); kept for the classifier's layout.
    posterior_draws_ : ndarray or None
        The kept NUTS or MILE draws, over all parameters in the order ``coefs[0].ravel(),
        intercepts[0], ...``, then the log noise scale; None for ADVI.
    loss_curve_, n_iter_, n_samples_seen_, validation_loss_, best_validation_loss_
        As in :class:`~bnn_sklearn.BayesianMLPClassifier` (the validation loss is the
        negative log predictive density per row, on the standardised target).
    n_divergences_, rhat_, ess_, predictive_rhat_
        NUTS and MILE diagnostics as in the classifier; ``predictive_rhat_`` is that of the
        predicted means.
    draws_seed_ : int
        Seed of the posterior draws shared by every call to the predict methods.
    method_ : str
        The method the fit used: ``method``, with ``"auto"`` resolved.
    groups_, group_layers_, group_log_scale_mean_, group_log_scale_std_
        A grouped fit's groups, varying layers and log spreads between groups, as in
        :class:`~bnn_sklearn.BayesianMLPClassifier`; None without groups.
    group_offsets_mean_, group_offsets_std_ : ndarray of shape (n_groups, n_offsets) or None
        Each group's standardised offsets, as in the classifier; None without groups.
        With groups, the layer summaries describe the population's network.

    See Also
    --------
    BayesianMLPClassifier : The same network for class labels.
    sklearn.linear_model.BayesianRidge : ``predict(X, return_std=True)`` for a linear model.
    sklearn.gaussian_process.GaussianProcessRegressor : Another model with a predictive sd.

    Examples
    --------
    >>> import numpy as np
    >>> from bnn_sklearn import BayesianMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(200, 1))
    >>> y = np.sin(2 * X[:, 0]) + rng.normal(scale=0.1, size=200)
    >>> reg = BayesianMLPRegressor(max_iter=2000, random_state=0).fit(X, y)
    >>> mean, std = reg.predict(X[:3], return_std=True)
    >>> reg.predict_interval(X[:3], coverage=0.9).shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **BaseBayesianMLP._parameter_constraints,
        "noise": [StrOptions({"homoscedastic", "heteroscedastic"})],
        "prior_scale": [
            *BaseBayesianMLP._parameter_constraints["prior_scale"],
            StrOptions({"auto"}),
        ],
    }
    _numeric_targets = True
    _own_fitted_attributes = {
        "y_mean_": 1,
        "y_scale_": 1,
        "log_noise_mean_": 1,
        "log_noise_std_": 1,
    }
    #: ``method="auto"`` samples with MILE where the data make one full batch (see the
    #: class docstring; chosen on the UCI regression benchmark).
    _auto_sampled_method = "mile"
    #: ``prior_scale="auto"`` by noise model (see the class docstring).
    AUTO_PRIOR_SCALE = {"homoscedastic": 2.0, "heteroscedastic": 0.5}

    def __init__(
        self,
        hidden_layer_sizes=(16, 16),
        activation="relu",
        *,
        prior_scale="auto",
        noise="homoscedastic",
        method="auto",
        batch_size="auto",
        max_iter="auto",
        learning_rate=0.01,
        tol=1e-3,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        n_draws=500,
        prediction_dtype="float64",
        chains="auto",
        tune="auto",
        draws="auto",
        target_accept="auto",
        max_treedepth="auto",
        nuts_sampler="auto",
        init_std=0.05,
        group_layers="last",
        prior=None,
        warm_start=False,
        random_state=None,
        verbose=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            prior_scale=prior_scale,
            method=method,
            batch_size=batch_size,
            max_iter=max_iter,
            learning_rate=learning_rate,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_draws=n_draws,
            prediction_dtype=prediction_dtype,
            chains=chains,
            tune=tune,
            draws=draws,
            target_accept=target_accept,
            max_treedepth=max_treedepth,
            nuts_sampler=nuts_sampler,
            init_std=init_std,
            group_layers=group_layers,
            prior=prior,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )
        self.noise = noise

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the posterior of the network's weights and noise scale to ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; standardised features fit best.
        y : array-like of shape (n_samples,)
            Targets; they must vary (a constant target is refused).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row's log-likelihood term.
        groups : array-like of shape (n_samples,), default=None
            Each row's group label (strings or numbers; a store, a patient, a sensor):
            fits a hierarchical network whose ``group_layers`` vary by group around the
            population's, each group's spread learnt from the data. None fits one network
            for every row. Not with ``warm_start`` continuing a fit or ``early_stopping``.
            With metadata routing enabled, request it with ``set_fit_request(groups=True)``.

        Returns
        -------
        self : BayesianMLPRegressor
            The fitted estimator.
        """
        continuing = self.warm_start and self.__sklearn_is_fitted__()
        return self._fit(
            X, y, sample_weight, continuing=continuing, incremental=False, groups=groups
        )

    @available_if(BaseBayesianMLP._partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, total_size=None):
        """Run one pass of ADVI over a chunk of data, continuing from the current posterior.

        As :meth:`BayesianMLPClassifier.partial_fit`; the first chunk's targets fix the
        standardisation (``y_mean_``, ``y_scale_``) for all later ones, so it should be
        representative of the stream (shuffle the data if it is ordered).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows' log-likelihood terms.
        total_size : int, default=None
            Rows in the whole data set the chunks come from (see the classifier).

        Returns
        -------
        self : BayesianMLPRegressor
            The updated estimator.
        """
        self._check_total_size(total_size)
        first_call = not self.__sklearn_is_fitted__()
        return self._fit(
            X, y, sample_weight, continuing=not first_call, incremental=True, total_size=total_size
        )

    def _check_method_options(self, continuing: bool) -> None:
        if self.method == "fullrank_advi":
            # Measured: its negative ELBO grew from about 2e3 to 1e19 within 1,100
            # iterations on a 1-D sine (also at learning_rate=1e-3), and the stopping rule
            # would have called that converged.
            raise ValueError(
                "BayesianMLPRegressor does not support method='fullrank_advi': full-rank ADVI "
                "diverges on the Normal likelihood. Use method='advi' (mean-field) or "
                "method='nuts' for the posterior's correlations."
            )
        super()._check_method_options(continuing)

    def _prior_scale(self) -> float:
        if self.prior_scale == "auto":
            return self.AUTO_PRIOR_SCALE[self.noise]
        return self.prior_scale

    def _encode_targets(self, y, sample_weight, *, continuing, incremental, classes) -> Targets:
        y = np.asarray(y, dtype=np.float64)
        if continuing:
            mean, scale = self.y_mean_, self.y_scale_
        elif self.prior is not None and self.prior.target_scale is not None:
            # The prior's weights are in the units of its model's standardised target.
            mean, scale = self.prior.target_mean, self.prior.target_scale
        else:
            mean, scale = _weighted_mean_and_scale(y, sample_weight)
        likelihood = regression_likelihood(self.noise == "heteroscedastic")
        return Targets(
            y=(y - mean) / scale,
            sample_weight=sample_weight,
            likelihood=likelihood.name,
            n_outputs=likelihood.outputs_for(),
            stratify=False,
            state={"y_mean_": mean, "y_scale_": scale},
        )

    def _prior_target(self) -> dict:
        return {"target_mean": float(self.y_mean_), "target_scale": float(self.y_scale_)}

    def _fitted_likelihood(self) -> Likelihood:
        return regression_likelihood(heteroscedastic=self.log_noise_mean_ is None)

    def _target_problems(self) -> list[str]:
        if not (np.isfinite(self.y_mean_) and np.isfinite(self.y_scale_) and self.y_scale_ > 0):
            return [f"a target scale of {self.y_scale_!r}"]
        return []

    def _extra_posterior(self):
        if self.log_noise_mean_ is None:
            return np.empty(0), np.empty(0)
        return np.asarray(self.log_noise_mean_), np.asarray(self.log_noise_std_)

    def _extra_state(self, mean, std):
        return {
            "log_noise_mean_": mean if mean.size else None,
            "log_noise_std_": std if std.size else None,
        }

    # Prediction.

    def _iter_draws(self, X, groups=None):
        """Yield each draw's means and noise scales in the target's units, by row chunks."""
        for chunk in self._predictive_draws(X, groups):
            yield PredictiveDraws(
                self.y_mean_ + self.y_scale_ * chunk[..., 0], self.y_scale_ * chunk[..., 1]
            )

    def predict_draws(self, X, groups=None) -> PredictiveDraws:
        """Each posterior draw's predictive Normal: its mean and noise scale.

        The predictive distribution of a row is the equal-weight mixture of these
        ``n_draws`` Normals; every other predict method summarises it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        groups : array-like of shape (n_samples,), default=None
            Each row's group label, for a model fitted with ``groups``: a row of a group
            seen in training goes through that group's network, a row of another group
            (or every row, when None) through a new group's drawn from the population.
            Refused by a model fitted without groups.

        Returns
        -------
        draws : PredictiveDraws
            Named tuple of ``mean`` and ``noise_scale``, each of shape
            ``(n_draws, n_samples)``, in the target's units.
        """
        chunks = list(self._iter_draws(X, groups))
        return PredictiveDraws(*(np.concatenate(part, axis=1) for part in zip(*chunks)))

    def predict_distribution(self, X, groups=None) -> NormalMixture:
        """The predictive distribution of every row, as an object.

        Each row's distribution is the equal-weight mixture of the ``n_draws`` Normals of
        :meth:`predict_draws`, in the target's units: its ``mean()`` and ``std()`` are those
        of :meth:`predict`, its ``interval(c)`` is :meth:`predict_interval` at coverage
        ``c``, and it adds the density, the CDF, quantiles, random draws and the CRPS
        (:class:`~bnn_sklearn.distributions.NormalMixture`). It holds ``n_draws`` means per
        row, and as many noise scales per row with ``noise="heteroscedastic"`` (one set
        shared by all rows otherwise).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        groups : array-like of shape (n_samples,), default=None
            Each row's group label, for a model fitted with ``groups``: a row of a group
            seen in training goes through that group's network, a row of another group
            (or every row, when None) through a new group's drawn from the population.
            Refused by a model fitted without groups.

        Returns
        -------
        dist : NormalMixture
            The mixture of every row of X; ``dist[i]`` is row ``i``'s.

        Examples
        --------
        >>> import numpy as np
        >>> from bnn_sklearn import BayesianMLPRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(-2, 2, size=(200, 1))
        >>> y = np.sin(2 * X[:, 0]) + rng.normal(scale=0.1, size=200)
        >>> reg = BayesianMLPRegressor(max_iter=2000, random_state=0).fit(X, y)
        >>> dist = reg.predict_distribution(X[:3])
        >>> len(dist), dist.n_components
        (3, 500)
        >>> bool(np.allclose(dist.mean(), reg.predict(X[:3])))
        True
        >>> dist.logpdf(y[:3]).shape
        (3,)
        """
        chunks = list(self._iter_draws(X, groups))
        means = np.concatenate([draws.mean for draws in chunks], axis=1)
        if self.log_noise_mean_ is None:
            scales = np.concatenate([draws.noise_scale for draws in chunks], axis=1)
        else:  # one noise scale per draw, shared by every row
            scales = chunks[0].noise_scale[:, :1].copy()  # not a view of the whole chunk
        return NormalMixture(means, scales)

    def predict(self, X, return_std=False, groups=None):
        """Posterior predictive mean, and optionally its standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        return_std : bool, default=False
            Also return the predictive standard deviation: the square root of the mean
            noise variance plus the variance of the draws' means.
        groups : array-like of shape (n_samples,), default=None
            Each row's group label, for a model fitted with ``groups``: a row of a group
            seen in training goes through that group's network, a row of another group
            (or every row, when None) through a new group's drawn from the population.
            Refused by a model fitted without groups.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
            Mean of the predictive distribution.
        y_std : ndarray of shape (n_samples,)
            Its standard deviation; only with ``return_std=True``.
        """
        means, stds = [], []
        for draws in self._iter_draws(X, groups):
            means.append(draws.mean.mean(axis=0))
            if return_std:
                stds.append(np.sqrt(_variance_parts(draws).total))
        mean = np.concatenate(means)
        return (mean, np.concatenate(stds)) if return_std else mean

    def predict_uncertainty(self, X, groups=None) -> PredictiveVariance:
        """Split the predictive variance into its aleatoric and epistemic parts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        groups : array-like of shape (n_samples,), default=None
            Each row's group label, for a model fitted with ``groups``: a row of a group
            seen in training goes through that group's network, a row of another group
            (or every row, when None) through a new group's drawn from the population.
            Refused by a model fitted without groups.

        Returns
        -------
        variance : PredictiveVariance
            Named tuple of ``total``, ``aleatoric`` (expected noise variance) and
            ``epistemic`` (variance of the draws' means), each of shape (n_samples,) in
            the target's units squared.
        """
        parts = [_variance_parts(draws) for draws in self._iter_draws(X, groups)]
        return PredictiveVariance(*(np.concatenate(column) for column in zip(*parts)))

    def predict_interval(self, X, coverage=0.9, groups=None):
        """Central predictive intervals: quantiles of the predictive mixture.

        The bounds are the ``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` quantiles of
        the mixture of the draws' Normals, found numerically (not a Gaussian
        approximation: a skewed or two-humped predictive gets asymmetric intervals).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        coverage : float, default=0.9
            Probability the interval holds under the predictive distribution, in (0, 1).
        groups : array-like of shape (n_samples,), default=None
            Each row's group label, for a model fitted with ``groups``: a row of a group
            seen in training goes through that group's network, a row of another group
            (or every row, when None) through a new group's drawn from the population.
            Refused by a model fitted without groups.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2)
            Lower and upper bound of each row's interval.
        """
        coverage = _mixture.check_confidence(coverage, "coverage")
        chunks = [
            _mixture.central_intervals(draws.mean, draws.noise_scale, coverage)
            for draws in self._iter_draws(X, groups)
        ]
        return np.concatenate(chunks)


def _weighted_mean_and_scale(y: np.ndarray, sample_weight: np.ndarray) -> tuple[float, float]:
    """Weighted mean and sd of the targets (weights as row counts: integer weights and
    repeated rows give the same fit), computed on ``y / max|y|`` so that neither huge nor
    tiny targets overflow; a constant or unusable target is refused."""
    if not np.sum(sample_weight) > 0:
        raise ValueError("sample_weight sums to zero: give some rows a positive weight.")
    used = y[sample_weight > 0]
    magnitude = float(np.max(np.abs(used)))
    if magnitude > 0:
        unit = used / magnitude
        weights = sample_weight[sample_weight > 0]
        centre = np.average(unit, weights=weights)
        mean = float(centre * magnitude)
        scale = float(np.sqrt(np.average((unit - centre) ** 2, weights=weights)) * magnitude)
    else:
        mean, scale = 0.0, 0.0
    if not scale > 0:
        if len(used) == 1:
            found = f"there is only 1 sample with a positive weight (y = {float(used[0])!r})"
        else:
            found = f"all {len(used)} samples with a positive weight have y = {float(used[0])!r}"
        raise ValueError(
            f"BayesianMLPRegressor needs targets that vary, but {found}. Fit on more data, "
            "or predict the constant."
        )
    return mean, scale


def _variance_parts(draws: PredictiveDraws) -> PredictiveVariance:
    aleatoric, epistemic = _mixture.variance_parts(draws.mean, draws.noise_scale)
    return PredictiveVariance(aleatoric + epistemic, aleatoric, epistemic)
