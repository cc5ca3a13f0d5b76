"""
Calibration against a random forest and gradient boosting
=========================================================

A probability is calibrated when, of the points given 0.8, about 80 % are right. The
reliability diagram plots accuracy against confidence per bin; the expected calibration
error (ECE) is the gap, weighted by the points in each bin. Here the out-of-fold
probabilities of five-fold cross-validation on a noisy synthetic problem (5 % of the
labels flipped at random, so that no model can be sure of every point), for the Bayesian
network and two tree ensembles behind the same scaler.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.metrics import expected_calibration_error
from bnn_sklearn.plotting import plot_reliability_diagram

X, y = make_classification(
    3000, n_features=20, n_informative=5, flip_y=0.05, class_sep=0.8, random_state=0
)
models = {
    "Bayesian MLP": BayesianMLPClassifier(random_state=0),
    "random forest": RandomForestClassifier(random_state=0),
    "gradient boosting": GradientBoostingClassifier(random_state=0),
}
folds = StratifiedKFold(5, shuffle=True, random_state=0)
probabilities = {
    name: cross_val_predict(
        make_pipeline(StandardScaler(), model), X, y, cv=folds, method="predict_proba"
    )
    for name, model in models.items()
}

# %%
# Log loss and Brier score reward sharp, right probabilities; ECE only their calibration.
# The ECE depends on the bins: the table and the diagram below use the same 10.
N_BINS = 10
for name, proba in probabilities.items():
    print(
        f"{name:>17}: log loss {log_loss(y, proba):.3f}, "
        f"Brier {brier_score_loss(y, proba[:, 1]):.3f}, "
        f"ECE {expected_calibration_error(y, proba, n_bins=N_BINS):.3f}"
    )

# %%
# The diagram: points on the diagonal are calibrated; below it, overconfident.
fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
for name, proba in probabilities.items():
    plot_reliability_diagram(y, proba, n_bins=N_BINS, ax=ax, label=name)
ax.set_title("Out-of-fold reliability, 3,000 rows x 20 features")
plt.show()
