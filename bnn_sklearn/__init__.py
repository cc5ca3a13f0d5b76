"""Bayesian neural networks for scikit-learn, fitted by PyMC's ADVI or sampled by NUTS."""

from ._classifier import BayesianMLPClassifier

__version__ = "0.2.0"

#: The types to trust in ``skops.io.load(path, trusted=TRUSTED_TYPES)``: this package's own
#: estimator. Everything else in a fitted model is arrays, scalars and lists, which skops
#: trusts by default.
TRUSTED_TYPES = ["bnn_sklearn._classifier.BayesianMLPClassifier"]

__all__ = ["TRUSTED_TYPES", "BayesianMLPClassifier", "__version__"]
