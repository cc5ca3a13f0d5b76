"""Bayesian neural networks for scikit-learn, fitted by PyMC's ADVI."""

from ._classifier import BayesianMLPClassifier

__version__ = "0.1.0"

__all__ = ["BayesianMLPClassifier", "__version__"]
