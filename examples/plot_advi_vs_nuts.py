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
import textwrap
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.plotting import plot_decision_surface

X, y = make_moons(200, noise=0.2, random_state=0)
X = StandardScaler().fit_transform(X)

advi = BayesianMLPClassifier(random_state=0).fit(X, y)
# Keep any warning NUTS gives, to print its message below.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    nuts = BayesianMLPClassifier(method="nuts", random_state=0).fit(X, y)

# %%
# NUTS reports its diagnostics: divergent transitions and the R-hat of the predicted
# probabilities over the two chains. Below 1.1 the chains agree about the fit. The weights'
# own R-hat is large and that is no fault: equivalent networks differ by swapped units.
#
# Above 1.1 the fit warns, and the message says what to raise. On some machines and
# sampler versions these short chains end just above it; the two chains then still make
# close predictions, and more ``tune`` and ``draws`` bring the R-hat down.
print(f"divergences: {nuts.n_divergences_}, predictive R-hat: {nuts.predictive_rhat_:.3f}")
for warning in caught:
    print(textwrap.fill(f"{warning.category.__name__}: {warning.message}", width=72))

# %%
# The spread of the probability over the draws, on a wider square than the data: ADVI's is
# narrow and tied to the decision boundary, NUTS's grows everywhere away from the data.
fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), layout="constrained")
for row, (name, model) in zip(axes, [("ADVI", advi), ("NUTS", nuts)]):
    for ax, kind in zip(row, ["proba", "std"]):
        plot_decision_surface(model, X, y, kind=kind, ax=ax, xlim=(-4, 4), ylim=(-4, 4))
        ax.set_title(f"{name}: {ax.get_title()}")
plt.show()
