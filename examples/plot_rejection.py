"""
Rejecting the least certain predictions
=======================================

An uncertainty is useful when the predictions it doubts are the wrong ones: set the most
uncertain points aside (for a human, or a better model) and the accuracy on the rest
should rise. The accuracy-rejection curve plots that accuracy against the fraction set
aside. The Bayesian network offers two rankings: the total predictive entropy, and its
epistemic part, the disagreement between posterior draws.
"""

# %%
import matplotlib.pyplot as plt
from scipy.stats import entropy
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.metrics import mean_accuracy_kept
from bnn_sklearn.plotting import plot_accuracy_rejection

X, y = make_classification(
    3000, n_features=10, n_informative=6, n_classes=3, class_sep=1.0, random_state=0
)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

bnn = BayesianMLPClassifier(random_state=0).fit(X_train, y_train)
forest = RandomForestClassifier(random_state=0).fit(X_train, y_train)

# %%
# Each model's predictions, ranked by each of its uncertainties.
bnn_uncertainty = bnn.predict_uncertainty(X_test)
forest_proba = forest.predict_proba(X_test)
rankings = {
    "Bayesian MLP, total entropy": (bnn.predict(X_test), bnn_uncertainty.total),
    "Bayesian MLP, epistemic": (bnn.predict(X_test), bnn_uncertainty.epistemic),
    "random forest, entropy": (forest.predict(X_test), entropy(forest_proba, axis=1)),
}

fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
for label, (y_pred, uncertainty) in rankings.items():
    plot_accuracy_rejection(y_test, y_pred, uncertainty, ax=ax, label=label)
ax.set_title("3 classes, 10 features: accuracy on the points kept")
plt.show()

# %%
# The summary score is the mean accuracy over 0-50 % rejected, least confident first.
for name, model in [("Bayesian MLP", bnn), ("random forest", forest)]:
    score = mean_accuracy_kept(y_test, model.predict_proba(X_test), labels=model.classes_)
    print(f"{name:>13}: mean accuracy kept {score:.4f}")
