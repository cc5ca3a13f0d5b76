"""Is each model's uncertainty worth something? Accuracy-rejection and out-of-distribution.

1. Accuracy-rejection: out-of-fold predictions (stratified 5-fold CV by scikit-learn's
   ``cross_validate``, from its fold models: the ranking needs each model's draws, trees or
   members, which ``bnn_sklearn.compare`` does not keep) on the five data sets
   of ``compare_classifiers.py``; accuracy on the points kept as the most uncertain 0-50 % are set
   aside. The Bayesian MLP (ADVI, and NUTS on the data sets small enough for it: up to
   ``NUTS_MAX_CELLS`` rows x features) ranks points by its epistemic and by its total
   uncertainty, the
   random forest, HistGradientBoosting and the deep ensemble of 5 MLPs by their predictive
   entropy, the forest and the ensemble also by the disagreement of their members (the same
   mutual information as the BNN's epistemic part, over trees or networks).
2. Out-of-distribution: fit on in-range data, then score held-out in-range points ("near")
   and points outside the training data ("far"); AUROC of each uncertainty for telling far
   from near (1.0 = perfect, 0.5 = no better than chance). Three scenarios, three splits each:
   moons with far points spread over the plane in three bands of distance from the nearest
   training point (1-2, 2-3 and over 3 standard deviations); digits 0-4 with the unseen
   digits 5-9 as far points; the 20k synthetic set with far points shifted 3 standard
   deviations along each feature.

Writes ``benchmarks/results/uncertainty.md``, ``uncertainty_rejection.csv``,
``uncertainty_ood.csv``, ``uncertainty_rejection.png`` and ``uncertainty_ood_moons.png``.

    python -m benchmarks.uncertainty                 # the real run
    python -m benchmarks.uncertainty --quick         # a smoke run: small data, few iterations
    python -m benchmarks.uncertainty --figures-only  # redraw the rejection figure, no fits
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.metrics import uncertainty_decomposition
from bnn_sklearn.plotting import accuracy_rejection_curve

if not __package__:  # run as a file: python benchmarks/uncertainty.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, far_auroc, probability_draws, write_csv
from benchmarks.compare_classifiers import models
from benchmarks.datasets import classification_datasets

MODELS = ("BayesianMLP", "RandomForest", "HistGradientBoosting", "MLP deep ensemble (5)")
NUTS = "BayesianMLP (NUTS)"
#: NUTS uses every row at every step: it runs on data sets up to this many rows x features
#: (moons, iris, breast cancer), not on digits or the 20k set.
NUTS_MAX_CELLS = 20_000
#: How each model's uncertainty is read: (model, score name, field of the decomposition).
SCORES = (
    ("BayesianMLP", "epistemic", "epistemic"),
    ("BayesianMLP", "total", "total"),
    (NUTS, "epistemic", "epistemic"),
    (NUTS, "total", "total"),
    ("RandomForest", "entropy", "total"),
    ("RandomForest", "disagreement", "epistemic"),
    ("HistGradientBoosting", "entropy", "total"),
    ("MLP deep ensemble (5)", "entropy", "total"),
    ("MLP deep ensemble (5)", "disagreement", "epistemic"),
)
REJECTED_COLUMNS = (0.0, 0.1, 0.2, 0.3, 0.5)
#: Distance bands of the far moons points, in standard deviations from the nearest training point.
MOONS_BANDS = ((1, 2), (2, 3), (3, np.inf))


def read_uncertainty(name: str, model, X) -> tuple[np.ndarray, dict]:
    """Predicted labels and the uncertainty scores of ``SCORES`` for the model called ``name``."""
    draws = probability_draws(model, X)
    split = uncertainty_decomposition(draws)
    predicted = model.classes_[draws.mean(axis=0).argmax(axis=1)]
    return predicted, {
        score: getattr(split, field) for owner, score, field in SCORES if owner == name
    }


def chosen_models(quick: bool, X: np.ndarray) -> dict:
    """The models compared on ``X``: NUTS only where ``X`` is small enough for it."""
    chosen = {name: model for name, model in models(quick).items() if name in MODELS}
    if X.size <= NUTS_MAX_CELLS:
        small = dict(hidden_layer_sizes=(8,), chains=2, tune=50, draws=25) if quick else {}
        nuts = BayesianMLPClassifier(method="nuts", random_state=0, **small)
        chosen[NUTS] = make_pipeline(StandardScaler(), nuts)
    return chosen


def rejection_rows(quick: bool) -> list[dict]:
    """Out-of-fold accuracy-rejection curves, one table row per model and score."""
    folds = StratifiedKFold(n_splits=2 if quick else 5, shuffle=True, random_state=0)
    rows = []
    for data_name, (X, y) in classification_datasets(quick).items():
        splits = list(folds.split(X, y))
        for name, model in chosen_models(quick, X).items():
            start = time.perf_counter()
            predicted = np.empty_like(y)
            scores: dict[str, np.ndarray] = {}
            fitted = cross_validate(
                model, X, y, cv=splits, return_estimator=True, return_indices=True
            )
            for fold_model, test in zip(fitted["estimator"], fitted["indices"]["test"]):
                labels, fold_scores = read_uncertainty(name, fold_model, X[test])
                predicted[test] = labels
                for score, values in fold_scores.items():
                    scores.setdefault(score, np.empty(len(y)))[test] = values
            for score, values in scores.items():
                rejected, accuracy = accuracy_rejection_curve(y, predicted, values)
                row = {"dataset": data_name, "model": name, "score": score}
                row |= {
                    f"acc@{fraction:.0%}": float(np.interp(fraction, rejected, accuracy))
                    for fraction in REJECTED_COLUMNS
                }
                row["mean_acc_0-50%"] = float(accuracy.mean())
                rows.append(row)
            print(
                f"rejection | {data_name:>14} | {name:<22} | "
                f"acc {np.mean(predicted == y):.3f} | {time.perf_counter() - start:.1f} s",
                flush=True,
            )
    return rows


def moons_far_points(X_train, rng, n_points) -> dict:
    """Points on the plane, by their distance (in standard deviations) to the training data."""
    center, spread = X_train.mean(axis=0), X_train.std(axis=0)
    candidates = center + spread * rng.uniform(-6.0, 6.0, size=(200 * n_points, 2))
    nearest = NearestNeighbors(n_neighbors=1).fit(X_train / spread)
    distance = nearest.kneighbors(candidates / spread)[0][:, 0]
    return {
        f"{low}-{high} sd away" if high < np.inf else f"> {low} sd away": candidates[
            (distance >= low) & (distance < high)
        ][:n_points]
        for low, high in MOONS_BANDS
    }


def ood_scenarios(quick: bool, seed: int) -> dict:
    """(X_train, y_train, X_near, {name: X_far}) per scenario, split by ``seed``."""
    rng = np.random.default_rng(seed)
    X, y = make_moons(n_samples=300 if quick else 1000, noise=0.2, random_state=seed)
    X_train, X_near, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=seed)
    scenarios = {"moons": (X_train, y_train, X_near, moons_far_points(X_train, rng, len(X_near)))}
    if quick:
        return scenarios
    X, y = load_digits(return_X_y=True)
    seen = y < 5
    X_train, X_near, y_train, _ = train_test_split(
        X[seen], y[seen], test_size=0.3, stratify=y[seen], random_state=seed
    )
    unseen = rng.choice(np.flatnonzero(~seen), size=len(X_near), replace=False)
    scenarios["digits 0-4"] = (X_train, y_train, X_near, {"unseen digits 5-9": X[unseen]})
    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=10, random_state=seed)
    X_train, X_near, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=seed)
    shift = 3.0 * X_train.std(axis=0) * rng.choice([-1.0, 1.0], size=X_near.shape)
    scenarios["synthetic 20k"] = (
        X_train,
        y_train,
        X_near,
        {"shifted 3 sd per feature": X_near + shift},
    )
    return scenarios


def ood_rows(quick: bool) -> tuple[list[dict], dict]:
    """AUROC of each uncertainty score for far against near points, per scenario and split."""
    seeds = (0,) if quick else (0, 1, 2)
    results: dict[tuple[str, str, str], list[float]] = {}
    moons_models = {}
    for seed in seeds:
        for scenario, (X_train, y_train, X_near, far_sets) in ood_scenarios(quick, seed).items():
            for name, model in chosen_models(quick, X_train).items():
                start = time.perf_counter()
                fitted_model = clone(model).fit(X_train, y_train)
                near_scores = read_uncertainty(name, fitted_model, X_near)[1]
                for far_name, X_far in far_sets.items():
                    far_scores = read_uncertainty(name, fitted_model, X_far)[1]
                    for score, near_values in near_scores.items():
                        auroc = far_auroc(near_values, far_scores[score])
                        key = (f"{scenario}, far: {far_name}", name, score)
                        results.setdefault(key, []).append(auroc)
                if seed == 0 and scenario == "moons":
                    moons_models[name] = (fitted_model, X_train, far_sets)
                print(
                    f"ood | seed {seed} | {scenario:<14} | {name:<22} | "
                    f"{time.perf_counter() - start:.1f} s",
                    flush=True,
                )
    rows = [
        {
            "scenario": scenario,
            "model": name,
            "score": score,
            "auroc_mean": float(np.mean(values)),
            "auroc_sd": float(np.std(values)),
        }
        for (scenario, name, score), values in results.items()
    ]
    return rows, moons_models


def markdown(rejection: list[dict], ood: list[dict], quick: bool) -> str:
    folds = "2 folds" if quick else "5 folds"
    splits = "1 split" if quick else "3 splits"
    lines = [
        f"`python -m benchmarks.uncertainty{' --quick' if quick else ''}`, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}.",
        "",
        f"## Accuracy on the points kept, most uncertain rejected first (out-of-fold, {folds})",
        "",
        "| data set | model | ranked by | "
        + " | ".join(f"{f:.0%} rejected" for f in REJECTED_COLUMNS)
        + " | mean 0-50 % |",
        "|---|---|---|" + "---|" * (len(REJECTED_COLUMNS) + 1),
    ]
    for data_name in dict.fromkeys(r["dataset"] for r in rejection):
        group = [r for r in rejection if r["dataset"] == data_name]
        best = max(r["mean_acc_0-50%"] for r in group)
        for r in group:
            cells = [f"{r[f'acc@{f:.0%}']:.3f}" for f in REJECTED_COLUMNS]
            mean = r["mean_acc_0-50%"]
            cells.append(f"**{mean:.4f}**" if mean == best else f"{mean:.4f}")
            lines.append(f"| {data_name} | {r['model']} | {r['score']} | {' | '.join(cells)} |")
    lines += [
        "",
        f"## Out-of-distribution: AUROC of far against near points (mean +- sd over {splits})",
        "",
        "| scenario | model | uncertainty | AUROC |",
        "|---|---|---|---|",
    ]
    for scenario in dict.fromkeys(r["scenario"] for r in ood):
        group = [r for r in ood if r["scenario"] == scenario]
        best = max(r["auroc_mean"] for r in group)
        for r in group:
            value = f"{r['auroc_mean']:.3f} +- {r['auroc_sd']:.3f}"
            value = f"**{value}**" if r["auroc_mean"] == best else value
            lines.append(f"| {scenario} | {r['model']} | {r['score']} | {value} |")
    return "\n".join(lines) + "\n"


def write_rejection_figure(rows: list[dict], path: Path) -> None:
    """The accuracy-rejection table as curves: one panel per data set, in a grid of three
    columns, the legend in the last panel. Drawn from the table's rows (as in
    ``uncertainty_rejection.csv``), so ``--figures-only`` redraws it without fitting."""
    import matplotlib.pyplot as plt

    data_names = list(dict.fromkeys(row["dataset"] for row in rows))
    labels = list(dict.fromkeys(f"{row['model']}: {row['score']}" for row in rows))
    styles = {label: plt.get_cmap("tab10")(i % 10) for i, label in enumerate(labels)}
    columns = 3
    n_rows = (len(data_names) + 1 + columns - 1) // columns  # + 1: the legend's panel
    fig, axes = plt.subplots(n_rows, columns, figsize=(4.2 * columns, 3.6 * n_rows), squeeze=False)
    panels = axes.ravel()
    for ax, data_name in zip(panels, data_names):
        for row in rows:
            if row["dataset"] != data_name:
                continue
            label = f"{row['model']}: {row['score']}"
            accuracy = [float(row[f"acc@{fraction:.0%}"]) for fraction in REJECTED_COLUMNS]
            rejected = [100 * fraction for fraction in REJECTED_COLUMNS]
            linestyle = "--" if row["score"] in ("epistemic", "disagreement") else "-"
            ax.plot(rejected, accuracy, marker=".", color=styles[label], ls=linestyle)
        ax.set(title=data_name, xlabel="rejected, most uncertain first (%)")
        ax.set_ylabel("accuracy on the rest")
    legend_ax = panels[len(data_names)]
    legend_ax.axis("off")
    handles = [
        plt.Line2D(
            [],
            [],
            color=styles[label],
            ls="--" if label.endswith(("epistemic", "disagreement")) else "-",
            marker=".",
        )
        for label in labels
    ]
    legend_ax.legend(handles, labels, loc="center", frameon=False, fontsize="medium")
    for ax in panels[len(data_names) + 1 :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def read_csv(path: Path) -> list[dict]:
    """The rows of a CSV file written by ``write_csv``, as dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_moons_figure(moons_models: dict, ood: list[dict], path: Path) -> None:
    """Each uncertainty as a map over the plane, with the training and the far points."""
    import matplotlib.pyplot as plt

    _, X_train, far_sets = next(iter(moons_models.values()))
    X_far = np.vstack(list(far_sets.values()))
    low, high = X_far.min(axis=0), X_far.max(axis=0)
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], 150), np.linspace(low[1], high[1], 150))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    columns = -(-len(SCORES) // 2)
    fig, axes = plt.subplots(2, columns, figsize=(4.5 * columns, 8.5))
    for ax, (name, score, _) in zip(axes.ravel(), SCORES):
        values = read_uncertainty(name, moons_models[name][0], grid)[1][score]
        image = ax.contourf(xx, yy, values.reshape(xx.shape), levels=20, cmap="viridis")
        fig.colorbar(image, ax=ax)
        ax.scatter(*X_train.T, s=2, c="white", alpha=0.7)
        auroc = ", ".join(
            f"{r['auroc_mean']:.2f}"
            for r in ood
            if r["scenario"].startswith("moons") and (r["model"], r["score"]) == (name, score)
        )
        ax.set_title(f"{name}: {score}\nAUROC by band: {auroc}", fontsize=9)
    for ax in axes.ravel()[len(SCORES) :]:
        ax.axis("off")
    bands = ", ".join(far_sets)
    fig.suptitle(
        f"Uncertainty over the plane (white: training points); far bands in order: {bands}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for tables and plots")
    parser.add_argument(
        "--figures-only",
        action="store_true",
        help="redraw uncertainty_rejection.png from uncertainty_rejection.csv in --out, no fits",
    )
    args = parser.parse_args(argv)
    if args.figures_only:
        rows = read_csv(args.out / "uncertainty_rejection.csv")
        write_rejection_figure(rows, args.out / "uncertainty_rejection.png")
        return
    if args.quick:  # a few iterations: the MLPs' convergence warnings say nothing here
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rejection = rejection_rows(args.quick)
    ood, moons_models = ood_rows(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(rejection, ood, args.quick)
    (args.out / "uncertainty.md").write_text(table)
    write_csv(rejection, args.out / "uncertainty_rejection.csv")
    write_csv(ood, args.out / "uncertainty_ood.csv")
    write_rejection_figure(rejection, args.out / "uncertainty_rejection.png")
    write_moons_figure(moons_models, ood, args.out / "uncertainty_ood_moons.png")
    print("\n" + table)


if __name__ == "__main__":
    main()
