"""The data sets the benchmark scripts share, and the far/near split of moons."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_classification,
    make_friedman1,
    make_moons,
)
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler, scale

#: Candidate far points drawn per far point kept, uniformly over [-5, 5]^2.
FAR_CANDIDATES_PER_POINT = 50


def seed_data():
    """The origin notebook's data: 1000 moons (noise 0.2) standardised, split 50/50.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    X, y = make_moons(noise=0.2, random_state=0, n_samples=1000)
    return train_test_split(scale(X), y, test_size=0.5, random_state=0)


def classification_datasets(quick: bool = False) -> dict:
    """``{name: (X, y)}``: moons, breast cancer, iris, digits and a 20,000 x 20 set.

    ``quick``: 300 moons and iris only.
    """
    moons = make_moons(n_samples=1000, noise=0.2, random_state=0)
    if quick:
        return {"moons": (moons[0][:300], moons[1][:300]), "iris": load_iris(return_X_y=True)}
    return {
        "moons": moons,
        "breast_cancer": load_breast_cancer(return_X_y=True),
        "iris": load_iris(return_X_y=True),
        "digits": load_digits(return_X_y=True),
        "synthetic_20k": make_classification(
            n_samples=20_000, n_features=20, n_informative=10, random_state=0
        ),
    }


def heteroscedastic_1d(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """y = sin(2x) on [-2.5, 2.5] with Normal noise of sd 0.05 + 0.25 |x|."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.5, 2.5, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + rng.normal(size=n) * (0.05 + 0.25 * np.abs(X[:, 0]))


def regression_datasets(quick: bool = False) -> dict:
    """``{name: (X, y)}``: diabetes, friedman1 (1,000 and 20,000 rows), a heteroscedastic
    1-D problem. ``quick``: the 1-D problem on 200 rows only."""
    if quick:
        return {"heteroscedastic_1d": heteroscedastic_1d(200, 0)}
    return {
        "diabetes": load_diabetes(return_X_y=True),
        "friedman1": make_friedman1(n_samples=1000, noise=1.0, random_state=0),
        "heteroscedastic_1d": heteroscedastic_1d(500, 0),
        "friedman1_20k": make_friedman1(n_samples=20_000, noise=1.0, random_state=0),
    }


def moons_far_split(seed: int, n_far: int = 200):
    """Moons for telling far points from near ones.

    700 moons (noise 0.2, ``random_state=seed``) standardised; the first 500 train, the
    other 200 are the near points; the far points are the first ``n_far`` of
    ``FAR_CANDIDATES_PER_POINT * n_far`` uniform draws over [-5, 5]^2 (generator seeded by
    ``seed``) lying more than 1.5 from every training point. The near points' labels are
    ``make_moons(700, noise=0.2, random_state=seed)[1][500:]``.

    Returns
    -------
    X_train, y_train, X_near, X_far : ndarray
    """
    X, y = make_moons(n_samples=700, noise=0.2, random_state=seed)
    X = StandardScaler().fit_transform(X)
    X_train, y_train, X_near = X[:500], y[:500], X[500:]
    rng = np.random.default_rng(seed)
    candidates = rng.uniform(-5, 5, size=(FAR_CANDIDATES_PER_POINT * n_far, 2))
    distance = NearestNeighbors(n_neighbors=1).fit(X_train).kneighbors(candidates)[0][:, 0]
    X_far = candidates[distance > 1.5][:n_far]
    if len(X_far) < n_far:
        raise RuntimeError(f"only {len(X_far)} of {n_far} far points for seed {seed}")
    return X_train, y_train, X_near, X_far
