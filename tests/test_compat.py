"""The shims of ``bnn_sklearn._compat`` give what scikit-learn's newer releases give."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from bnn_sklearn._compat import SKLEARN_VERSION, _brier_score_summed, brier_score_summed


@pytest.mark.parametrize("n_classes", [2, 3])
def test_brier_score_summed_by_hand_equals_scikit_learns(n_classes):
    if SKLEARN_VERSION < (1, 7):
        pytest.skip("scikit-learn < 1.7 scores two classes only, without scale_by_half")
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b", "c"][:n_classes], dtype=object)
    y = rng.choice(labels, size=40)
    proba = rng.dirichlet(np.ones(n_classes), size=40)
    expected = brier_score_loss(y, proba, labels=labels, scale_by_half=False)
    assert _brier_score_summed(y, proba, labels) == pytest.approx(expected, rel=1e-12)
    assert brier_score_summed(y, proba, labels) == pytest.approx(expected, rel=1e-12)


def test_brier_score_summed_spans_zero_to_two():
    labels = np.array([0, 1, 2])
    y = np.array([0, 1, 2])
    assert brier_score_summed(y, np.eye(3), labels) == 0.0
    assert brier_score_summed(y, np.eye(3)[[1, 2, 0]], labels) == 2.0
    # Two classes count both columns: twice the binary Brier score.
    proba = np.array([[0.25, 0.75], [0.5, 0.5]])
    binary = brier_score_loss([1, 0], proba[:, 1])
    assert brier_score_summed(np.array([1, 0]), proba, np.array([0, 1])) == pytest.approx(
        2 * binary
    )
