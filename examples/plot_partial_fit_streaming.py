"""
Streaming a large data set with ``partial_fit``
===============================================

For data that do not fit in memory, or that arrive over time, ``partial_fit`` runs one
pass of minibatch ADVI over each chunk (``ceil(rows / 256)`` iterations), continuing from
the posterior so far. The likelihood is scaled to ``total_size``, the rows of the whole
data set, so that several passes over the same chunks target the right posterior.

Here 100,000 rows arrive in chunks of 20,000, read from a generator as a file reader
would; after each chunk the model is scored on a held-out set. The same network fitted by
``fit`` on all the rows at once, with its stopping rule, is the reference.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss

from bnn_sklearn import BayesianMLPClassifier

X_all, y_all = make_classification(
    102_000, n_features=20, n_informative=10, class_sep=0.8, random_state=0
)
X_all = (X_all - X_all.mean(axis=0)) / X_all.std(axis=0)
X_held_out, y_held_out = X_all[:2_000], y_all[:2_000]
X_stream, y_stream = X_all[2_000:], y_all[2_000:]
CHUNK = 20_000
PASSES = 8


def chunks(X, y, size):
    """What a reader of a large file would yield: one block of rows at a time."""
    for start in range(0, len(X), size):
        yield X[start : start + size], y[start : start + size]


# %%
# Eight passes over the stream; the held-out log loss after every chunk.
model = BayesianMLPClassifier(random_state=0)
rows_seen, scores = [], []
for _ in range(PASSES):
    for X_chunk, y_chunk in chunks(X_stream, y_stream, CHUNK):
        model.partial_fit(X_chunk, y_chunk, classes=[0, 1], total_size=len(X_stream))
        rows_seen.append((len(rows_seen) + 1) * CHUNK)
        scores.append(log_loss(y_held_out, model.predict_proba(X_held_out)))
print(f"{model.n_iter_} ADVI iterations in all; held-out log loss {scores[-1]:.3f}")

reference = BayesianMLPClassifier(random_state=0).fit(X_stream, y_stream)
reference_loss = log_loss(y_held_out, reference.predict_proba(X_held_out))
print(f"fit on all rows at once: {reference_loss:.3f} after {reference.n_iter_} iterations")

# %%
# Each pass is 395 iterations of minibatch ADVI (5 chunks of 79; thin lines); the streamed posterior
# approaches the one that ``fit`` reaches with its stopping rule.
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
ax.plot(np.array(rows_seen) / 1000, scores, marker=".", label="Bayesian MLP, partial_fit")
ax.axhline(reference_loss, color="grey", linestyle="--", label="Bayesian MLP, fit on all rows")
for end_of_pass in range(1, PASSES):
    ax.axvline(end_of_pass * len(X_stream) / 1000, color="k", linewidth=0.3)
ax.set(xlabel="rows streamed (thousands)", ylabel="held-out log loss", yscale="log")
ax.legend()
plt.show()
