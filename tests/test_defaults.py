"""The default estimator fits: it must not collapse to the prior (a constant prediction).

With PyMC's default starting posterior sd, mean-field ADVI collapses small networks to the
prior on many simple problems; the training log loss then sits at log(n_classes).
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_circles, make_classification, make_moons
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier

PROBLEMS = {
    "moons": make_moons(n_samples=500, noise=0.2, random_state=0),
    "circles": make_circles(n_samples=500, noise=0.1, factor=0.5, random_state=0),
    "three classes": make_classification(
        n_samples=500,
        n_features=10,
        n_informative=5,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("problem", PROBLEMS)
def test_default_estimator_fits_well_below_chance_loss(problem, seed):
    X, y = PROBLEMS[problem]
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the defaults converge within max_iter
        clf = BayesianMLPClassifier(random_state=seed).fit(X, y)
    chance = np.log(len(np.unique(y)))
    assert log_loss(y, clf.predict_proba(X)) < 0.4 * chance
