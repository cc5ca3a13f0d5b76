"""scikit-learn's own estimator checks, every one of them, none expected to fail."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from bnn_sklearn import BayesianMLPClassifier


@parametrize_with_checks(
    [
        BayesianMLPClassifier(
            hidden_layer_sizes=(8,), max_iter=1000, tol=None, n_draws=100, random_state=0
        )
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
