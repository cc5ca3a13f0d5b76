"""What this package needs from scikit-learn that differs across its supported releases.

The private names: scikit-learn's own estimators use them and projects built on it
(imbalanced-learn, skorch) import them the same way; if a release moves one, only this
module changes. And the shims for the oldest supported release (``pyproject.toml``'s lower
bound, tested by the minimum-versions run of ``.ci/run``).
"""

import numpy as np
import sklearn
from sklearn.base import _fit_context
from sklearn.metrics import brier_score_loss
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_safe_indexing",
    "brier_score_summed",
]

#: scikit-learn's (major, minor) release.
SKLEARN_VERSION = tuple(int(part) for part in sklearn.__version__.split(".")[:2])


def brier_score_summed(y_true, y_proba, labels) -> float:
    """The Brier score summed over the classes (0 to 2), for two classes as for more.

    ``brier_score_loss(y_true, y_proba, labels=labels, scale_by_half=False)`` from
    scikit-learn 1.7 on; computed here for older releases, whose ``brier_score_loss``
    scores two classes only.
    """
    if SKLEARN_VERSION >= (1, 7):
        return brier_score_loss(y_true, y_proba, labels=labels, scale_by_half=False)
    return _brier_score_summed(y_true, y_proba, labels)


def _brier_score_summed(y_true, y_proba, labels) -> float:
    """The mean over rows of the squared distance between the one-hot label and ``y_proba``."""
    y_proba = np.asarray(y_proba, dtype=float)
    one_hot = np.asarray(y_true)[:, np.newaxis] == np.asarray(labels)[np.newaxis, :]
    return float(np.mean(np.sum((one_hot - y_proba) ** 2, axis=1)))
