"""sample_weight and class_weight: weights scale each row's log-likelihood term."""

import numpy as np
import pytest

from bnn_sklearn import BayesianMLPClassifier

from .conftest import FAST


def test_integer_weights_equal_repeated_rows(moons):
    X, y = moons
    weights = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = BayesianMLPClassifier(**FAST).fit(X, y, sample_weight=weights)
    repeated = BayesianMLPClassifier(**FAST).fit(np.repeat(X, weights, 0), np.repeat(y, weights))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)
    # The loss curve is stored as float32: equal up to its last place.
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=eps)


def test_weights_change_the_fit_and_unit_weights_do_not(moons):
    X, y = moons
    plain = BayesianMLPClassifier(**FAST).fit(X, y)
    ones = BayesianMLPClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(plain.predict_proba(X), ones.predict_proba(X))
    heavy_class_1 = np.where(y == 1, 5.0, 1.0)
    tilted = BayesianMLPClassifier(**FAST).fit(X, y, sample_weight=heavy_class_1)
    assert tilted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean() + 0.02


def test_class_weight_dict_is_a_weight_per_class(moons):
    X, y = moons
    labels = np.where(y == 1, "yes", "no")
    by_class = BayesianMLPClassifier(**FAST, class_weight={"no": 1.0, "yes": 3.0}).fit(X, labels)
    by_row = BayesianMLPClassifier(**FAST).fit(X, labels, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_array_equal(by_class.predict_proba(X), by_row.predict_proba(X))


@pytest.mark.slow
def test_balanced_class_weight_raises_recall_of_a_rare_class():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(1980, dtype=int), np.ones(20, dtype=int)]  # 1 % positives
    X = rng.normal(size=(2000, 2)) + np.where(y == 1, 2.0, 0.0)[:, None]
    plain = BayesianMLPClassifier(**FAST).fit(X, y)
    balanced = BayesianMLPClassifier(**FAST, class_weight="balanced").fit(X, y)
    recall = {
        name: np.mean(model.predict(X[y == 1]) == 1)
        for name, model in {"plain": plain, "balanced": balanced}.items()
    }
    assert recall["balanced"] > recall["plain"]
    assert recall["balanced"] >= 0.8


def test_bad_weights_are_refused_with_a_clear_message(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST)
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        clf.fit(X, y, sample_weight=np.full(len(y), -1.0))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(200,\)"):
        clf.fit(X, y, sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="partial_fit does not see"):
        BayesianMLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


def test_minibatch_fits_weigh_each_row_by_its_own_weight(moons):
    """Every row twice, once with its label flipped: weights 1 on the true copies and 0 on
    the flipped ones must give the clean fit, in minibatches too (weights that ignore or
    miss their rows would see each point with both labels and predict about 0.5)."""
    X, y = moons
    doubled_X, doubled_y = np.r_[X, X], np.r_[y, 1 - y]
    weights = np.r_[np.ones(len(y)), np.zeros(len(y))]
    order = np.random.default_rng(0).permutation(len(doubled_y))  # mix the two copies
    settings = {**FAST, "batch_size": 32}
    weighted = BayesianMLPClassifier(**settings).fit(
        doubled_X[order], doubled_y[order], sample_weight=weights[order]
    )
    clean = BayesianMLPClassifier(**settings).fit(X, y)
    proba, clean_proba = weighted.predict_proba(X)[:, 1], clean.predict_proba(X)[:, 1]
    assert weighted.score(X, y) > 0.9
    # Confident as the clean fit (both see each point with one label): mean |p - 0.5|.
    assert np.mean(np.abs(proba - 0.5)) > 0.8 * np.mean(np.abs(clean_proba - 0.5))
    assert np.abs(proba - clean_proba).mean() < 0.05
