"""
A grid search in a Pipeline on a DataFrame
==========================================

The estimators are ordinary scikit-learn estimators: they take a pandas DataFrame through
a ``ColumnTransformer``, any labels (here strings), and fit inside ``GridSearchCV``. The
compiled ADVI engine is reused by every fit with the same network, so a search over
``prior_scale`` compiles once.
"""

# %%
# A small churn table: two numeric columns, one categorical, labels ``"churn"``/``"stay"``.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bnn_sklearn import BayesianMLPClassifier

rng = np.random.default_rng(0)
n = 600
frame = pd.DataFrame(
    {
        "tenure_months": rng.integers(1, 72, n),
        "monthly_charge": rng.normal(70, 25, n).round(2),
        "contract": rng.choice(["monthly", "one year", "two years"], n, p=[0.5, 0.3, 0.2]),
    }
)
logit = (
    1.5
    - 0.05 * frame["tenure_months"]
    + 0.02 * (frame["monthly_charge"] - 70)
    + frame["contract"].map({"monthly": 1.0, "one year": -0.5, "two years": -1.5})
)
churn = rng.random(n) < 1 / (1 + np.exp(-logit))
labels = np.where(churn, "churn", "stay")
frame.head()

# %%
# Scale the numbers, one-hot encode the contract, and search the prior's scale with
# 4-fold cross-validation on the log loss.
preprocess = make_column_transformer(
    (StandardScaler(), ["tenure_months", "monthly_charge"]),
    (OneHotEncoder(), ["contract"]),
)
pipeline = make_pipeline(preprocess, BayesianMLPClassifier(random_state=0))
grid = {"bayesianmlpclassifier__prior_scale": [0.5, 1.0, 2.0, 4.0]}
search = GridSearchCV(
    pipeline, grid, scoring="neg_log_loss", cv=StratifiedKFold(4, shuffle=True, random_state=0)
)
search.fit(frame, labels)
print("best:", search.best_params_, f"log loss {-search.best_score_:.3f}")
print("classes:", search.best_estimator_.classes_)

# %%
# The cross-validated log loss of every candidate, with its spread over the folds.
results = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.errorbar(
    results["param_bayesianmlpclassifier__prior_scale"].astype(float),
    -results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
    capsize=3,
)
ax.set(xscale="log", xlabel="prior_scale", ylabel="log loss, mean and sd over 4 folds")
ax.set_xticks(grid["bayesianmlpclassifier__prior_scale"], labels=["0.5", "1", "2", "4"])
ax.minorticks_off()
plt.show()

# %%
# The fitted pipeline predicts on new rows of the same table, with the string labels.
new_customers = frame.head(3)
print(search.predict(new_customers))
print(search.predict_proba(new_customers).round(3))
