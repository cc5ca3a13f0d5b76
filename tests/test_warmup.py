"""bnn_sklearn.warmup: compiling the engines a search will need before it starts."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from bnn_sklearn import BayesianMLPClassifier, BayesianMLPRegressor
from bnn_sklearn._base import AUTO_BATCH_SIZE
from bnn_sklearn._inference import ENGINES
from bnn_sklearn.warmup import main, warmup


def test_a_warmed_architecture_is_not_built_again_for_real_data():
    ENGINES.clear()
    # The architectures of the suite's FAST settings: compiled on disk by the other tests.
    classifier = BayesianMLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    timings = warmup([classifier], n_features=2)
    assert [description for description, _ in timings] == [repr(classifier)]
    builds = ENGINES.builds
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(120, 2)), np.arange(120) % 2
    classifier.set_params(max_iter=200, tol=None).fit(X, y)
    assert ENGINES.builds == builds


def test_rows_decide_what_batch_size_auto_warms():
    ENGINES.clear()
    regressor = BayesianMLPRegressor(method="advi", hidden_layer_sizes=(8,), random_state=0)
    warmup([regressor], n_features=1, n_samples=100_000)
    builds = ENGINES.builds
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3 * AUTO_BATCH_SIZE, 1))
    regressor.set_params(max_iter=100, tol=None, batch_size=AUTO_BATCH_SIZE).fit(X, X[:, 0])
    assert ENGINES.builds == builds  # the minibatch engine was warmed
    regressor.set_params(batch_size="auto").fit(X, X[:, 0])  # 768 rows: full batch
    assert ENGINES.builds == builds + 1


@pytest.mark.parametrize(
    "estimators, n_features, error, message",
    [
        ([BayesianMLPClassifier()], 0, ValueError, "n_features must be a positive integer"),
        ([RandomForestClassifier()], 3, TypeError, "Only this package's estimators"),
    ],
    ids=["no-features", "other-estimator"],
)
def test_bad_arguments_are_refused(estimators, n_features, error, message):
    with pytest.raises(error, match=message):
        warmup(estimators, n_features=n_features)


def test_the_command_warms_each_combination_and_reports_it(capsys):
    main(["--features", "2", "--hidden", "8", "--activation", "relu", "tanh"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].endswith("BayesianMLPClassifier(hidden_layer_sizes=(8,))")
    assert lines[1].endswith("BayesianMLPClassifier(activation='tanh', hidden_layer_sizes=(8,))")
