"""The Bayesian MLP regressor against forests, boosting, a Gaussian process and linear models.

K-fold cross-validation (fixed seeds) on four data sets: diabetes, ``make_friedman1`` (1,000
rows), a 1-D problem whose noise grows away from 0, and ``make_friedman1`` with 20,000 rows
(the Gaussian process is fitted there on a random 1,000 of the training rows, its cost is
cubic in the rows). The regressor runs at its defaults (``method="auto"``: MILE on the three
smaller sets, minibatch ADVI on 20,000 rows) and with ``method="advi"``. NGBoost joins when
it is installed (``pip install ngboost``). Per model and data set: RMSE; the negative log
predictive density per row (NLL) and the CRPS where the model has a predictive distribution;
coverage and mean width of its central 90 % interval; fit and predict seconds. Predictive
distributions: the regressors' own mixture of Normals; the Gaussian process's,
BayesianRidge's and NGBoost's Normal; a Normal for the random forest with the trees' mean
and a variance of the trees' spread plus the out-of-bag residual variance;
HistGradientBoosting's intervals from two quantile-loss models (no density, so no NLL or
CRPS). Writes ``compare_regression.md``, ``compare_regression.csv`` and
``compare_regression_1d.png`` (the 1-D problem: data, predictive mean and 50/90 % bands of
the regressor and of the Gaussian process) to ``--out`` (default ``benchmarks/results``).

    python -m benchmarks.compare_regression            # the real run
    python -m benchmarks.compare_regression --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import norm
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import BayesianRidge
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import bnn_sklearn
from bnn_sklearn import BayesianMLPRegressor
from bnn_sklearn._mixture import log_density as mixture_log_density

if not __package__:  # run as a file: python benchmarks/compare_regression.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS
from benchmarks.datasets import heteroscedastic_1d, regression_datasets

try:  # optional: pip install ngboost
    from ngboost import NGBRegressor
except ImportError:
    NGBRegressor = None

COVERAGE = 0.9
METRICS = ("rmse", "nll", "crps", "coverage_90", "width_90", "fit_s", "predict_s")
#: Samples per row of a mixture's CRPS estimate.
CRPS_SAMPLES = 400
#: Largest training set the Gaussian process is fitted on; above it, on a random subsample
#: of this many rows.
GP_MAX_ROWS = 1000


class Quantiles:
    """HistGradientBoosting's point model with two quantile models for the interval."""

    def __init__(self):
        tails = ((1 - COVERAGE) / 2, (1 + COVERAGE) / 2)
        self.point = HistGradientBoostingRegressor(random_state=0)
        self.bounds = [
            HistGradientBoostingRegressor(loss="quantile", quantile=q, random_state=0)
            for q in tails
        ]

    def fit(self, X, y):
        for model in (self.point, *self.bounds):
            model.fit(X, y)
        return self


class Subsampled(GaussianProcessRegressor):
    """A Gaussian process fitted on a random ``GP_MAX_ROWS`` of the training rows (its cost
    is cubic in the rows), as a user with a large data set would fit one."""

    def fit(self, X, y):
        keep = np.random.default_rng(0).permutation(len(X))[:GP_MAX_ROWS]
        return super().fit(X[keep], y[keep])


class ForestWithNoise(RandomForestRegressor):
    """A random forest that also keeps its out-of-bag residual variance (the noise)."""

    def fit(self, X, y):
        super().fit(X, y)
        self.noise_variance_ = float(np.mean((self.oob_prediction_ - y) ** 2))
        return self


def models(quick: bool, n_rows: int, n_features: int) -> dict:
    bnn = (
        {"max_iter": 300, "tol": None, "n_draws": 100, "chains": 2, "tune": 20, "draws": 20}
        if quick
        else {}
    )
    # One length scale per feature, so that irrelevant features can be switched off.
    kernel = ConstantKernel() * RBF(np.ones(n_features)) + WhiteKernel()
    if n_rows <= GP_MAX_ROWS:
        GP, gp_name = GaussianProcessRegressor, "GaussianProcess"
    else:
        GP, gp_name = Subsampled, f"GaussianProcess ({GP_MAX_ROWS:,}-row subsample)"
    chosen = {
        "BayesianMLP": make_pipeline(StandardScaler(), BayesianMLPRegressor(random_state=0, **bnn)),
        "BayesianMLP ADVI": make_pipeline(
            StandardScaler(), BayesianMLPRegressor(method="advi", random_state=0, **bnn)
        ),
        "BayesianMLP heteroscedastic": make_pipeline(
            StandardScaler(),
            BayesianMLPRegressor(noise="heteroscedastic", random_state=0, **bnn),
        ),
        "RandomForest": ForestWithNoise(oob_score=True, random_state=0),
        "HistGradientBoosting (quantile)": Quantiles(),
        gp_name: make_pipeline(StandardScaler(), GP(kernel, normalize_y=True, random_state=0)),
        "BayesianRidge": make_pipeline(StandardScaler(), BayesianRidge()),
        "MLP": make_pipeline(
            StandardScaler(),
            TransformedTargetRegressor(
                MLPRegressor(max_iter=50 if quick else 1000, random_state=0),
                transformer=StandardScaler(),
            ),
        ),
    }
    if NGBRegressor is not None:
        chosen["NGBoost"] = NGBRegressor(
            n_estimators=50 if quick else 500, verbose=False, random_state=0
        )
    return chosen


def predictive(model, X) -> dict:
    """Mean, and where the model has them: interval, NLL and CRPS functions of y."""
    if isinstance(model, Quantiles):
        interval = np.column_stack([bound.predict(X) for bound in model.bounds])
        return {"mean": model.point.predict(X), "interval": interval}
    last = model[-1] if hasattr(model, "steps") else model
    Xt = model[:-1].transform(X) if hasattr(model, "steps") else X
    if isinstance(last, BayesianMLPRegressor):
        draws = last.predict_draws(Xt)
        return {
            "mean": draws.mean.mean(axis=0),
            "interval": last.predict_interval(Xt, coverage=COVERAGE),
            "mixture": (draws.mean, draws.noise_scale),
        }
    if NGBRegressor is not None and isinstance(last, NGBRegressor):
        params = last.pred_dist(Xt).params
        mean, std = params["loc"], params["scale"]
    elif isinstance(last, GaussianProcessRegressor | BayesianRidge):
        mean, std = last.predict(Xt, return_std=True)
    elif isinstance(last, RandomForestRegressor):
        # The trees' spread plus the noise: the out-of-bag residual variance.
        per_tree = np.stack([tree.predict(Xt) for tree in last.estimators_])
        mean = per_tree.mean(axis=0)
        std = np.sqrt(per_tree.var(axis=0) + last.noise_variance_)
    else:
        return {"mean": model.predict(X)}
    z = norm.ppf((1 + COVERAGE) / 2)
    return {
        "mean": mean,
        "interval": np.column_stack([mean - z * std, mean + z * std]),
        "normal": (mean, std),
    }


def mixture_nll_and_crps(means, scales, y, seed=0) -> tuple[float, float]:
    """NLL of y under the mixture of Normals (exact) and its CRPS (sampled)."""
    nll = -np.mean(mixture_log_density(means, scales, y))
    rng = np.random.default_rng(seed)
    pick = rng.integers(len(means), size=(CRPS_SAMPLES, len(y)))
    rows = np.arange(len(y))
    samples = means[pick, rows] + scales[pick, rows] * rng.standard_normal(pick.shape)
    half = CRPS_SAMPLES // 2
    crps = np.mean(np.abs(samples - y), axis=0) - 0.5 * np.mean(
        np.abs(samples[:half] - samples[half:]), axis=0
    )
    return float(nll), float(np.mean(crps))


def normal_nll_and_crps(mean, std, y) -> tuple[float, float]:
    z = (y - mean) / std
    crps = std * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    return float(-np.mean(norm.logpdf(y, mean, std))), float(np.mean(crps))


def score_split(model, X_train, y_train, X_test, y_test) -> dict:
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    prediction = predictive(model, X_test)
    predict_s = time.perf_counter() - start
    row = dict.fromkeys(METRICS, np.nan)
    row.update(
        rmse=float(np.sqrt(np.mean((prediction["mean"] - y_test) ** 2))),
        fit_s=fit_s,
        predict_s=predict_s,
    )
    if "interval" in prediction:
        lower, upper = prediction["interval"].T
        row["coverage_90"] = float(np.mean((lower <= y_test) & (y_test <= upper)))
        row["width_90"] = float(np.mean(upper - lower))
    if "mixture" in prediction:
        row["nll"], row["crps"] = mixture_nll_and_crps(*prediction["mixture"], y_test)
    elif "normal" in prediction:
        row["nll"], row["crps"] = normal_nll_and_crps(*prediction["normal"], y_test)
    return row


def run(quick: bool) -> list[dict]:
    rows = []
    for data_name, (X, y) in regression_datasets(quick).items():
        n_splits = 2 if quick else (3 if len(X) > 5000 else 5)
        folds = KFold(n_splits=n_splits, shuffle=True, random_state=0)
        for name, model in models(quick, *X.shape).items():
            for fold, (train, test) in enumerate(folds.split(X)):
                scores = score_split(model, X[train], y[train], X[test], y[test])
                rows.append({"data": data_name, "model": name, "fold": fold, **scores})
                print(
                    f"{data_name:>18} | {name:<32} | fold {fold} | rmse {scores['rmse']:.3f} "
                    f"| nll {scores['nll']:.3f} | {scores['fit_s']:.1f} s",
                    flush=True,
                )
    return rows


def summary_table(rows: list[dict]) -> str:
    lines = [
        "| data | model | RMSE | NLL | CRPS | 90 % coverage | 90 % width | fit s | predict s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    keys = dict.fromkeys((row["data"], row["model"]) for row in rows)
    for data_name, name in keys:
        chosen = [row for row in rows if (row["data"], row["model"]) == (data_name, name)]
        cells = []
        for metric in METRICS:
            values = np.array([row[metric] for row in chosen], dtype=float)
            if np.all(np.isnan(values)):
                cells.append("-")
            else:
                digits = 2 if metric.endswith("_s") else 3
                cells.append(f"{np.mean(values):.{digits}f}")
        lines.append(f"| {data_name} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_1d(path: Path, quick: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = heteroscedastic_1d(200 if quick else 500, 0)
    grid = np.linspace(-3.5, 3.5, 300)[:, None]
    fitted = models(quick, *X.shape)
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True)
    names = ["BayesianMLP", "BayesianMLP heteroscedastic", "GaussianProcess"]
    for ax, name in zip(axes, names):
        model = fitted[name].fit(X, y)
        last, Xt = model[-1], model[:-1].transform(grid)
        if isinstance(last, BayesianMLPRegressor):
            mean = last.predict(Xt)
            bands = {c: last.predict_interval(Xt, coverage=c) for c in (0.5, 0.9)}
        else:
            mean, std = last.predict(Xt, return_std=True)
            bands = {
                c: mean[:, None] + np.outer(std, [-1, 1]) * norm.ppf((1 + c) / 2)
                for c in (0.5, 0.9)
            }
        ax.scatter(X[:, 0], y, s=6, color="0.4", label="training data")
        for coverage, alpha in ((0.9, 0.2), (0.5, 0.35)):
            lower, upper = bands[coverage].T
            ax.fill_between(
                grid[:, 0], lower, upper, alpha=alpha, color="C0", label=f"{coverage:.0%}"
            )
        ax.plot(grid[:, 0], mean, color="C3", label="predictive mean")
        truth = np.sin(2 * grid[:, 0])
        ax.plot(grid[:, 0], truth, color="k", lw=0.8, ls="--", label="sin(2x)")
        ax.axvspan(-3.5, -2.5, color="0.9", zorder=-1)
        ax.axvspan(2.5, 3.5, color="0.9", zorder=-1)
        ax.set_title(name)
        ax.set_xlabel("x (grey: outside the training range)")
    axes[0].set_ylabel("y")
    axes[0].legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for tables and plot")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    header = (
        f"`python -m benchmarks.compare_regression{' --quick' if args.quick else ''}`: "
        f"Python {platform.python_version()}, bnn_sklearn {bnn_sklearn.__version__}, "
        f"{time.strftime('%Y-%m-%d')}. Mean over folds (5-fold CV; 3-fold for 20k rows)."
    )
    table = summary_table(rows)
    (args.out / "compare_regression.md").write_text(f"{header}\n\n{table}\n")
    with open(args.out / "compare_regression.csv", "w") as csv:
        csv.write(",".join(["data", "model", "fold", *METRICS]) + "\n")
        for row in rows:
            values = [row["data"], row["model"], str(row["fold"])]
            csv.write(",".join(values + [f"{row[m]:.6g}" for m in METRICS]) + "\n")
    plot_1d(args.out / "compare_regression_1d.png", args.quick)
    print(f"\n{header}\n\n{table}")


if __name__ == "__main__":
    main()
