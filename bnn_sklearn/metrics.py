"""Calibration and accuracy-rejection metrics, proper scores of predictive distributions, and
scorers for scikit-learn's model selection tools."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.utils import column_or_1d
from sklearn.utils.validation import _check_sample_weight, check_array, check_consistent_length

from .distributions import NormalMixture, predictive_distribution


def expected_calibration_error(y_true, y_prob, *, n_bins: int = 15, labels=None) -> float:
    """Top-label expected calibration error (ECE) of predicted class probabilities.

    The predictions are sorted into ``n_bins`` equal-width bins by their confidence (the
    largest class probability, in ``((m - 1) / n_bins, m / n_bins]``); the ECE is the
    average over bins, weighted by their share of samples, of ``|accuracy - confidence|``.
    0 is perfectly calibrated; lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, of any type.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in the order of ``labels``; a 1-D array is the
        probability of the second (positive) label of a binary problem.
    n_bins : int, default=15
        Number of confidence bins.
    labels : array-like of shape (n_classes,), default=None
        The labels the columns of ``y_prob`` stand for, e.g. a classifier's ``classes_``;
        by default the sorted unique values of ``y_true``.

    Returns
    -------
    ece : float
        Expected calibration error, in [0, 1].

    Examples
    --------
    >>> from bnn_sklearn.metrics import expected_calibration_error
    >>> y_prob = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]
    >>> round(expected_calibration_error(["a", "b", "b"], y_prob), 6)
    0.3
    """
    confidence, correct, bins = calibration_bins(y_true, y_prob, n_bins=n_bins, labels=labels)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def calibration_bins(y_true, y_prob, *, n_bins: int = 15, labels=None):
    """Top-class confidence, correctness and confidence bin of every prediction.

    The bins are those of :func:`expected_calibration_error`, which is computed from them.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, of any type.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in the order of ``labels``; a 1-D array is the
        probability of the second (positive) label of a binary problem.
    n_bins : int, default=15
        Number of equal-width confidence bins.
    labels : array-like of shape (n_classes,), default=None
        The labels the columns of ``y_prob`` stand for, e.g. a classifier's ``classes_``;
        by default the sorted unique values of ``y_true``.

    Returns
    -------
    confidence : ndarray of shape (n_samples,)
        Largest predicted probability.
    correct : ndarray of bool of shape (n_samples,)
        Whether the most probable label is the true one.
    bins : ndarray of int of shape (n_samples,)
        Bin ``m`` holds confidences in ``(m / n_bins, (m + 1) / n_bins]`` (bin 0 also 0).
    """
    y_true = column_or_1d(y_true)
    y_prob = check_array(y_prob, ensure_2d=False, dtype=np.float64)
    check_consistent_length(y_true, y_prob)
    if y_prob.ndim == 1:
        y_prob = np.column_stack([1.0 - y_prob, y_prob])
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if y_prob.shape[1] != len(labels):
        raise ValueError(
            f"y_prob has {y_prob.shape[1]} columns but there are {len(labels)} labels; "
            "pass labels= (e.g. the classifier's classes_) in the order of the columns."
        )
    if not np.all(np.isin(y_true, labels)):
        raise ValueError("y_true contains labels that are not in labels.")
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    confidence = y_prob.max(axis=1)
    correct = labels[y_prob.argmax(axis=1)] == y_true
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return confidence, correct, np.searchsorted(edges[1:-1], confidence, side="left")


def accuracy_rejection_curve(y_true, y_pred, uncertainty, *, max_rejected=0.5, n_points=26):
    """Accuracy on the most certain samples as the most uncertain ones are set aside.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    uncertainty : array-like of shape (n_samples,)
        Uncertainty of each prediction, larger is less sure (for example
        ``predict_uncertainty(X).total`` or ``predict_std(X).max(axis=1)``); the most
        uncertain samples are rejected first.
    max_rejected : float, default=0.5
        Largest fraction of the samples to reject.
    n_points : int, default=26
        Number of rejected fractions, evenly spaced from 0 to ``max_rejected``.

    Returns
    -------
    rejected : ndarray of shape (n_points,)
        Fractions rejected, from 0 to ``max_rejected``.
    accuracy : ndarray of shape (n_points,)
        Accuracy on the samples kept.
    """
    order = np.argsort(np.asarray(uncertainty), kind="stable")
    correct = (np.asarray(y_true) == np.asarray(y_pred))[order]
    rejected = np.linspace(0.0, max_rejected, n_points)
    kept = np.maximum(1, np.round((1 - rejected) * len(correct)).astype(int))
    return rejected, np.array([correct[:k].mean() for k in kept])


def mean_accuracy_kept(y_true, y_prob, *, labels, max_rejected: float = 0.5) -> float:
    """Mean accuracy on the points kept as the least confident ones are set aside.

    Confidence is the highest class probability. The accuracy is averaged over rejected
    fractions from 0 to ``max_rejected``. A model whose confidence ranks its errors first
    scores above its plain accuracy.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes)
        Predicted class probabilities, columns in the order of ``labels``.
    labels : array-like of shape (n_classes,)
        Labels of the columns of ``y_prob``, e.g. ``classes_``.
    max_rejected : float, default=0.5
        Largest fraction of the samples to reject.

    Returns
    -------
    score : float
        Mean accuracy over the rejected fractions, in [0, 1]; higher is better.
    """
    y_prob = np.asarray(y_prob)
    predicted = np.asarray(labels)[y_prob.argmax(axis=1)]
    _, accuracy = accuracy_rejection_curve(
        y_true, predicted, -y_prob.max(axis=1), max_rejected=max_rejected
    )
    return float(accuracy.mean())


def accuracy_rejection_score(estimator, X, y) -> float:
    """Scorer: :func:`mean_accuracy_kept` of ``estimator.predict_proba(X)``.

    Use it as ``scoring=accuracy_rejection_score`` in ``GridSearchCV`` or
    ``cross_val_score``, or inside a ``scoring`` dict.

    Parameters
    ----------
    estimator : fitted classifier
        Any classifier with ``predict_proba`` and ``classes_``.
    X : array-like of shape (n_samples, n_features)
        Input samples.
    y : array-like of shape (n_samples,)
        True labels.

    Returns
    -------
    score : float
        Mean accuracy on the points kept as 0-50 % are rejected; greater is better.
    """
    return mean_accuracy_kept(y, estimator.predict_proba(X), labels=estimator.classes_)


def neg_expected_calibration_error(estimator, X, y) -> float:
    """Scorer: minus the ECE of ``estimator.predict_proba(X)`` (greater is better).

    Use it as ``scoring=neg_expected_calibration_error`` in ``GridSearchCV`` or
    ``cross_val_score``, or inside a ``scoring`` dict; labels follow ``classes_``, so a
    test fold that lacks a class is scored correctly.

    Parameters
    ----------
    estimator : fitted classifier
        Any classifier with ``predict_proba`` and ``classes_``.
    X : array-like of shape (n_samples, n_features)
        Input samples.
    y : array-like of shape (n_samples,)
        True labels.

    Returns
    -------
    score : float
        Minus the expected calibration error (15 bins); greater is better.
    """
    return -expected_calibration_error(y, estimator.predict_proba(X), labels=estimator.classes_)


class PredictiveUncertainty(NamedTuple):
    """Per-sample predictive entropy and its split, in nats.

    Returned by :func:`uncertainty_decomposition` and by the classifier's
    ``predict_uncertainty``.

    Parameters
    ----------
    total : ndarray of shape (n_samples,)
        Entropy of the mean predicted probabilities.
    aleatoric : ndarray of shape (n_samples,)
        Mean entropy of each draw's probabilities: noise in the data itself.
    epistemic : ndarray of shape (n_samples,)
        ``total - aleatoric``, the mutual information between the label and the draw:
        how much the draws disagree.
    """

    total: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray


def uncertainty_decomposition(proba_draws) -> PredictiveUncertainty:
    """Split predictive entropy into aleatoric and epistemic parts, from probability draws.

    With ``p_d`` the class probabilities under draw ``d`` (a posterior weight draw, a
    member of an ensemble, a tree of a forest) and ``H`` the entropy in nats:

    - ``total = H(mean_d p_d)``, the entropy of the averaged prediction;
    - ``aleatoric = mean_d H(p_d)``, the expected entropy: noise in the data itself;
    - ``epistemic = total - aleatoric``, the mutual information between the label and the
      draw: how much the draws disagree.

    ``BayesianMLPClassifier.predict_uncertainty`` is this function applied to its
    ``predict_proba_draws``; it serves any ensemble just as well.

    Parameters
    ----------
    proba_draws : array-like of shape (n_draws, n_samples, n_classes)
        Class probabilities under each draw; rows sum to 1.

    Returns
    -------
    uncertainty : PredictiveUncertainty
        Named tuple of three arrays of shape (n_samples,): ``total``, ``aleatoric`` and
        ``epistemic``.
    """
    proba = check_array(proba_draws, ensure_2d=False, allow_nd=True, dtype=np.float64)
    if proba.ndim != 3:
        raise ValueError(
            "proba_draws must have shape (n_draws, n_samples, n_classes); "
            f"got an array of shape {proba.shape}."
        )
    total = _entropy(proba.mean(axis=0))
    aleatoric = _entropy(proba).mean(axis=0)
    # Mutual information is never negative; round-off can make the difference so.
    return PredictiveUncertainty(total, aleatoric, np.maximum(total - aleatoric, 0.0))


def _entropy(proba: np.ndarray) -> np.ndarray:
    return -np.sum(proba * np.log(np.clip(proba, 1e-300, None)), axis=-1)


def crps(y_true, y_dist, *, sample_weight=None) -> float:
    """Mean continuous ranked probability score (CRPS) of predictive distributions.

    For a predictive distribution ``F`` and an observation ``y``, ``CRPS(F, y) = E|X - y| -
    E|X - X'| / 2`` with ``X, X'`` independent draws of ``F``: the integral of
    ``(F(t) - 1[t >= y])^2`` over ``t``. It is a proper score in the target's units (lower
    is better), and for a point forecast it is the absolute error. For a mixture of
    Normals both expectations are sums of ``E|N(mu, s^2)| = s sqrt(2/pi) exp(-mu^2 / 2
    s^2) + mu (2 Phi(mu / s) - 1)`` over components and over pairs of components, so the
    score is exact, at a cost of ``n_components^2 / 2`` terms per row (4.3-5.3 ms per
    row at 500 draws, see :class:`~bnn_sklearn.distributions.NormalMixture`; the rows are
    processed in chunks, so memory stays bounded).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_dist : NormalMixture
        Predictive distribution of each row, e.g. from
        :meth:`BayesianMLPRegressor.predict_distribution` or
        :func:`~bnn_sklearn.distributions.predictive_distribution`.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows in the mean.

    Returns
    -------
    crps : float
        Weighted mean CRPS over the rows.

    See Also
    --------
    nlpd : The negative log predictive density.
    crps_scorer : This score as a scorer for model selection.

    References
    ----------
    T. Gneiting and A. E. Raftery, "Strictly proper scoring rules, prediction, and
    estimation", Journal of the American Statistical Association 102 (2007), 359-378.

    Examples
    --------
    >>> from bnn_sklearn.distributions import NormalMixture
    >>> from bnn_sklearn.metrics import crps
    >>> standard_normal = NormalMixture([[0.0]], [[1.0]])
    >>> round(crps([0.0], standard_normal), 6)  # (sqrt(2) - 1) / sqrt(pi)
    0.233695
    """
    y_true, sample_weight = _check_scored(y_true, y_dist, sample_weight)
    return float(np.average(y_dist.crps(y_true), weights=sample_weight))


def nlpd(y_true, y_dist, *, sample_weight=None) -> float:
    """Mean negative log predictive density (NLPD) of the observed targets.

    ``-log p(y)`` under each row's predictive distribution, averaged over the rows: a
    proper score (lower is better) that, unlike the CRPS, punishes an observation the
    distribution calls nearly impossible without bound. The density is the exact mixture
    density, not a Gaussian approximation of it.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_dist : NormalMixture
        Predictive distribution of each row, as in :func:`crps`.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows in the mean.

    Returns
    -------
    nlpd : float
        Weighted mean negative log density, in nats per row.

    See Also
    --------
    crps : The continuous ranked probability score.
    nlpd_scorer : This score as a scorer for model selection.

    Examples
    --------
    >>> from bnn_sklearn.distributions import NormalMixture
    >>> from bnn_sklearn.metrics import nlpd
    >>> standard_normal = NormalMixture([[0.0]], [[1.0]])
    >>> round(nlpd([0.0], standard_normal), 6)  # log(2 pi) / 2
    0.918939
    """
    y_true, sample_weight = _check_scored(y_true, y_dist, sample_weight)
    return float(-np.average(y_dist.logpdf(y_true), weights=sample_weight))


def _check_scored(y_true, y_dist, sample_weight):
    if not isinstance(y_dist, NormalMixture):
        raise TypeError(
            "y_dist must be a NormalMixture, e.g. regressor.predict_distribution(X) or "
            "bnn_sklearn.distributions.predictive_distribution(model, X); got "
            f"{type(y_dist).__name__}."
        )
    y_true = check_array(y_true, ensure_2d=False, dtype=np.float64, input_name="y_true")
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be 1-D, one target per row; got shape {y_true.shape}.")
    if len(y_true) != len(y_dist):
        raise ValueError(
            f"y_true has {len(y_true)} values but y_dist describes {len(y_dist)} rows; "
            "they must be the same rows."
        )
    return y_true, _check_sample_weight(sample_weight, y_true)


def crps_scorer(estimator, X, y, sample_weight=None) -> float:
    """Scorer: minus the mean CRPS (:func:`crps`) of the estimator's predictive
    distribution; greater is better, as scikit-learn's ``neg_...`` scorers.

    The distribution is :func:`~bnn_sklearn.distributions.predictive_distribution`'s: the
    mixture of ``predict_distribution`` where the estimator (or a pipeline's last step) has
    it, else the Normal of ``predict(X, return_std=True)``. Pass it as
    ``scoring=bnn_sklearn.metrics.crps_scorer`` to ``GridSearchCV``,
    ``cross_validate`` or ``cross_val_score``, or inside a ``scoring`` dict (see
    ``DISTRIBUTION_SCORERS``).

    Parameters
    ----------
    estimator : estimator
        A fitted regressor with a predictive distribution.
    X : array-like of shape (n_samples, n_features)
        Input data.
    y : array-like of shape (n_samples,)
        Observed targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows.

    Returns
    -------
    score : float
        Minus the mean CRPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sklearn.model_selection import cross_val_score
    >>> from bnn_sklearn.metrics import crps_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = X @ [1.0, -1.0] + rng.normal(scale=0.3, size=60)
    >>> scores = cross_val_score(BayesianRidge(), X, y, scoring=crps_scorer, cv=3)
    >>> bool(np.all(scores < 0))
    True
    """
    dist = predictive_distribution(estimator, X)
    return -crps(y, dist, sample_weight=sample_weight)


def nlpd_scorer(estimator, X, y, sample_weight=None) -> float:
    """Scorer: minus the mean negative log predictive density (:func:`nlpd`), that is the
    mean log predictive density; greater is better.

    The distribution is found as in :func:`crps_scorer`; use it as
    ``scoring=bnn_sklearn.metrics.nlpd_scorer`` or inside a ``scoring`` dict.

    Parameters
    ----------
    estimator : estimator
        A fitted regressor with a predictive distribution.
    X : array-like of shape (n_samples, n_features)
        Input data.
    y : array-like of shape (n_samples,)
        Observed targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows.

    Returns
    -------
    score : float
        The mean log predictive density.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from bnn_sklearn.metrics import nlpd_scorer
    >>> X = np.arange(30.0)[:, None]
    >>> y = 0.5 * X[:, 0] + np.cos(X[:, 0])
    >>> model = BayesianRidge().fit(X, y)
    >>> round(nlpd_scorer(model, X, y), 2)
    -1.08
    """
    dist = predictive_distribution(estimator, X)
    return -nlpd(y, dist, sample_weight=sample_weight)


#: Both distribution scorers under scikit-learn-style names, for a ``scoring`` dict:
#: ``GridSearchCV(model, grid, scoring=DISTRIBUTION_SCORERS, refit="neg_crps")`` or
#: ``cross_validate(model, X, y, scoring={**DISTRIBUTION_SCORERS, "r2": "r2"})``.
DISTRIBUTION_SCORERS = {"neg_crps": crps_scorer, "neg_nlpd": nlpd_scorer}
