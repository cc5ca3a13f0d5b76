"""
Conformal intervals with MAPIE
==============================

:class:`~bnn_sklearn.BayesianMLPRegressor` gives its own central intervals from the
predictive distribution (``predict_interval``). They are model-based: if the model is wrong
about the noise, they are wrong too. Split conformal prediction (MAPIE's
``SplitConformalRegressor``, ``pip install ".[conformal]"`` in the checkout) corrects them on
calibration rows held out from training: with the residuals divided by the network's
predictive sd (MAPIE's ``ResidualNormalisedScore``), it keeps the network's shape of the
intervals and rescales their width so that 90 % of exchangeable new rows fall inside, on
average over the inputs.

Here the noise grows away from zero, and the network (with its default constant noise) and
a Gaussian process both assume one noise level. The table compares the coverage of 90 %
intervals overall, on the tails (the 10 % of new points with the most extreme ``x``) and
in the centre (the 10 % nearest zero).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from mapie.conformity_scores import ResidualNormalisedScore
from mapie.regression import SplitConformalRegressor
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from bnn_sklearn import BayesianMLPRegressor


def sample(n, rng):
    x = rng.uniform(-2.5, 2.5, size=n)
    noise_sd = 0.05 + 0.3 * np.abs(x)
    return x[:, None], np.sin(2 * x) + rng.normal(size=n) * noise_sd


rng = np.random.default_rng(0)
X_train, y_train = sample(300, rng)
X_cal, y_cal = sample(300, rng)  # held out from training, for the conformal step only
X_test, y_test = sample(3000, rng)

network = BayesianMLPRegressor(random_state=0).fit(X_train, y_train)
kernel = ConstantKernel() * RBF() + WhiteKernel()
gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0).fit(X_train, y_train)


# %%
# The normalised score divides each residual by a "residual model". Given an already
# fitted one (``prefit=True``), MAPIE uses its ``predict`` as the scale itself: here the
# network's predictive sd.
class PredictiveStd(RegressorMixin, BaseEstimator):
    """The fitted regressor's predictive sd, as MAPIE's residual model."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y=None):
        self.n_features_in_ = self.regressor.n_features_in_
        return self

    def predict(self, X):
        return self.regressor.predict(X, return_std=True)[1]


score = ResidualNormalisedScore(residual_estimator=PredictiveStd(network).fit(X_cal), prefit=True)
conformal = SplitConformalRegressor(
    network, confidence_level=0.9, conformity_score=score, prefit=True
).conformalize(X_cal, y_cal)

# %%
# Coverage of the 90 % intervals on the new rows, overall and on the tails.
z90 = 1.6448536269514722


def intervals_of(X):
    gp_mean, gp_std = gp.predict(X, return_std=True)
    return {
        "network's own": network.predict_interval(X, coverage=0.9),
        "MAPIE, split conformal": conformal.predict_interval(X)[1][:, :, 0],
        "Gaussian process": np.column_stack([gp_mean - z90 * gp_std, gp_mean + z90 * gp_std]),
    }


distance = np.abs(X_test[:, 0])
tails = distance >= np.quantile(distance, 0.9)
centre = distance <= np.quantile(distance, 0.1)
print(f"{'90 % intervals':>24} | overall | tails (10 %) | centre (10 %) | mean width")
for name, (low, high) in ((k, v.T) for k, v in intervals_of(X_test).items()):
    inside = (low <= y_test) & (y_test <= high)
    print(
        f"{name:>24} | {inside.mean():7.3f} | {inside[tails].mean():12.3f} | "
        f"{inside[centre].mean():13.3f} | {np.mean(high - low):10.2f}"
    )

# %%
# Conformal calibration fixes the average coverage, not the coverage at every input: the
# network's sd does not grow with the noise here, so its intervals and the rescaled ones are
# still too narrow on the tails and too wide near zero.
# ``noise="heteroscedastic"`` (see the regression example) models the noise instead.
grid = np.linspace(-2.5, 2.5, 300)[:, None]
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True, layout="constrained")
for ax, (name, interval) in zip(axes, intervals_of(grid).items()):
    low, high = interval.T
    ax.scatter(X_test[:500, 0], y_test[:500], s=4, color="k", alpha=0.4, label="new data")
    ax.fill_between(grid[:, 0], low, high, alpha=0.3, label="90 % interval")
    ax.plot(grid[:, 0], np.sin(2 * grid[:, 0]), color="k", linewidth=0.8, label="sin(2x)")
    ax.set(title=name, xlabel="x")
axes[0].set_ylabel("y")
axes[0].legend(loc="lower left")
plt.show()
