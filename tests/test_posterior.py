"""The NumPy side: posterior draws and the forward pass."""

import numpy as np

from bnn_sklearn._posterior import (
    class_probabilities,
    flatten_layers,
    iter_draw_outputs,
    sample_parameters,
    unflatten_layers,
)


def iter_draw_probabilities(X, weights, biases, activation, **options):
    return iter_draw_outputs(X, weights, biases, activation, class_probabilities, **options)


def test_flatten_and_unflatten_are_inverse():
    rng = np.random.default_rng(0)
    sizes = (3, 4, 2)
    weights = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    biases = [rng.normal(size=4), rng.normal(size=2)]
    flat = flatten_layers(weights, biases)
    assert flat.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    back_w, back_b = unflatten_layers(flat, sizes)
    for a, b in zip(weights + biases, back_w + back_b):
        np.testing.assert_array_equal(a, b)


def test_forward_pass_matches_a_plain_loop_and_chunking_changes_nothing():
    rng = np.random.default_rng(1)
    sizes = (2, 5, 3)
    n_params = 2 * 5 + 5 + 5 * 3 + 3
    draws = rng.normal(size=(4, n_params))
    weights, biases = unflatten_layers(draws, sizes)
    X = rng.normal(size=(10, 2))
    whole = np.concatenate(list(iter_draw_probabilities(X, weights, biases, "tanh")), axis=1)
    chunked = np.concatenate(
        list(iter_draw_probabilities(X, weights, biases, "tanh", chunk_elements=3 * 5)), axis=1
    )
    np.testing.assert_allclose(chunked, whole, rtol=1e-14)
    for d in range(4):
        hidden = np.tanh(X @ weights[0][d] + biases[0][d])
        logits = hidden @ weights[1][d] + biases[1][d]
        expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(whole[d], expected, rtol=1e-12)


def test_binary_output_gives_two_columns():
    weights = [np.ones((1, 2, 1))]
    biases = [np.zeros((1, 1))]
    (proba,) = iter_draw_probabilities(np.array([[0.0, 0.0], [5.0, 5.0]]), weights, biases, "relu")
    np.testing.assert_allclose(proba[0, 0], [0.5, 0.5])
    assert proba[0, 1, 1] > 0.99
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)


def test_draws_follow_the_posterior_and_depend_only_on_the_seed():
    mean, std = np.array([1.0, -2.0]), np.array([0.5, 2.0])
    draws = sample_parameters(mean, std, None, 20000, seed=3)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.05)
    np.testing.assert_allclose(draws.std(axis=0), std, rtol=0.03)
    np.testing.assert_array_equal(draws, sample_parameters(mean, std, None, 20000, seed=3))
    cholesky = np.array([[1.0, 0.0], [0.8, 0.6]])
    correlated = sample_parameters(mean, std, cholesky, 20000, seed=3)
    np.testing.assert_allclose(np.cov(correlated.T), cholesky @ cholesky.T, atol=0.05)
