"""The private scikit-learn names this package relies on, imported in one place.

scikit-learn's own estimators use them and projects built on it (imbalanced-learn,
skorch) import them the same way; if a release moves one, only this module changes.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = ["Interval", "StrOptions", "_check_sample_weight", "_fit_context", "_safe_indexing"]
