"""
Groups that share strength: a hierarchical network
===================================================

Each of eight groups is the same task seen from its own angle: two interleaved moons,
rotated by an angle of its own, with 50 training rows. One network for every row cannot
follow the rotations; a network per group learns each from its 50 rows alone. Fitted with
``groups``, :class:`~bnn_sklearn.BayesianMLPClassifier` gives each group its own output
layer around a shared population network, and learns how far the groups differ.

A new group, never seen in training, gets the population's predictive; with a few of its
rows, a fit whose prior is the hierarchical model's (:meth:`~bnn_sklearn.
BayesianMLPClassifier.as_prior`) starts from what the other groups taught.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.preprocessing import scale

from bnn_sklearn import BayesianMLPClassifier

warnings.simplefilter("ignore", ConvergenceWarning)


def rotated_moons(n_groups, seed):
    rng = np.random.default_rng(seed)
    parts = []
    for group in range(n_groups):
        X, y = make_moons(100, noise=0.3, random_state=int(rng.integers(2**31)))
        angle = rng.normal(0.0, np.pi / 2)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        parts.append((scale(X) @ rotation, y, np.full(100, group), np.arange(100) < 50))
    return tuple(np.concatenate(column) for column in zip(*parts))


X, y, groups, train = rotated_moons(9, seed=0)
new = groups == 8  # held out: a group that opens later
fit_rows, test = train & ~new, ~train & ~new
network = dict(hidden_layer_sizes=(5, 5), activation="tanh", random_state=0)

pooled = BayesianMLPClassifier(**network).fit(X[fit_rows], y[fit_rows])
hierarchical = BayesianMLPClassifier(**network).fit(
    X[fit_rows], y[fit_rows], groups=groups[fit_rows]
)
separate = {
    g: BayesianMLPClassifier(**network).fit(
        X[fit_rows & (groups == g)], y[fit_rows & (groups == g)]
    )
    for g in range(8)
}

# %%
# Test accuracy on the eight groups' held-out rows.
proba_separate = np.empty(test.sum())
for g, model in separate.items():
    rows = groups[test] == g
    proba_separate[rows] = model.predict_proba(X[test][rows])[:, 1]
scores = {
    "pooled": pooled.predict_proba(X[test])[:, 1],
    "separate": proba_separate,
    "hierarchical": hierarchical.predict_proba(X[test], groups=groups[test])[:, 1],
}
for name, proba in scores.items():
    print(f"{name:>12}: accuracy {np.mean((proba > 0.5) == y[test]):.3f}")
print("output layer spreads (weights, biases):", np.exp(hierarchical.group_log_scale_mean_))

# %%
# Each group's decision surface: the hierarchical network's (top) beside the separate
# network's (bottom). The groups' own networks follow each rotation; the hierarchical ones
# agree more with each other where a group's 50 rows say little.
grid = np.linspace(-3, 3, 80)
xx, yy = np.meshgrid(grid, grid)
points = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(2, 8, figsize=(16, 4.4), sharex=True, sharey=True)
for g in range(8):
    rows = fit_rows & (groups == g)
    surfaces = (
        hierarchical.predict_proba(points, groups=np.full(len(points), g))[:, 1],
        separate[g].predict_proba(points)[:, 1],
    )
    for ax, surface in zip(axes[:, g], surfaces):
        ax.contourf(xx, yy, surface.reshape(xx.shape), levels=10, cmap="RdBu_r", vmin=0, vmax=1)
        ax.scatter(*X[rows].T, c=y[rows], cmap="RdBu_r", s=12, edgecolors="k", linewidths=0.3)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, g].set_title(f"group {g}")
axes[0, 0].set_ylabel("hierarchical")
axes[1, 0].set_ylabel("separate")
fig.tight_layout()

# %%
# A new group with ten rows: the population's predictive (no rows needed), a network with
# the flat prior, and one whose prior is the hierarchical model's for a new group.
rows = np.flatnonzero(new & train)
few = np.r_[rows[y[rows] == 0][:5], rows[y[rows] == 1][:5]]
held_out = new & ~train
flat = BayesianMLPClassifier(**network).fit(X[few], y[few])
informed = BayesianMLPClassifier(**network, prior=hierarchical.as_prior()).fit(X[few], y[few])
for name, proba in {
    "population predictive": hierarchical.predict_proba(X[held_out], groups=groups[held_out]),
    "flat prior, 10 rows": flat.predict_proba(X[held_out]),
    "informed prior, 10 rows": informed.predict_proba(X[held_out]),
}.items():
    print(f"{name:>24}: log loss {log_loss(y[held_out], proba):.3f}")
