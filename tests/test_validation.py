"""Bad input gets a clear scikit-learn style error from our code, never garbage."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from bnn_sklearn import BayesianMLPClassifier, BayesianMLPRegressor
from bnn_sklearn.exceptions import DivergenceError

from .conftest import FAST


def raised_outside_pymc(excinfo) -> bool:
    """True when no frame of the traceback is inside PyMC or PyTensor."""
    return not any(
        part in str(entry.path) for entry in excinfo.traceback for part in ("/pymc/", "/pytensor/")
    )


X_OK = np.random.default_rng(0).normal(size=(40, 2))
Y_OK = np.tile([0, 1], 20)


def with_value(value):
    X = X_OK.copy()
    X[3, 1] = value
    return X


BAD_FIT_INPUTS = {
    "nan": (with_value(np.nan), Y_OK, ValueError, "NaN"),
    "inf": (with_value(np.inf), Y_OK, ValueError, "infinity"),
    "1-d X": (X_OK[:, 0], Y_OK, ValueError, "Expected 2D array"),
    "3-d X": (X_OK[:, :, None], Y_OK, ValueError, "dim 3"),
    "empty X": (X_OK[:0], Y_OK[:0], ValueError, "0 sample"),
    "mismatched lengths": (X_OK, Y_OK[:-1], ValueError, "inconsistent numbers of samples"),
    "string features": (np.array([["a", "b"]] * 40), Y_OK, ValueError, "could not convert"),
}
BAD_LABELS = {
    "continuous y": (X_OK, np.linspace(0, 1, 40), ValueError, "Unknown label type"),
    "single class": (X_OK, np.zeros(40, dtype=int), ValueError, "only one class"),
}
#: Both estimators, for the checks they share (the regressor fits the 0/1 labels as numbers).
ESTIMATORS = pytest.mark.parametrize(
    "Estimator", [BayesianMLPClassifier, BayesianMLPRegressor], ids=["classifier", "regressor"]
)


@ESTIMATORS
@pytest.mark.parametrize("X, y, error, message", BAD_FIT_INPUTS.values(), ids=BAD_FIT_INPUTS)
def test_bad_training_data_is_refused(Estimator, X, y, error, message):
    with pytest.raises(error, match=message) as excinfo:
        Estimator(**FAST).fit(X, y)
    assert raised_outside_pymc(excinfo)


@pytest.mark.parametrize("X, y, error, message", BAD_LABELS.values(), ids=BAD_LABELS)
def test_bad_labels_are_refused(X, y, error, message):
    with pytest.raises(error, match=message) as excinfo:
        BayesianMLPClassifier(**FAST).fit(X, y)
    assert raised_outside_pymc(excinfo)


BAD_PARAMS = {
    "negative prior_scale": dict(prior_scale=-1.0),
    "batch_size 0": dict(batch_size=0),
    "unknown activation": dict(activation="softsign"),
    "unknown method": dict(method="mcmc"),
    "zero chains": dict(chains=0, method="nuts"),
    "zero tune": dict(tune=0, method="nuts"),
    "target_accept of 1": dict(target_accept=1.0, method="nuts"),
    "unknown sampler": dict(nuts_sampler="stan", method="nuts"),
    "zero-width layer": dict(hidden_layer_sizes=(8, 0)),
    "non-integer layer": dict(hidden_layer_sizes=(2.5,)),
    "zero learning_rate": dict(learning_rate=0.0),
    "zero n_draws": dict(n_draws=0),
}


@ESTIMATORS
@pytest.mark.parametrize("params", BAD_PARAMS.values(), ids=BAD_PARAMS)
def test_invalid_parameters_are_named(Estimator, params):
    name = next(iter(params))
    with pytest.raises(ValueError, match=name) as excinfo:
        Estimator(**{**FAST, **params}).fit(X_OK, Y_OK)
    assert raised_outside_pymc(excinfo)


def test_the_regressor_names_its_noise_options():
    with pytest.raises(ValueError, match="noise") as excinfo:
        BayesianMLPRegressor(**FAST, noise="poisson").fit(X_OK, Y_OK)
    assert raised_outside_pymc(excinfo)


PREDICT_METHODS = {
    BayesianMLPClassifier: ("predict", "predict_proba", "predict_std"),
    BayesianMLPRegressor: ("predict", "predict_interval", "predict_draws"),
}


@ESTIMATORS
def test_predict_before_fit_raises_not_fitted(Estimator):
    for method in PREDICT_METHODS[Estimator]:
        with pytest.raises(NotFittedError):
            getattr(Estimator(), method)(X_OK)


@pytest.fixture(scope="module", params=[BayesianMLPClassifier, BayesianMLPRegressor])
def fitted(request):
    return request.param(**{**FAST, "max_iter": 200}).fit(X_OK, Y_OK)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((3, 3)), "X has 3 features, but BayesianMLPClassifier is expecting 2"),
        (np.zeros(2), "Expected 2D array"),
        (with_value(np.nan), "NaN"),
    ],
    ids=["feature count", "1-d", "nan"],
)
def test_bad_prediction_data_is_refused(fitted, X, message):
    message = message.replace("BayesianMLPClassifier", type(fitted).__name__)
    for method in PREDICT_METHODS[type(fitted)]:
        with pytest.raises(ValueError, match=message):
            getattr(fitted, method)(X)


@ESTIMATORS
def test_caller_arrays_are_not_modified(Estimator):
    X = X_OK.astype(np.float32)
    regressor = Estimator is BayesianMLPRegressor
    y = Y_OK.astype(np.float32) if regressor else np.where(Y_OK == 1, "yes", "no")
    X_before, y_before = X.copy(), y.copy()
    model = Estimator(**{**FAST, "max_iter": 200}).fit(X, y)
    for method in PREDICT_METHODS[Estimator]:
        getattr(model, method)(X)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    assert X.dtype == np.float32 and (y.dtype == np.float32 or not regressor)


@ESTIMATORS
def test_divergence_is_reported_with_advice_and_leaves_no_model(Estimator):
    model = Estimator(**{**FAST, "learning_rate": 1e3})
    with pytest.raises(DivergenceError, match=r"Lower learning_rate.*StandardScaler") as excinfo:
        model.fit(X_OK * 1e3, Y_OK)
    assert raised_outside_pymc(excinfo)
    with pytest.raises(NotFittedError):
        model.predict(X_OK)
    # The engine that diverged is reused and fits normally afterwards.
    model.set_params(learning_rate=0.01).fit(X_OK, Y_OK)
    assert np.all(np.isfinite(model.predict(X_OK)))
