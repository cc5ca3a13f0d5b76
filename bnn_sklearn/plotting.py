"""Figures for fitted classifiers (needs matplotlib: the ``plot`` extra, ``pip install ".[plot]"``).

Every function draws on ``ax`` (a new figure's axes when None) and returns the Axes.
``accuracy_rejection_curve`` lives in :mod:`bnn_sklearn.metrics` and is importable here too.
"""

from __future__ import annotations

import numpy as np

from .metrics import accuracy_rejection_curve, calibration_bins, expected_calibration_error

_SURFACES = {
    "proba": ("RdBu_r", "Posterior predictive P(y={label})", "Highest class probability"),
    "std": ("viridis", "Posterior std of P(y={label})", "Posterior std of the top class"),
    "epistemic": ("magma", "Epistemic uncertainty (mutual information, nats)", None),
}


# Visible on the red-blue, viridis and magma surfaces alike.
_POINT_COLOURS = ["tab:orange", "tab:green", "tab:purple", "tab:cyan", "tab:olive", "white"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_decision_surface(
    estimator, X, y, *, kind="proba", ax=None, xlim=None, ylim=None, resolution=100
):
    """Contour plot of a fitted classifier's probability or uncertainty over a 2-D plane.

    Parameters
    ----------
    estimator : fitted BayesianMLPClassifier (or pipeline ending in one)
        A classifier with two input features.
    X : array-like of shape (n_samples, 2)
        Points drawn on top, coloured by ``y``.
    y : array-like of shape (n_samples,)
        Labels of ``X``.
    kind : {"proba", "std", "epistemic"}, default="proba"
        ``"proba"``: probability of the second class (binary) or of the most probable class
        (multiclass); ``"std"``: ``predict_std`` of that class; ``"epistemic"``: the mutual
        information from ``predict_uncertainty``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    xlim, ylim : (float, float), default=None
        Extent of the grid; by default the range of ``X`` padded by half its width.
    resolution : int, default=100
        Grid points per axis.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    if kind not in _SURFACES:
        raise ValueError(f"kind must be one of {sorted(_SURFACES)}, got {kind!r}.")
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_surface needs X with 2 columns, got shape {X.shape}.")
    limits = [
        given or (lo - (hi - lo) / 2, hi + (hi - lo) / 2)
        for given, lo, hi in zip((xlim, ylim), X.min(axis=0), X.max(axis=0))
    ]
    xx, yy = np.meshgrid(*(np.linspace(lo, hi, resolution) for lo, hi in limits))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    classes = estimator.classes_
    proba = estimator.predict_proba(grid)
    column = 1 if len(classes) == 2 else None
    if kind == "proba":
        values = proba[:, 1] if column else proba.max(axis=1)
    elif kind == "std":
        std = estimator.predict_std(grid)
        values = std[:, 1] if column else std[np.arange(len(grid)), proba.argmax(axis=1)]
    else:
        values = estimator.predict_uncertainty(grid).epistemic
    cmap, binary_title, multi_title = _SURFACES[kind]
    ax = _axes(ax)
    contour = ax.contourf(xx, yy, values.reshape(xx.shape), 20, cmap=cmap)
    ax.figure.colorbar(contour, ax=ax)
    for label, colour in zip(np.unique(y), _POINT_COLOURS * len(classes)):
        ax.scatter(*X[y == label].T, s=10, c=colour, edgecolors="k", linewidths=0.3)
    ax.set(xlim=limits[0], ylim=limits[1], xlabel="feature 0", ylabel="feature 1")
    ax.set_title(
        binary_title.format(label=classes[-1]) if column or not multi_title else multi_title
    )
    return ax


def plot_loss_curve(estimator, *, ax=None, window=100, label=None):
    """The negative ELBO over iterations (``loss_curve_``), as a moving average.

    Parameters
    ----------
    estimator : fitted BayesianMLPClassifier or BayesianMLPRegressor
        An estimator fitted by ADVI (``loss_curve_`` is not None).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    window : int, default=100
        Iterations per moving average.
    label : str, default=None
        Legend entry.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    curve = np.asarray(estimator.loss_curve_)
    window = max(1, min(window, len(curve)))
    smoothed = np.convolve(curve, np.ones(window) / window, mode="valid")
    ax = _axes(ax)
    ax.plot(np.arange(window, len(curve) + 1), smoothed, label=label)
    ax.set(xlabel="iteration", ylabel=f"negative ELBO ({window}-iteration mean)", yscale="log")
    if label is not None:
        ax.legend()
    return ax


def plot_reliability_diagram(y_true, y_prob, *, n_bins=15, labels=None, ax=None, label=None):
    """Accuracy against confidence of the top class, per confidence bin, with the ECE.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (see :func:`~bnn_sklearn.metrics.expected_calibration_error`).
    n_bins : int, default=15
        Number of equal-width confidence bins.
    labels : array-like, default=None
        Labels of the columns of ``y_prob``, e.g. ``classes_``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    label : str, default=None
        Legend entry (the ECE is appended).

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    ece = expected_calibration_error(y_true, y_prob, n_bins=n_bins, labels=labels)
    confidence, correct, bins = calibration_bins(y_true, y_prob, n_bins=n_bins, labels=labels)
    used = np.unique(bins)
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.plot(
        [confidence[bins == b].mean() for b in used],
        [correct[bins == b].mean() for b in used],
        marker="o",
        label=f"{label + ', ' if label else ''}ECE {ece:.3f}",
    )
    ax.set(xlabel="confidence (top class)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
    ax.legend()
    return ax


def plot_accuracy_rejection(y_true, y_pred, uncertainty, *, max_rejected=0.5, ax=None, label=None):
    """Plot :func:`accuracy_rejection_curve`: a useful uncertainty makes it rise.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    uncertainty : array-like of shape (n_samples,)
        Larger means less certain (e.g. ``predict_uncertainty(X).epistemic``).
    max_rejected : float, default=0.5
        Largest fraction of the samples to reject.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    label : str, default=None
        Legend entry.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    rejected, accuracy = accuracy_rejection_curve(
        y_true, y_pred, uncertainty, max_rejected=max_rejected
    )
    ax = _axes(ax)
    ax.plot(100 * rejected, accuracy, marker=".", label=label)
    ax.set(xlabel="rejected, most uncertain first (%)", ylabel="accuracy on the rest")
    if label is not None:
        ax.legend()
    return ax
