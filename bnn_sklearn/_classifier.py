"""BayesianMLPClassifier: a Bayesian neural network classifier fitted by ADVI or NUTS."""

from __future__ import annotations

import inspect
from itertools import pairwise
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._posterior import (
    ACTIVATIONS,
    Posterior,
    ValidationLogLoss,
    flatten_layers,
    n_parameters,
    predictive_draws,
    unflatten_layers,
)
from ._warnings import warn_at_caller
from .metrics import PredictiveUncertainty, uncertainty_decomposition

#: With ``batch_size="auto"``, data sets with more rows, or more rows x features (the cost
#: of a full-batch step), than these are fitted by minibatch ADVI.
AUTO_FULL_BATCH_ROWS = 2048
AUTO_FULL_BATCH_CELLS = 32768
#: Minibatch size chosen by ``batch_size="auto"`` for large data sets.
AUTO_BATCH_SIZE = 256
#: Version of the pickled fitted state: 1 in bnn_sklearn 0.1, 2 since partial_fit and
#: early stopping added attributes, 3 since NUTS added draws and diagnostics. Bump it when
#: fitted attributes change.
STATE_FORMAT = 3
#: Attributes added by each state format, with their values for models saved before it.
ADDED_ATTRIBUTES = {
    2: {"validation_loss_": None, "best_validation_loss_": None, "n_samples_seen_": None},
    3: {
        "posterior_draws_": None,
        "n_divergences_": None,
        "rhat_": None,
        "ess_": None,
        "predictive_rhat_": None,
    },
}
#: Most posterior draws behind each early-stopping check of the validation log loss.
EARLY_STOPPING_DRAWS = 100


class BayesianMLPClassifier(ClassifierMixin, BaseEstimator):
    """Bayesian multilayer perceptron classifier fitted by variational inference or NUTS.

    Every weight and bias has a ``Normal(0, prior_scale)`` prior. The posterior is
    approximated by PyMC's ADVI, mean-field or full rank, on the whole training set or on
    minibatches, or sampled by the No-U-Turn Sampler (``method="nuts"``). Predictions
    average the network over ``n_draws`` weight sets drawn from the fitted posterior, so
    the spread of those draws measures how sure the model is.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(32,)
        Units in each hidden layer; ``()`` gives Bayesian logistic regression. The default
        one layer of 32 ReLU units was chosen on six small problems with three seeds
        each (see the README): it never collapsed to the prior, had a lower test log loss
        than a random forest and gradient boosting on five of the six, and fitted 3-10
        times faster than the tanh networks tried, whose log loss was better on three
        problems and worse on three.
    activation : {"tanh", "relu", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    prior_scale : float, default=2.0
        Standard deviation of the ``Normal(0, prior_scale)`` prior on every weight and
        bias; smaller values regularise more (the Bayesian analogue of L2). On the six
        problems used to choose the defaults, 2.0 gave a lower test log loss than 1.0 (the
        origin notebook's) on every one; 0.5 underfitted and 4.0 overfitted some.
    method : {"advi", "fullrank_advi", "nuts"}, default="advi"
        Mean-field ADVI (independent Gaussians), full-rank ADVI (one multivariate
        Gaussian over all parameters; quadratic in their number), or NUTS: the exact
        posterior sampled by Hamiltonian Monte Carlo, with nutpie when it is installed
        (``nuts_sampler``). NUTS takes seconds to minutes instead of ADVI's seconds and
        uses the full data at every step, but its draws disagree far from the training
        data where ADVI's agree. The ADVI settings (``batch_size``, ``max_iter``,
        ``learning_rate``, ``tol``, ``n_iter_no_change``, ``init_std``) do not apply to
        it; ``early_stopping``, ``warm_start`` and ``partial_fit`` are refused.
    batch_size : int, "auto" or None, default="auto"
        None fits on the full training set at every iteration. An int fits on random
        minibatches of that many rows (``pm.Minibatch``), the likelihood scaled to the
        full data; an int of at least the number of rows means full batch. "auto" is
        full batch up to 2048 rows and 32,768 rows x features, minibatches of 256 rows
        above (digits, 1437 rows x 64 features, fits several times faster by minibatch,
        with log loss and calibration within the seed-to-seed spread).
    max_iter : int, default=20000
        Maximum number of ADVI iterations. With the defaults, fits of small problems
        stopped after 4,000-10,000 iterations.
    learning_rate : float, default=0.01
        Step size of the Adam optimiser.
    tol : float or None, default=1e-3
        Relative tolerance of the stopping rule: every 100 iterations the mean negative
        ELBO of those iterations is compared with the best so far; if it has not improved
        by more than ``tol`` times the best for ``n_iter_no_change`` consecutive checks,
        fitting stops. None runs exactly ``max_iter`` iterations.
    n_iter_no_change : int, default=10
        Number of checks without improvement before stopping.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training rows; every 100
        iterations score their log loss under the current posterior (up to 100 draws),
        stop when it has not improved by ``tol`` (relative) for ``n_iter_no_change``
        checks, and keep the best posterior seen rather than the last. A better signal
        than the noisy minibatch ELBO, at the price of fewer training rows. Not used by
        ``partial_fit``.
    validation_fraction : float, default=0.1
        Fraction of the training rows held out when ``early_stopping`` is True.
    n_draws : int, default=500
        Posterior weight draws used by the predict methods. With NUTS, the draws kept
        from the chains (evenly spaced over ``chains * draws``; all of them if that is
        fewer).
    chains : int, default=2
        NUTS only: independent Markov chains (run in parallel threads with nutpie). On the
        seed, 4 or 8 chains detected far-away inputs no better than 2 and took 2-4 times
        as long on 2 cores.
    tune : int, default=500
        NUTS only: warm-up iterations of each chain (step size and mass matrix
        adaptation), discarded.
    draws : int, default=250
        NUTS only: iterations of each chain kept after ``tune``; with the defaults the
        2 x 250 draws are the ``n_draws=500`` the predict methods use.
    target_accept : float, default=0.8
        NUTS only: target acceptance rate of the step-size adaptation; raise it (e.g.
        0.9 or 0.95) when the fit reports divergences.
    nuts_sampler : {"auto", "nutpie", "pymc"}, default="auto"
        NUTS only: "nutpie" (the ``nuts`` extra: ``pip install nutpie``), PyMC's own
        sampler "pymc", or "auto", nutpie when it is installed. The two give different
        draws for the same ``random_state``; nutpie is several times faster.
    init_std : float, default=0.05
        Starting standard deviation of the variational posterior of every parameter
        (PyMC's ``start_sigma``; for full rank, the diagonal of the starting Cholesky
        factor). PyMC's default, about 0.69, lets small mean-field networks collapse to
        the prior and predict a constant.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        ``{label: weight}``, or "balanced" for ``n_samples / (n_classes * count)``, as in
        LogisticRegression. None weighs all classes 1.
    warm_start : bool, default=False
        When True and the model is fitted, ``fit`` continues ADVI from the current
        posterior (means and standard deviations, or the full-rank factor; the Adam
        moments restart) and the loss curve goes on; the classes and layer sizes must be
        unchanged. When False, every ``fit`` starts afresh.
    random_state : int, RandomState instance or None, default=None
        Seeds the starting weights, the ADVI noise and minibatches, and the posterior
        draws used by the predict methods. An int gives identical predictions in any
        process.
    verbose : bool, default=False
        Show the progress bar of ADVI or of the NUTS sampler while fitting.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    loss_curve_ : ndarray of shape (n_iter_,) or None
        Negative ELBO at every iteration, on the scale of the full training set (also
        for minibatch ADVI); it continues across warm-started fits and ``partial_fit``.
        None for NUTS.
    n_iter_ : int
        Number of ADVI iterations run, over all continued fits; for NUTS, the iterations
        of each chain (``tune + draws``).
    n_samples_seen_ : int or None
        Rows the likelihood was fitted on (the training rows of the last ``fit``, or the
        rows passed to ``partial_fit`` so far); None for a model saved by version 0.1.
    validation_loss_ : ndarray of shape (n_checks,) or None
        With ``early_stopping``: the validation log loss at every check; else None.
    best_validation_loss_ : float or None
        With ``early_stopping``: the lowest validation log loss, that of the posterior
        kept; else None.
    coefs_mean_, coefs_std_ : list of ndarray of shape (n_in, n_out)
        Posterior mean and standard deviation of the weights of each layer.
    intercepts_mean_, intercepts_std_ : list of ndarray of shape (n_out,)
        Posterior mean and standard deviation of the biases of each layer.
    posterior_cholesky_ : ndarray of shape (n_params, n_params) or None
        Full-rank ADVI only: lower Cholesky factor of the posterior covariance over all
        parameters in the order ``coefs[0].ravel(), intercepts[0], coefs[1].ravel(), ...``.
        None for mean-field ADVI.
    posterior_draws_ : ndarray of shape (n_kept, n_params) or None
        NUTS only: the draws the predict methods use, ``min(n_draws, chains * draws)``
        of them evenly spaced over the chains, in the parameter order above;
        ``coefs_mean_`` and the other summaries are the mean and standard deviation of
        all draws. None for ADVI.
    n_divergences_ : int or None
        NUTS only: divergent transitions after tuning, over all chains. A few are
        common in network posteriors; many mean the draws are biased (raise
        ``target_accept``). None for ADVI.
    rhat_, ess_ : ndarray of shape (n_params,) or None
        NUTS only: rank-normalised split R-hat and bulk effective sample size (ArviZ) of
        each parameter, in the parameter order above. A network's posterior has many
        equivalent modes (hidden units can swap places, signs can flip), so chains
        that settle in different modes give a large R-hat for the weights while making
        the same predictions: read ``predictive_rhat_`` first. None for ADVI.
    predictive_rhat_ : float or None
        NUTS only: the largest R-hat of the predicted class probabilities over (up to
        200) training rows, which does not depend on which mode each chain found. Above
        1.1 the chains disagree about the fit itself: a ``ConvergenceWarning`` says to
        raise ``tune`` and ``draws``. None for ADVI.
    draws_seed_ : int
        Seed of the posterior draws shared by every call to the predict methods.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The point-estimate network.

    References
    ----------
    Kucukelbir et al. (2017), "Automatic Differentiation Variational Inference", JMLR.
    T. Wiecki (2016), "Bayesian Deep Learning", the notebook this estimator grew from.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from bnn_sklearn import BayesianMLPClassifier
    >>> X, y = make_moons(200, noise=0.2, random_state=0)
    >>> clf = BayesianMLPClassifier(max_iter=2000, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "prior_scale": [Interval(Real, 0, None, closed="neither")],
        "method": [StrOptions({"advi", "fullrank_advi", "nuts"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_draws": [Interval(Integral, 1, None, closed="left")],
        "chains": [Interval(Integral, 1, None, closed="left")],
        "tune": [Interval(Integral, 1, None, closed="left")],
        "draws": [Interval(Integral, 1, None, closed="left")],
        "target_accept": [Interval(Real, 0, 1, closed="neither")],
        "nuts_sampler": [StrOptions({"auto", "nutpie", "pymc"})],
        "init_std": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        activation="relu",
        prior_scale=2.0,
        method="advi",
        batch_size="auto",
        max_iter=20000,
        learning_rate=0.01,
        tol=1e-3,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        n_draws=500,
        chains=2,
        tune=500,
        draws=250,
        target_accept=0.8,
        nuts_sampler="auto",
        init_std=0.05,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.method = method
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_draws = n_draws
        self.chains = chains
        self.tune = tune
        self.draws = draws
        self.target_accept = target_accept
        self.nuts_sampler = nuts_sampler
        self.init_std = init_std
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the variational posterior of the network's weights to ``(X, y)``.

        With ``warm_start=True`` and a fitted model, ADVI continues from the current
        posterior instead of starting afresh.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; standardised features fit best.
        y : array-like of shape (n_samples,)
            Class labels of any type (strings, ints, bools); at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row's log-likelihood term: an integer weight
            counts as that many copies of the row. None weighs every row 1.

        Returns
        -------
        self : BayesianMLPClassifier
            The fitted estimator.
        """
        continuing = self.warm_start and self.__sklearn_is_fitted__()
        return self._fit(X, y, sample_weight, continuing=continuing, incremental=False)

    def _partial_fit_available(self) -> bool:
        if self.method == "nuts":
            raise AttributeError(
                "partial_fit is not available with method='nuts': NUTS samples the posterior "
                "from the whole data at once. Use fit, or method='advi' to stream chunks."
            )
        return True

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, total_size=None):
        """Run one pass of ADVI over a chunk of data, continuing from the current posterior.

        For data that do not fit in memory, or that arrive over time: call it once per
        chunk, as many passes over the chunks as needed. One pass over ``X`` is
        ``ceil(n_samples / b)`` ADVI iterations on minibatches of ``b`` rows
        (``batch_size``; 256 for "auto"; the whole chunk for None). There is no stopping
        rule and no early stopping; the loss curve continues across calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its class labels, all of them in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole data; required on the first call (unless the model
            was fitted by ``fit`` before), ignored or checked afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows' log-likelihood terms, as in :meth:`fit`.
        total_size : int, default=None
            Rows in the whole data set the chunks come from: the likelihood is scaled to
            it (PyMC's ``total_size``). None uses the number of rows passed to
            ``partial_fit`` so far, which is right for a single pass over a stream; pass
            it when you make several passes over the same data.

        Returns
        -------
        self : BayesianMLPClassifier
            The updated estimator.
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class counts of the whole data set, "
                "which partial_fit does not see; pass class_weight as a dict instead."
            )
        if total_size is not None and not (isinstance(total_size, Integral) and total_size > 0):
            raise ValueError(f"total_size must be a positive integer, got {total_size!r}.")
        first_call = not self.__sklearn_is_fitted__()
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if not first_call and classes is not None:
            if not np.array_equal(self.classes_, unique_labels(classes)):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the previous calls, "
                    f"{self.classes_!r}."
                )
        return self._fit(
            X,
            y,
            sample_weight,
            continuing=not first_call,
            incremental=True,
            classes=classes,
            total_size=total_size,
        )

    def _fit(self, X, y, sample_weight, *, continuing, incremental, classes=None, total_size=None):
        # On any error or interrupt the estimator is left exactly as it was.
        before = dict(self.__dict__)
        try:
            return self._fit_unguarded(
                X, y, sample_weight, continuing, incremental, classes, total_size
            )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_unguarded(self, X, y, sample_weight, continuing, incremental, classes, total_size):
        # PyMC is imported here, not at module level: prediction never needs it.
        from ._network import Architecture

        self._check_method_options(continuing)
        hidden = self._validate_hidden_layer_sizes()
        X, y = validate_data(self, X, y, dtype=np.float64, reset=not continuing)
        check_classification_targets(y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        classes = self._check_classes(y, classes, continuing, incremental)
        if self.class_weight is not None:
            sample_weight = sample_weight * compute_sample_weight(self.class_weight, y)
        y = np.searchsorted(classes, y).astype(np.int32)
        layer_sizes = (X.shape[1], *hidden, 1 if len(classes) == 2 else len(classes))

        rng = check_random_state(self.random_state)
        init_seed, fit_seed, draws_seed, split_seed = rng.randint(np.iinfo(np.int32).max, size=4)
        if self.method == "nuts":
            arch = Architecture(X.shape[1], hidden, self.activation, layer_sizes[-1], "nuts", None)
            self._fit_nuts(arch, classes, X, y, sample_weight, int(fit_seed), draws_seed)
            return self
        previous_losses = self.loss_curve_ if continuing else np.empty(0)
        if continuing:  # fresh noise for every continuation, still set by random_state
            fit_seed = np.random.SeedSequence([fit_seed, len(previous_losses)]).generate_state(1)[0]

        monitor = None
        if self.early_stopping and not incremental:
            X, X_val, y, y_val, sample_weight, weight_val = train_test_split(
                X,
                y,
                sample_weight,
                test_size=self.validation_fraction,
                stratify=y,
                random_state=split_seed,
            )
            monitor = ValidationLogLoss(
                X_val,
                y_val,
                weight_val,
                layer_sizes,
                self.activation,
                min(self.n_draws, EARLY_STOPPING_DRAWS),
                int(draws_seed),
            )
        arch = Architecture(
            n_features=X.shape[1],
            hidden_layer_sizes=hidden,
            activation=self.activation,
            n_outputs=layer_sizes[-1],
            method=self.method,
            batch_size=self._effective_batch_size(X.shape, partial=incremental),
        )
        if continuing:
            init = self._current_posterior(arch)
        else:
            init = Posterior(
                _initial_means(layer_sizes, init_seed),
                np.full(n_parameters(layer_sizes), self.init_std),
            )
        if incremental:  # one pass over the chunk, no stopping rule
            n_samples_seen = X.shape[0] + (getattr(self, "n_samples_seen_", None) or 0)
            max_iter = -(-X.shape[0] // (arch.batch_size or X.shape[0]))
            tol, total_size = None, total_size or n_samples_seen
        else:
            n_samples_seen = total_size = X.shape[0]
            max_iter, tol = self.max_iter, self.tol
        result = self._run_advi(
            arch,
            X,
            y,
            sample_weight=sample_weight,
            total_size=total_size,
            prior_scale=self.prior_scale,
            learning_rate=self.learning_rate,
            init=init,
            seed=int(fit_seed),
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=self.n_iter_no_change,
            monitor=monitor,
            verbose=bool(self.verbose),
        )
        self._write_fitted_state(
            arch,
            classes,
            result.posterior,
            # float32: the curve is for plotting and diagnosis, and most of a pickle's bytes.
            np.concatenate([previous_losses, result.losses]).astype(np.float32),
            result.validation_losses,
            draws_seed,
        )
        self.n_samples_seen_ = n_samples_seen
        if tol is not None and not result.converged:
            warn_at_caller(
                f"ADVI did not converge in max_iter={self.max_iter} iterations; increase "
                "max_iter or learning_rate, or loosen tol.",
                ConvergenceWarning,
            )
        return self

    def _check_method_options(self, continuing: bool) -> None:
        """Refuse, before any work, options that the chosen method cannot honour."""
        if self.method != "nuts":
            if continuing and getattr(self, "posterior_draws_", None) is not None:
                raise ValueError(
                    "Cannot continue ADVI from a posterior sampled by NUTS: set "
                    "warm_start=False (or start partial_fit on a fresh estimator)."
                )
            return
        refused = {
            "early_stopping=True": self.early_stopping,
            "warm_start=True": self.warm_start,
            f"batch_size={self.batch_size!r}": isinstance(self.batch_size, Integral),
        }
        for option, used in refused.items():
            if used:
                raise ValueError(
                    f"method='nuts' does not support {option}: NUTS samples the posterior "
                    "from scratch using every row at every step. Use method='advi' for "
                    "streaming, continued fits, early stopping or minibatches, or drop "
                    "the option (batch_size='auto' or None) to sample with NUTS."
                )

    def _fit_nuts(self, arch, classes, X, y, sample_weight, seed, draws_seed) -> None:
        """Sample the posterior with NUTS and keep its draws and diagnostics."""
        from ._nuts import SAMPLERS, resolve_sampler, summarize_draws

        sampler = resolve_sampler(self.nuts_sampler)
        with SAMPLERS.engine(arch) as model:
            result = model.sample(
                X,
                y,
                sample_weight=sample_weight,
                prior_scale=self.prior_scale,
                sampler=sampler,
                chains=self.chains,
                tune=self.tune,
                draws=self.draws,
                target_accept=self.target_accept,
                seed=seed,
                verbose=bool(self.verbose),
            )
        posterior, diagnostics = summarize_draws(
            result, self.n_draws, arch.layer_sizes, self.activation, X
        )
        self._write_fitted_state(arch, classes, posterior, None, None, draws_seed)
        self.n_iter_ = self.tune + self.draws
        self.n_samples_seen_ = X.shape[0]
        self.n_divergences_ = diagnostics.n_divergences
        self.rhat_, self.ess_ = diagnostics.rhat, diagnostics.ess
        self.predictive_rhat_ = diagnostics.predictive_rhat
        problems = diagnostics.problems()
        if problems:
            warn_at_caller("NUTS diagnostics: " + "; ".join(problems) + ".", ConvergenceWarning)

    def _check_classes(self, y, classes, continuing, incremental) -> np.ndarray:
        """The classes of the fitted model, checked against ``y``."""
        if incremental:
            known = self.classes_ if continuing else unique_labels(classes)
            unseen = np.setdiff1d(y, known)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()!r} that are not in classes "
                    f"{known.tolist()!r}; pass every class of the data on the first call."
                )
        else:
            known = np.unique(y)
            if continuing and not np.array_equal(known, self.classes_):
                raise ValueError(
                    "warm_start needs y to have the same classes as the previous fit "
                    f"({self.classes_.tolist()!r}), got {known.tolist()!r}; set "
                    "warm_start=False to fit afresh."
                )
        if len(known) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but the data "
                f"contain only one class: {known[0]!r}."
            )
        return known

    def _fitted_posterior(self) -> tuple[tuple[int, ...], Posterior]:
        """Layer sizes and posterior of the fitted network."""
        layer_sizes = (self.n_features_in_, *(b.size for b in self.intercepts_mean_))
        return layer_sizes, Posterior(
            flatten_layers(self.coefs_mean_, self.intercepts_mean_),
            flatten_layers(self.coefs_std_, self.intercepts_std_),
            self.posterior_cholesky_,
            self.posterior_draws_,
        )

    def _current_posterior(self, arch) -> Posterior:
        """The fitted posterior, to continue from; its shape must match ``arch``."""
        layer_sizes, posterior = self._fitted_posterior()
        if layer_sizes != arch.layer_sizes:
            raise ValueError(
                f"Cannot continue fitting: the fitted network has layer sizes {layer_sizes}, "
                f"the current parameters give {arch.layer_sizes}. Set warm_start=False (or "
                "start partial_fit on a fresh estimator) to fit afresh."
            )
        return posterior

    def _write_fitted_state(
        self, arch, classes, posterior, loss_curve, validation_losses, draws_seed
    ) -> None:
        """Set every fitted attribute of either method (the NUTS diagnostics to None)."""
        self.classes_ = classes
        self.coefs_mean_, self.intercepts_mean_ = unflatten_layers(posterior.mean, arch.layer_sizes)
        self.coefs_std_, self.intercepts_std_ = unflatten_layers(posterior.std, arch.layer_sizes)
        self.posterior_cholesky_ = posterior.cholesky
        self.posterior_draws_ = posterior.draws
        self.loss_curve_ = loss_curve
        self.n_iter_ = 0 if loss_curve is None else len(loss_curve)
        self.validation_loss_ = validation_losses
        self.best_validation_loss_ = (
            None if validation_losses is None else float(validation_losses.min())
        )
        self.n_divergences_ = self.rhat_ = self.ess_ = self.predictive_rhat_ = None
        self.draws_seed_ = int(draws_seed)

    def _run_advi(self, arch, X, y, **settings):
        """Fit ADVI with a pooled compiled engine (the benchmarks swap in stock ``pm.fit``)."""
        from ._inference import ENGINES

        with ENGINES.engine(arch) as engine:
            return engine.fit(X, y, **settings)

    def __getstate__(self):
        state = super().__getstate__()
        state["_state_format"] = STATE_FORMAT
        return state

    def __setstate__(self, state):
        """Restore a pickled or skops-loaded estimator, checking its fitted state.

        Models saved by bnn_sklearn 0.1 (format 1) gain the parameters and attributes
        added since, at their defaults; a model from a newer format, or with arrays that
        do not fit together (a damaged or edited file), is refused with a ValueError that
        says why.
        """
        state = dict(state)
        saved_format = state.pop("_state_format", 1)
        if saved_format > STATE_FORMAT:
            raise ValueError(
                f"This model was saved by a newer bnn_sklearn (state format {saved_format}; "
                f"this version reads up to {STATE_FORMAT}). Upgrade bnn_sklearn to load it."
            )
        # Parameters added since the model was saved take their defaults.
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if parameter.default is not inspect.Parameter.empty:
                state.setdefault(name, parameter.default)
        if "draws_seed_" in state:
            # Attributes added since: None (0.1 fits saw all their rows; ADVI has no draws).
            for version, added in ADDED_ATTRIBUTES.items():
                if saved_format < version:
                    for name, value in added.items():
                        state.setdefault(name, value)
        super().__setstate__(state)
        if "draws_seed_" in state:
            _check_fitted_state(self)

    def __sklearn_is_fitted__(self) -> bool:
        # validate_data sets n_features_in_ before ADVI runs; only a posterior means fitted.
        return hasattr(self, "draws_seed_")

    def _validate_hidden_layer_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if not isinstance(sizes, Integral):
            sizes = tuple(np.asarray(sizes).ravel().tolist())
        else:
            sizes = (sizes,)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _effective_batch_size(self, shape: tuple[int, int], partial: bool = False) -> int | None:
        """Rows per ADVI step, None for full batch.

        For partial_fit, "auto" means minibatches of AUTO_BATCH_SIZE rows whatever the
        chunk's size: streaming is the minibatch regime.
        """
        n_samples, n_features = shape
        if self.batch_size == "auto":
            if partial:
                small = n_samples <= AUTO_BATCH_SIZE
            else:
                small = n_samples <= AUTO_FULL_BATCH_ROWS
                small = small and n_samples * n_features <= AUTO_FULL_BATCH_CELLS
            return None if small else AUTO_BATCH_SIZE
        if self.batch_size is None or self.batch_size >= n_samples:
            return None
        return int(self.batch_size)

    def _draw_probabilities(self, X):
        """Yield per-draw class probabilities ``(n_draws, rows, n_classes)`` by row chunks."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        layer_sizes, posterior = self._fitted_posterior()
        return predictive_draws(
            posterior, layer_sizes, self.activation, X, self.n_draws, self.draws_seed_
        )

    def predict_proba(self, X):
        """Posterior predictive class probabilities: the mean over weight draws.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``; rows sum to 1.
        """
        return np.concatenate([p.mean(axis=0) for p in self._draw_probabilities(X)])

    def predict_std(self, X):
        """Standard deviation of the class probabilities over posterior weight draws.

        This is the epistemic spread: how much the fitted networks disagree about the
        probability of each class. It is small where the data pin the function down and
        largest along the decision boundary, more so where the boundary runs on beyond the
        training data than where it passes between training points. Fitted by mean-field
        ADVI with the default network it is no detector of inputs unlike the training
        data: away from the data a ReLU network extrapolates linearly and ADVI's draws
        agree in most directions. NUTS's draws (``method="nuts"``) and networks of two
        hidden layers disagree more there (see the README). It is not the standard deviation
        of sampled labels, which for a Bernoulli is ``sqrt(p * (1 - p))``, a function of
        the mean probability that says nothing new.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        std : ndarray of shape (n_samples, n_classes)
            Standard deviation over draws of the probability of each class.
        """
        return np.concatenate([p.std(axis=0) for p in self._draw_probabilities(X)])

    def predict_proba_draws(self, X):
        """Class probabilities under each posterior weight draw.

        The draws behind :meth:`predict_proba` (their mean), :meth:`predict_std` and
        :meth:`predict_uncertainty`, for credible intervals or summaries of your own.
        Holds ``n_draws * n_samples * n_classes`` numbers at once; the other predict
        methods work through ``X`` in chunks instead.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_draws, n_samples, n_classes)
            Probability of each class in ``classes_`` under each draw.
        """
        return np.concatenate(list(self._draw_probabilities(X)), axis=1)

    def predict_uncertainty(self, X) -> PredictiveUncertainty:
        """Split the predictive uncertainty into its aleatoric and epistemic parts.

        With ``p_d`` the class probabilities under draw ``d`` and ``H`` the entropy (nats):

        - ``total = H(mean_d p_d)``, the entropy of :meth:`predict_proba`;
        - ``aleatoric = mean_d H(p_d)``, the expected entropy: noise the model sees in the
          data, which more data would not remove;
        - ``epistemic = total - aleatoric``, the mutual information between the label and
          the weights: disagreement between draws (where it is large, see
          :meth:`predict_std`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        uncertainty : PredictiveUncertainty
            Named tuple of three arrays of shape (n_samples,): ``total``, ``aleatoric``
            and ``epistemic``.
        """
        parts = [uncertainty_decomposition(p) for p in self._draw_probabilities(X)]
        return PredictiveUncertainty(*(np.concatenate(column) for column in zip(*parts)))

    def predict(self, X):
        """Most probable class under the posterior predictive.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _check_fitted_state(clf: BayesianMLPClassifier) -> None:
    """Refuse a fitted state whose arrays do not make one consistent network."""
    try:
        sizes = (clf.n_features_in_, *(b.shape[-1] for b in clf.intercepts_mean_))
        n_params = n_parameters(sizes)
        parts = [*clf.coefs_mean_, *clf.coefs_std_, *clf.intercepts_mean_, *clf.intercepts_std_]
        expected = [(a, b) for a, b in pairwise(sizes)] * 2 + [(b,) for b in sizes[1:]] * 2
        problems = [
            f"an array of shape {np.shape(part)} where {shape} belongs"
            for part, shape in zip(parts, expected)
            if np.shape(part) != shape
        ]
        if len(parts) != len(expected):
            problems.append("a different number of weight and bias arrays")
        if not all(np.all(np.isfinite(part)) for part in parts):
            problems.append("non-finite posterior parameters")
        # A Gaussian needs sd > 0; the sd of sampled draws is 0 where only one was drawn.
        sampled = clf.posterior_draws_ is not None
        for part in (*clf.coefs_std_, *clf.intercepts_std_):
            if np.any(np.asarray(part) < 0) or (not sampled and np.any(np.asarray(part) == 0)):
                problems.append("non-positive posterior standard deviations")
                break
        n_outputs = sizes[-1]
        if n_outputs != (1 if len(clf.classes_) == 2 else len(clf.classes_)):
            problems.append(f"{len(clf.classes_)} classes for {n_outputs} network outputs")
        cholesky = clf.posterior_cholesky_
        if cholesky is not None and np.shape(cholesky) != (n_params, n_params):
            problems.append(f"a Cholesky factor of shape {np.shape(cholesky)}")
        elif cholesky is not None and not np.all(np.isfinite(cholesky)):
            problems.append("a non-finite Cholesky factor")
        draws = clf.posterior_draws_
        if draws is not None:
            if np.ndim(draws) != 2 or np.shape(draws)[1] != n_params or len(draws) == 0:
                problems.append(f"posterior draws of shape {np.shape(draws)}")
            elif not np.all(np.isfinite(draws)):
                problems.append("non-finite posterior draws")
    except (AttributeError, TypeError) as error:
        problems = [f"a missing or malformed attribute ({error})"]
    if problems:
        raise ValueError(
            f"The saved {type(clf).__name__} is damaged or was edited: it has "
            + "; ".join(problems)
            + ". Refit the model, or load a file you trust."
        )


def _initial_means(layer_sizes: tuple[int, ...], seed: int) -> np.ndarray:
    """Glorot-uniform starting means for the weights, zeros for the biases."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in pairwise(layer_sizes):
        bound = np.sqrt(6.0 / (n_in + n_out))
        weights.append(rng.uniform(-bound, bound, size=(n_in, n_out)))
        biases.append(np.zeros(n_out))
    return flatten_layers(weights, biases)
