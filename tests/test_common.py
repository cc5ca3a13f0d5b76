"""scikit-learn's own estimator checks over both inference methods (small settings)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from bnn_sklearn import BayesianMLPClassifier, BayesianMLPRegressor

ADVI = dict(
    method="advi", hidden_layer_sizes=(8,), max_iter=1000, tol=None, n_draws=100, random_state=0
)
NUTS = dict(method="nuts", hidden_layer_sizes=(8,), chains=2, tune=50, draws=25, random_state=0)
MILE = dict(NUTS, method="mile", max_iter=500, tol=None)
ESTIMATORS = [
    BayesianMLPClassifier(**ADVI),
    BayesianMLPClassifier(**NUTS),
    BayesianMLPClassifier(**MILE),
    BayesianMLPRegressor(**ADVI),
    # The noise output starts small and is learned after the mean: 1,000 iterations left
    # check_regressors_train's R^2 below 0.5 on Python 3.11, 2,000 passed on both lines.
    BayesianMLPRegressor(**{**ADVI, "noise": "heteroscedastic", "max_iter": 2000}),
    BayesianMLPRegressor(**NUTS),
    BayesianMLPRegressor(**MILE),
]


def expected_failed_checks(estimator):
    """None for ADVI; for NUTS and MILE, the one check that compares two samplers' paths exactly.

    A fit with integer weights and a fit on repeated rows target the same posterior, but
    their log densities add the same terms in another order, and Hamiltonian trajectories
    amplify that last-digit difference into other draws: the check's ``rtol=1e-7`` cannot
    hold for a Monte Carlo method. ``tests/test_nuts.py`` checks the equivalence within
    Monte Carlo error instead.
    """
    if estimator.method not in ("nuts", "mile"):
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "Monte Carlo: equal posteriors, different chains; see test_nuts.py"
        )
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
