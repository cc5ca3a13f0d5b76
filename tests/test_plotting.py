"""The figures draw headless, on a given Axes or a new one, and return the Axes."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.plotting import (
    accuracy_rejection_curve,
    plot_accuracy_rejection,
    plot_decision_surface,
    plot_loss_curve,
    plot_reliability_diagram,
)

from .conftest import FAST


@pytest.fixture(scope="module")
def fitted(moons):
    X, y = moons
    return BayesianMLPClassifier(**FAST).fit(X, y)


@pytest.mark.parametrize("kind", ["proba", "std", "epistemic"])
def test_decision_surface(fitted, moons, kind):
    X, y = moons
    _, ax = plt.subplots()
    assert plot_decision_surface(fitted, X, y, kind=kind, ax=ax, resolution=30) is ax
    assert ax.collections and ax.get_title()
    plt.close("all")


def test_decision_surface_refuses_other_inputs(fitted, moons):
    X, y = moons
    with pytest.raises(ValueError, match="kind"):
        plot_decision_surface(fitted, X, y, kind="entropy")
    with pytest.raises(ValueError, match="2 columns"):
        plot_decision_surface(fitted, np.c_[X, X], y)


def test_loss_curve_and_reliability_diagram(fitted, moons):
    X, y = moons
    ax = plot_loss_curve(fitted, label="fit")
    assert len(ax.lines[0].get_xdata()) == fitted.n_iter_ - 99
    ax = plot_reliability_diagram(y, fitted.predict_proba(X), labels=fitted.classes_)
    assert "ECE" in ax.get_legend().get_texts()[0].get_text()
    plt.close("all")


def test_accuracy_rejection_rises_when_uncertainty_finds_the_errors():
    y_true = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    y_pred = np.array([0, 1, 1, 0, 0, 1, 0, 1])  # two mistakes
    uncertainty = np.array([0.1, 0.2, 0.1, 0.3, 0.9, 0.8, 0.2, 0.1])  # both most uncertain
    rejected, accuracy = accuracy_rejection_curve(y_true, y_pred, uncertainty, n_points=3)
    np.testing.assert_allclose(rejected, [0.0, 0.25, 0.5])
    np.testing.assert_allclose(accuracy, [0.75, 1.0, 1.0])
    ax = plot_accuracy_rejection(y_true, y_pred, uncertainty, label="bnn")
    assert len(ax.lines) == 1
    plt.close("all")
