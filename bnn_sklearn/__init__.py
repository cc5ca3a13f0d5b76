"""Bayesian neural networks for scikit-learn, fitted by PyMC's ADVI or sampled by NUTS."""

from ._classifier import BayesianMLPClassifier
from ._priors import NetworkPrior
from ._regressor import BayesianMLPRegressor

__version__ = "0.2.0"

#: The types to trust in ``skops.io.load(path, trusted=TRUSTED_TYPES)``: this package's own
#: estimators and the informed prior a ``prior=`` parameter may hold. Everything else in a
#: fitted model is arrays, scalars and lists, which skops trusts by default.
TRUSTED_TYPES = [
    "bnn_sklearn._classifier.BayesianMLPClassifier",
    "bnn_sklearn._regressor.BayesianMLPRegressor",
    "bnn_sklearn._priors.NetworkPrior",
]

__all__ = [
    "TRUSTED_TYPES",
    "BayesianMLPClassifier",
    "BayesianMLPRegressor",
    "NetworkPrior",
    "__version__",
]
