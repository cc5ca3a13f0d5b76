"""BayesianMLPClassifier: a Bayesian neural network classifier fitted by ADVI or NUTS."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from ._base import BaseBayesianMLP, Targets
from ._compat import StrOptions, _fit_context
from ._likelihoods import Likelihood, classification_likelihood
from .metrics import PredictiveUncertainty, uncertainty_decomposition


class BayesianMLPClassifier(ClassifierMixin, BaseBayesianMLP):
    """Bayesian multilayer perceptron classifier fitted by variational inference or NUTS.

    Every weight and bias has a ``Normal(0, prior_scale)`` prior. The posterior is
    approximated by PyMC's ADVI, mean-field or full rank, on the whole training set or on
    minibatches, or sampled by the No-U-Turn Sampler (``method="nuts"``). Predictions
    average the network over ``n_draws`` weight sets drawn from the fitted posterior, so
    the spread of those draws measures how sure the model is.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(16, 16)
        Units in each hidden layer; ``()`` gives Bayesian logistic regression. The default
        two layers of 16 ReLU units were chosen by log loss and by how well ``predict_std``
        tells far inputs from near ones ("How the defaults were chosen" in the user guide;
        the figures are on the benchmarks page).
    activation : {"tanh", "relu", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    prior_scale : float, default=2.0
        Standard deviation of the ``Normal(0, prior_scale)`` prior on every weight and
        bias; smaller values regularise more (the Bayesian analogue of L2). The prior
        assumes inputs of unit scale: standardise them.
    method : {"advi", "auto", "fullrank_advi", "mile", "nuts"}, default="advi"
        Mean-field ADVI (independent Gaussians), full-rank ADVI (one multivariate
        Gaussian over all parameters; quadratic in their number), MILE, or NUTS: the
        exact posterior sampled by Hamiltonian Monte Carlo, with nutpie when it is
        installed (``nuts_sampler``). NUTS takes seconds to minutes instead of ADVI's
        seconds and uses the full data at every step, but its draws disagree far from
        the training data where ADVI's agree. The ADVI settings (``batch_size``,
        ``max_iter``, ``learning_rate``, ``tol``, ``n_iter_no_change``, ``init_std``) do
        not apply to it; ``early_stopping``, ``warm_start`` and ``partial_fit`` are
        refused. "mile" fits ``chains`` mean-field ADVI members from different starting
        weights (with the ADVI settings), then runs one short NUTS chain from each
        member's mean and predicts from the draws of all chains: most of NUTS's
        predictive quality at a few times ADVI's cost ("Choosing the method" in the user
        guide). ``warm_start`` and ``partial_fit`` are refused. ``"auto"`` is mean-field
        ADVI for the classifier, whose default fits in about a second (MILE's gains and
        cost on classification: "Choosing the method"); the regressor's ``"auto"``
        samples with MILE on small data.
    batch_size : int, "auto" or None, default="auto"
        None fits on the full training set at every iteration. An int fits on random
        minibatches of that many rows (``pm.Minibatch``), the likelihood scaled to the
        full data; an int of at least the number of rows means full batch. "auto" is
        full batch up to 2048 rows and 32,768 rows x features, minibatches of 256 rows
        above.
    max_iter : int or "auto", default="auto"
        Maximum number of ADVI iterations; the stopping rule (``tol``) usually ends the
        fit well before. "auto": 20,000, and 5,000 for each MILE member (NUTS moves on
        from it).
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
    prediction_dtype : {"float64", "float32"}, default="float64"
        Floating-point type of the weights and hidden layers in the forward pass of the
        predict methods. "float32" is faster for bulk scoring and its predictions differ
        from float64 only in the last digits (measured on the benchmarks page). The fit is
        always float64.
    chains : int or "auto", default="auto"
        NUTS and MILE only: independent Markov chains (run in parallel threads with
        nutpie); for MILE, the ADVI members, one chain each. "auto": 2 for NUTS, 4 for
        MILE.
    tune : int or "auto", default="auto"
        NUTS and MILE only: warm-up iterations of each chain (step size and mass matrix
        adaptation), discarded. "auto": 500 for NUTS, 300 for MILE (its chains start
        at ADVI's means, near the posterior's bulk).
    draws : int or "auto", default="auto"
        NUTS and MILE only: iterations of each chain kept after ``tune``. "auto": 250
        for NUTS (2 x 250 are the ``n_draws=500`` the predict methods use), 100 for MILE.
    target_accept : float or "auto", default="auto"
        NUTS and MILE only: target acceptance rate of the step-size adaptation. "auto":
        0.95 for NUTS (PyMC's default 0.8 let transitions diverge on the default
        network's posterior; raise it further, e.g. 0.99, when a fit still reports
        divergences), 0.8 for MILE (0.9 predicted worse on the UCI benchmark).
    max_treedepth : int or "auto", default="auto"
        NUTS and MILE only: a trajectory has at most ``2**max_treedepth - 1`` leapfrog
        steps (both samplers default to 10). "auto": 8 for NUTS, 6 for MILE. The default
        network's posterior makes NUTS build the longest trajectories it may; depth 8
        costs a fraction of depth 10's time with the same predictions (see "NUTS" in the
        user guide).
    nuts_sampler : {"auto", "nutpie", "pymc"}, default="auto"
        NUTS and MILE only: "nutpie" (the ``nuts`` extra: ``pip install nutpie``), PyMC's own
        sampler "pymc", or "auto", nutpie when it is installed. The two give different
        draws for the same ``random_state``; nutpie is several times faster.
    init_std : float, default=0.05
        Starting standard deviation of the variational posterior of every parameter
        (PyMC's ``start_sigma``; for full rank, the diagonal of the starting Cholesky
        factor). PyMC's default, about 0.69, lets small mean-field networks collapse to
        the prior and predict a constant.
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
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    loss_curve_ : ndarray of shape (`n_iter_`,) or None
        Negative ELBO at every iteration, on the scale of the full training set (also
        for minibatch ADVI); it continues across warm-started fits and ``partial_fit``.
        None for NUTS and MILE.
    n_iter_ : int
        Number of ADVI iterations run, over all continued fits; for NUTS and MILE, the
        iterations of each chain (``tune + draws``).
    n_samples_seen_ : int or None
        Rows the likelihood was fitted on: those of the last ``fit`` (without the rows
        held out by ``early_stopping``), plus every row passed to ``partial_fit`` since;
        None for a model saved by version 0.1.
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
        NUTS and MILE only: the draws the predict methods use, ``min(n_draws, chains * draws)``
        of them evenly spaced over the chains, in the parameter order above;
        ``coefs_mean_`` and the other summaries are the mean and standard deviation of
        all draws. None for ADVI.
    n_divergences_ : int or None
        NUTS and MILE only: divergent transitions after tuning, over all chains. A few
        are common in network posteriors; many mean the draws are biased (raise
        ``target_accept``): a ``ConvergenceWarning`` above 1 % of the transitions (25 %
        for MILE's short chains). None for ADVI.
    rhat_, ess_ : ndarray of shape (n_params,) or None
        NUTS and MILE only: rank-normalised split R-hat and bulk effective sample size (ArviZ) of
        each parameter, in the parameter order above. A network's posterior has many
        equivalent modes (hidden units can swap places, signs can flip), so chains
        that settle in different modes give a large R-hat for the weights while making
        the same predictions: read ``predictive_rhat_`` first. None for ADVI.
    predictive_rhat_ : float or None
        NUTS and MILE only: the largest R-hat of the predicted class probabilities over
        (up to 200) training rows, which does not depend on which mode each chain found.
        Above 1.1 NUTS's chains disagree about the fit itself: a ``ConvergenceWarning``
        says to raise ``tune`` and ``draws``. MILE's chains start at different members'
        means on purpose, and their disagreement is part of the predictive: it does not
        warn. None for ADVI.
    draws_seed_ : int
        Seed of the posterior draws shared by every call to the predict methods.
    method_ : str
        The method the fit used: ``method``, with ``"auto"`` resolved.
    groups_ : ndarray of shape (n_groups,) or None
        The sorted group labels seen by a fit with ``groups``; None without groups.
    group_layers_ : ndarray of int or None
        The layers that vary by group (indices from 0); None without groups.
    group_log_scale_mean_, group_log_scale_std_ : ndarray of shape (n_group_layers, 2) or None
        Posterior mean and standard deviation of the log of each varying layer's spreads
        between groups, of its weights (first column) and of its biases (second): the
        standard deviation of a weight or bias across groups. None without groups. A
        large spread means the groups need different weights there.
    group_offsets_mean_, group_offsets_std_ : ndarray of shape (n_groups, n_offsets) or None
        Posterior mean and standard deviation of each group's standardised offsets: for
        each varying layer in order, its weights (raveled) then its biases. Group ``g``'s
        layer is the population's (``coefs_mean_``, ...) plus the spread times these.
        Without groups, None. With groups, ``coefs_mean_`` and the other layer summaries
        describe the population's network, and ``posterior_cholesky_``,
        ``posterior_draws_``, ``rhat_`` and ``ess_`` cover the log spreads and the
        offsets after the likelihood's parameters.

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
        **BaseBayesianMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _own_fitted_attributes = {"classes_": 1}

    def __init__(
        self,
        hidden_layer_sizes=(16, 16),
        activation="relu",
        *,
        prior_scale=2.0,
        method="advi",
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
        class_weight=None,
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
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the posterior of the network's weights to ``(X, y)``.

        ADVI fits a Gaussian approximation of the posterior; ``method="nuts"`` samples it.
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
        groups : array-like of shape (n_samples,), default=None
            Each row's group label (strings or numbers; a store, a patient, a sensor):
            fits a hierarchical network whose ``group_layers`` vary by group around the
            population's, each group's spread learnt from the data. None fits one network
            for every row. Not with ``warm_start`` continuing a fit or ``early_stopping``.
            With metadata routing enabled, request it with ``set_fit_request(groups=True)``.

        Returns
        -------
        self : BayesianMLPClassifier
            The fitted estimator.
        """
        continuing = self.warm_start and self.__sklearn_is_fitted__()
        return self._fit(
            X, y, sample_weight, continuing=continuing, incremental=False, groups=groups
        )

    @available_if(BaseBayesianMLP._partial_fit_available)
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
        self._check_total_size(total_size)
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

    def _encode_targets(self, y, sample_weight, *, continuing, incremental, classes) -> Targets:
        check_classification_targets(y)
        classes = self._check_classes(y, classes, continuing, incremental)
        if self.class_weight is not None:
            sample_weight = sample_weight * compute_sample_weight(self.class_weight, y)
        likelihood = classification_likelihood(len(classes))
        return Targets(
            y=np.searchsorted(classes, y).astype(np.int32),
            sample_weight=sample_weight,
            likelihood=likelihood.name,
            n_outputs=likelihood.outputs_for(len(classes)),
            stratify=True,
            state={"classes_": classes},
        )

    def _fitted_likelihood(self) -> Likelihood:
        return classification_likelihood(len(self.classes_))

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

    def predict_proba(self, X, groups=None):
        """Posterior predictive class probabilities: the mean over weight draws.

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
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``; rows sum to 1.
        """
        return np.concatenate([p.mean(axis=0) for p in self._predictive_draws(X, groups)])

    def predict_std(self, X, groups=None):
        """Standard deviation of the class probabilities over posterior weight draws.

        This is the epistemic spread: how much the fitted networks disagree about the
        probability of each class. It is small where the data pin the function down and
        largest along the decision boundary, more so where the boundary runs on beyond the
        training data than where it passes between training points. Away from the data
        the draws of the default two-layer network disagree more than near it, and those
        of NUTS (``method="nuts"``) more than ADVI's. It detects less well inputs that a
        tree sees at once, such as every feature shifted beyond its training range ("What
        the uncertainty is worth" in the user guide; the figures are on the benchmarks
        page). It is not the standard deviation
        of sampled labels, which for a Bernoulli is ``sqrt(p * (1 - p))``, a function of
        the mean probability that says nothing new.

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
        std : ndarray of shape (n_samples, n_classes)
            Standard deviation over draws of the probability of each class.
        """
        return np.concatenate([p.std(axis=0) for p in self._predictive_draws(X, groups)])

    def predict_proba_draws(self, X, groups=None):
        """Class probabilities under each posterior weight draw.

        The draws behind :meth:`predict_proba` (their mean), :meth:`predict_std` and
        :meth:`predict_uncertainty`, for credible intervals or summaries of your own.
        Holds ``n_draws * n_samples * n_classes`` numbers at once; the other predict
        methods work through ``X`` in chunks instead.

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
        proba : ndarray of shape (n_draws, n_samples, n_classes)
            Probability of each class in ``classes_`` under each draw.
        """
        return np.concatenate(list(self._predictive_draws(X, groups)), axis=1)

    def predict_uncertainty(self, X, groups=None) -> PredictiveUncertainty:
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
        groups : array-like of shape (n_samples,), default=None
            Each row's group label, for a model fitted with ``groups``: a row of a group
            seen in training goes through that group's network, a row of another group
            (or every row, when None) through a new group's drawn from the population.
            Refused by a model fitted without groups.

        Returns
        -------
        uncertainty : PredictiveUncertainty
            Named tuple of three arrays of shape (n_samples,): ``total``, ``aleatoric``
            and ``epistemic``.
        """
        parts = [uncertainty_decomposition(p) for p in self._predictive_draws(X, groups)]
        return PredictiveUncertainty(*(np.concatenate(column) for column in zip(*parts)))

    def predict(self, X, groups=None):
        """Most probable class under the posterior predictive.

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
        y : ndarray of shape (n_samples,)
            Predicted labels from ``classes_``.
        """
        proba = self.predict_proba(X, groups)
        return self.classes_[np.argmax(proba, axis=1)]
