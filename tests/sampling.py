"""What the tests of the sampling methods (NUTS, MILE) share: a fit in a fresh process and a
grid search in worker processes."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from bnn_sklearn import BayesianMLPClassifier


def proba_fitted_in_a_fresh_process(settings: dict) -> np.ndarray:
    """``predict_proba`` on the moons fixture's rows of a classifier with ``settings``
    fitted to them in a new Python process."""
    script = textwrap.dedent(
        f"""
        import sys, warnings
        import numpy as np
        from sklearn.datasets import make_moons
        from bnn_sklearn import BayesianMLPClassifier
        warnings.simplefilter("ignore")
        X, y = make_moons(n_samples=200, noise=0.2, random_state=0)
        clf = BayesianMLPClassifier(**{settings!r}).fit(X, y)
        np.save(sys.stdout.buffer, clf.predict_proba(X))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    return np.load(io.BytesIO(out.stdout))


def grid_search_scores(settings: dict, X, y, n_jobs: int) -> dict:
    """``cv_results_`` of a 2-fold search over two prior scales in ``n_jobs`` processes."""
    search = GridSearchCV(
        BayesianMLPClassifier(**settings),
        {"prior_scale": [1.0, 2.0]},
        cv=StratifiedKFold(2),
        scoring="neg_log_loss",
        n_jobs=n_jobs,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y).cv_results_
