"""Calibration error against hand-computed values, and the scorer in model selection."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, cross_validate

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.metrics import (
    accuracy_rejection_score,
    expected_calibration_error,
    mean_accuracy_kept,
    neg_expected_calibration_error,
    uncertainty_decomposition,
)

from .conftest import FAST


def test_hand_computed_binary_example():
    # Confidences 0.9 (right), 0.8 (right), 0.6 (wrong) fall in three different bins:
    # (|1 - 0.9| + |1 - 0.8| + |0 - 0.6|) / 3 = 0.3.
    y_prob = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]
    assert expected_calibration_error(["a", "b", "b"], y_prob) == pytest.approx(0.3)
    assert expected_calibration_error(["a", "b", "b"], [0.1, 0.8, 0.4]) == pytest.approx(0.3)


def test_hand_computed_multiclass_example_with_shared_bins():
    # Labels [3, 7, 9]: predictions 3 (right), 7 (wrong), 3 (right), 9 (wrong). Two bins,
    # each with one right and one wrong: confidence 0.6 -> |0.5 - 0.6|, 0.95 -> |0.5 - 0.95|,
    # each with weight 1/2: ECE = 0.275.
    y_prob = [[0.6, 0.3, 0.1], [0.2, 0.6, 0.2], [0.95, 0.03, 0.02], [0.02, 0.03, 0.95]]
    y_true = [3, 9, 3, 7]
    assert expected_calibration_error(y_true, y_prob, n_bins=10, labels=[3, 7, 9]) == pytest.approx(
        0.5 * abs(0.5 - 0.6) + 0.5 * abs(0.5 - 0.95)
    )


def test_perfect_and_worst_cases():
    assert expected_calibration_error([0, 1], [[1.0, 0.0], [0.0, 1.0]]) == 0.0
    assert expected_calibration_error([0, 1], [[0.0, 1.0], [1.0, 0.0]]) == 1.0


def test_mismatched_labels_are_refused():
    with pytest.raises(ValueError, match="labels="):
        expected_calibration_error([0, 1, 2], [[0.5, 0.5]] * 3)
    with pytest.raises(ValueError, match="not in labels"):
        expected_calibration_error([0, 5], [[0.5, 0.5]] * 2, labels=[0, 1])


def test_scorer_in_cross_validation_is_minus_the_ece_of_each_fold(moons):
    X, y = moons
    labels = np.where(y == 1, "yes", "no")
    folds = list(StratifiedKFold(3).split(X, labels))
    result = cross_validate(
        BayesianMLPClassifier(**FAST),
        X,
        labels,
        cv=folds,
        scoring=neg_expected_calibration_error,
        return_estimator=True,
    )
    by_hand = [
        -expected_calibration_error(labels[test], clf.predict_proba(X[test]), labels=clf.classes_)
        for clf, (_, test) in zip(result["estimator"], folds)
    ]
    np.testing.assert_array_equal(result["test_score"], by_hand)
    assert np.all(result["test_score"] > -0.2)  # calibrated to within 0.2 on every fold


def test_uncertainty_decomposition_by_hand():
    # Sample 0: two confident draws that disagree, all of log 2 is epistemic.
    # Sample 1: two draws that agree on a coin flip, all of log 2 is aleatoric.
    # Sample 2: draws (0.9, 0.1) and (0.5, 0.5): mean (0.7, 0.3).
    draws = np.array(
        [
            [[1.0, 0.0], [0.5, 0.5], [0.9, 0.1]],
            [[0.0, 1.0], [0.5, 0.5], [0.5, 0.5]],
        ]
    )

    def entropy(*p):
        return -sum(q * np.log(q) for q in p)

    split = uncertainty_decomposition(draws)
    total_2 = entropy(0.7, 0.3)
    aleatoric_2 = (entropy(0.9, 0.1) + entropy(0.5, 0.5)) / 2
    np.testing.assert_allclose(split.total, [np.log(2), np.log(2), total_2])
    np.testing.assert_allclose(split.aleatoric, [0.0, np.log(2), aleatoric_2])
    np.testing.assert_allclose(split.epistemic, [np.log(2), 0.0, total_2 - aleatoric_2])


def test_uncertainty_decomposition_wants_three_dimensions():
    with pytest.raises(ValueError, match="n_draws, n_samples, n_classes"):
        uncertainty_decomposition([[0.5, 0.5]])


def test_mean_accuracy_kept_by_hand():
    # Four points, least confident first: b (0.55, wrong), c (0.6, right), then a and d.
    y_true = np.array(["x", "y", "x", "y"])
    y_prob = np.array([[0.9, 0.1], [0.55, 0.45], [0.6, 0.4], [0.2, 0.8]])
    labels = np.array(["x", "y"])
    # 26 rejected fractions 0, 0.02, ..., 0.5 keep round(4 (1 - r)) points: all 4 (accuracy
    # 3/4) up to 0.12, 3 (accuracy 1) from 0.14 to 0.36, 2 (accuracy 1) from 0.38.
    expected = (7 * 3 / 4 + 12 + 7) / 26
    assert mean_accuracy_kept(y_true, y_prob, labels=labels) == pytest.approx(expected)


def test_accuracy_rejection_scorer_ranks_its_errors_first(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X[:100], y[:100])
    score = accuracy_rejection_score(clf, X[100:], y[100:])
    assert clf.score(X[100:], y[100:]) < score <= 1
