"""
Regression intervals against a Gaussian process
===============================================

:class:`~bnn_sklearn.BayesianMLPRegressor` predicts a whole distribution for every input:
its mean, its standard deviation (``predict(X, return_std=True)``) and central intervals
(``predict_interval``). With ``noise="heteroscedastic"`` the network also learns a noise
scale per input. On data whose noise grows away from the centre, a Gaussian process with
one noise level for all inputs cannot follow it; the heteroscedastic network can.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPRegressor


def sample(n, rng):
    x = rng.uniform(-3, 3, size=n)
    noise_sd = 0.05 + 0.3 * np.abs(x)
    return x[:, None], np.sin(2 * x) + rng.normal(size=n) * noise_sd


rng = np.random.default_rng(0)
X_train, y_train = sample(400, rng)
X_test, y_test = sample(2000, rng)
scaler = StandardScaler().fit(X_train)

network = BayesianMLPRegressor(noise="heteroscedastic", random_state=0)
network.fit(scaler.transform(X_train), y_train)
kernel = ConstantKernel() * RBF() + WhiteKernel()
gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
gp = gp.fit(scaler.transform(X_train), y_train)

# %%
# Coverage of the central 90 % intervals on new data, and their mean width.
z90 = 1.6448536269514722
intervals = {
    "Bayesian MLP, heteroscedastic": network.predict_interval(
        scaler.transform(X_test), coverage=0.9
    ),
}
mean, std = gp.predict(scaler.transform(X_test), return_std=True)
intervals["Gaussian process"] = np.column_stack([mean - z90 * std, mean + z90 * std])
for name, (low, high) in ((k, v.T) for k, v in intervals.items()):
    inside = (low <= y_test) & (y_test <= high)
    central = np.abs(X_test[:, 0]) < 1
    print(
        f"{name:>30}: coverage {inside.mean():.3f} "
        f"(|x| < 1: {inside[central].mean():.3f}, |x| >= 1: {inside[~central].mean():.3f}), "
        f"mean width {np.mean(high - low):.2f}"
    )

# %%
# The bands over and beyond the training range (dashed lines): the network's widen with
# the noise and keep widening outside the data.
grid = np.linspace(-4.5, 4.5, 300)[:, None]
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
for ax, name in zip(axes, intervals):
    if name == "Gaussian process":
        mean, std = gp.predict(scaler.transform(grid), return_std=True)
        low, high = mean - z90 * std, mean + z90 * std
    else:
        mean = network.predict(scaler.transform(grid))
        low, high = network.predict_interval(scaler.transform(grid), coverage=0.9).T
    ax.scatter(X_train[:, 0], y_train, s=6, color="k", alpha=0.5, label="training data")
    ax.fill_between(grid[:, 0], low, high, alpha=0.3, label="90 % interval")
    ax.plot(grid[:, 0], mean, label="predictive mean")
    ax.plot(grid[:, 0], np.sin(2 * grid[:, 0]), color="k", linewidth=0.8, label="sin(2x)")
    for edge in (-3, 3):
        ax.axvline(edge, color="grey", linestyle="--", linewidth=0.8)
    ax.set(title=name, xlabel="x", ylim=(-5, 5))
axes[0].set_ylabel("y")
axes[0].legend(loc="lower left", fontsize="large")
plt.show()
