"""The fitted variational posterior: weight draws and the NumPy forward pass.

Nothing here touches PyMC or PyTensor: prediction is a few batched matrix products.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import numpy as np
from scipy.special import expit, softmax

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "logistic": expit,
    "identity": lambda z: z,
}

#: Upper bound on the elements of one (draws, rows, units) array in the forward pass.
FORWARD_BUDGET = 2**22


def flatten_layers(weights: list[np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
    """Concatenate per-layer arrays in the layout ``w_0.ravel(), b_0, w_1.ravel(), ...``."""
    return np.concatenate([part.ravel() for pair in zip(weights, biases) for part in pair])


def unflatten_layers(
    flat: np.ndarray, layer_sizes: tuple[int, ...]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split ``flat`` (shape ``(..., n_params)``) into weights and biases per layer."""
    weights, biases, start = [], [], 0
    lead = flat.shape[:-1]
    for n_in, n_out in pairwise(layer_sizes):
        weights.append(flat[..., start : start + n_in * n_out].reshape(*lead, n_in, n_out))
        start += n_in * n_out
        biases.append(flat[..., start : start + n_out])
        start += n_out
    return weights, biases


def sample_parameters(
    mean: np.ndarray,
    std: np.ndarray,
    cholesky: np.ndarray | None,
    n_draws: int,
    seed: int,
) -> np.ndarray:
    """Draw ``n_draws`` flat parameter vectors from the Gaussian variational posterior."""
    noise = np.random.default_rng(seed).standard_normal((n_draws, mean.size))
    if cholesky is None:
        return mean + noise * std
    return mean + noise @ cholesky.T


def iter_draw_probabilities(
    X: np.ndarray,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    activation: str,
    budget: int = FORWARD_BUDGET,
) -> Iterator[np.ndarray]:
    """Yield class probabilities per draw, shape ``(n_draws, rows, n_classes)``, by row chunks.

    ``weights[i]`` has shape ``(n_draws, n_in, n_out)``; rows are processed in chunks so
    that no intermediate array holds more than about ``budget`` elements.
    """
    n_draws = weights[0].shape[0]
    widest = max(w.shape[-1] for w in weights)
    rows = max(1, budget // (n_draws * widest))
    act = ACTIVATIONS[activation]
    for start in range(0, X.shape[0], rows):
        hidden = X[start : start + rows]
        for i, (w, b) in enumerate(zip(weights, biases)):
            hidden = np.matmul(hidden, w) + b[:, None, :]
            if i < len(weights) - 1:
                hidden = act(hidden)
        if hidden.shape[-1] == 1:
            positive = expit(hidden)
            yield np.concatenate([1.0 - positive, positive], axis=-1)
        else:
            yield softmax(hidden, axis=-1)
