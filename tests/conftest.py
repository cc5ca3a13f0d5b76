import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import scale

#: Small, fast settings for tests; benchmarks use the real ones.
FAST = dict(
    method="advi", hidden_layer_sizes=(8,), max_iter=1500, tol=None, n_draws=100, random_state=0
)


@pytest.fixture(scope="session")
def seed_split():
    """The origin notebook's data: 1000 moons, standardised, split 50/50."""
    X, y = make_moons(noise=0.2, random_state=0, n_samples=1000)
    return train_test_split(scale(X), y, test_size=0.5, random_state=0)


@pytest.fixture(scope="session")
def moons():
    X, y = make_moons(n_samples=200, noise=0.2, random_state=0)
    return X, y


@pytest.fixture(scope="session")
def three_blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    y = np.repeat([0, 1, 2], 60)
    return centers[y] + rng.normal(scale=0.6, size=(180, 2)), y
