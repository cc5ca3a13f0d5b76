"""
A Bayesian network on the two moons (the seed)
==============================================

The origin of this package, Thomas Wiecki's 2016 post "Bayesian Deep Learning", fitted a
Bayesian neural network to 1,000 noisy moons with PyMC's ADVI and drew two surfaces: the
probability of the second class and the uncertainty of that probability. Here is the same
data and split with :class:`~bnn_sklearn.BayesianMLPClassifier`, beside a random forest.
"""

# %%
# The notebook's data: ``make_moons`` with noise 0.2, standardised, half for training.
import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import scale

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.plotting import plot_decision_surface

X, y = make_moons(noise=0.2, random_state=0, n_samples=1000)
X_train, X_test, y_train, y_test = train_test_split(scale(X), y, test_size=0.5, random_state=0)

# %%
# Fit the network with its defaults (two hidden layers of 16 ReLU units, a ``Normal(0, 2)``
# prior on every weight, full-batch ADVI that stops when the objective stops improving)
# and a random forest.
bnn = BayesianMLPClassifier(random_state=0).fit(X_train, y_train)
forest = RandomForestClassifier(random_state=0).fit(X_train, y_train)

for name, model in [("Bayesian MLP", bnn), ("random forest", forest)]:
    proba = model.predict_proba(X_test)
    print(
        f"{name:>14}: accuracy {accuracy_score(y_test, proba.argmax(axis=1)):.3f}, "
        f"log loss {log_loss(y_test, proba):.3f}"
    )
print(f"ADVI stopped after {bnn.n_iter_} iterations")

# %%
# The probability surface is the posterior predictive mean; the uncertainty surface is the
# standard deviation of the probability over the posterior's draws (``predict_std``). It
# is largest along the decision boundary, and larger where the boundary runs on beyond the
# data than where it passes between the two moons.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
for ax, kind in zip(axes, ["proba", "std"]):
    plot_decision_surface(bnn, X_test, y_test, kind=kind, ax=ax, xlim=(-3, 3), ylim=(-3, 3))
plt.show()
