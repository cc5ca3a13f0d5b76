"""What the tests of the sampling methods (NUTS, MILE) share: one step from given starts, a
fit in a fresh process and a grid search in worker processes."""

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


def fit_quietly(model, *args, **kwargs):
    """``model.fit(*args, **kwargs)`` without the convergence warnings that short chains
    and short fits may give."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def first_draws_from(arch, X, y, starts, sampler, **data) -> np.ndarray:
    """The first draw of each chain of ``arch``'s model, one chain per row of ``starts``,
    after one tuning step and one draw of one leapfrog step each (``data``: the grouped
    model's ``group_index``)."""
    from bnn_sklearn._nuts import SAMPLERS

    with SAMPLERS.engine(arch) as model:
        result = model.sample(
            X,
            y.astype(np.int32),
            **data,
            sample_weight=np.ones(len(X)),
            prior_scale=2.0,
            sampler=sampler,
            chains=len(starts),
            tune=1,
            draws=1,
            target_accept=0.8,
            max_treedepth=1,
            seed=0,
            verbose=False,
            starts=starts,
        )
    return result.draws[:, 0]


def assert_same_draws_for_the_same_random_state(settings: dict, fitted, X, y) -> None:
    """A classifier with ``settings`` refitted to ``X, y`` in this process draws what
    ``fitted`` drew, one with another ``random_state`` does not, and one fitted in a new
    Python process predicts what ``fitted`` predicts."""
    again = fit_quietly(BayesianMLPClassifier(**settings), X, y)
    np.testing.assert_array_equal(again.posterior_draws_, fitted.posterior_draws_)
    other = fit_quietly(BayesianMLPClassifier(**{**settings, "random_state": 1}), X, y)
    assert not np.array_equal(other.posterior_draws_, fitted.posterior_draws_)
    np.testing.assert_array_equal(
        proba_fitted_in_a_fresh_process(settings), fitted.predict_proba(X)
    )


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
