"""
ADVI against NUTS
=================

``method="advi"`` (the default) fits a Gaussian to the posterior of the weights in about a
second; ``method="nuts"`` samples the posterior itself with the No-U-Turn Sampler, which
costs tens of seconds and is meant for small data. Both make nearly the same predictions
near the data. Away from it they differ: mean-field ADVI's draws agree with one another
there, NUTS's draws come from the wider real posterior and disagree, so NUTS's uncertainty
flags inputs unlike the training data.

NUTS runs with nutpie when it is installed (the ``nuts`` extra), PyMC's sampler otherwise.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.plotting import plot_decision_surface

X, y = make_moons(200, noise=0.2, random_state=0)
X = StandardScaler().fit_transform(X)

advi = BayesianMLPClassifier(random_state=0).fit(X, y)
nuts = BayesianMLPClassifier(method="nuts", draws=150, random_state=0).fit(X, y)

# %%
# NUTS reports its diagnostics: divergent transitions and the R-hat of the predicted
# probabilities over the two chains (below 1.1 is good; a network's weights themselves
# have a large R-hat because equivalent modes differ by swapped units).
print(f"divergences: {nuts.n_divergences_}, predictive R-hat: {nuts.predictive_rhat_:.3f}")

# %%
# The spread of the probability over the draws, on a wider square than the data: ADVI's is
# narrow and tied to the decision boundary, NUTS's grows everywhere away from the data.
fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), layout="constrained")
for row, (name, model) in zip(axes, [("ADVI", advi), ("NUTS", nuts)]):
    for ax, kind in zip(row, ["proba", "std"]):
        plot_decision_surface(model, X, y, kind=kind, ax=ax, xlim=(-4, 4), ylim=(-4, 4))
        ax.set_title(f"{name}: {ax.get_title()}")
plt.show()
