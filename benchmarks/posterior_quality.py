"""ADVI and MILE held against NUTS on the seed: the same network, three posteriors.

Fits the default network to the seed's data (1000 moons, standardised, half for training)
with mean-field ADVI (the defaults), with MILE (``method="mile"``: ADVI members, then a
short NUTS chain from each) and with NUTS (``method="nuts"``), each at its defaults, and
reports, per posterior:

- test accuracy and log loss, fit seconds (each architecture compiled before the timing);
- how far ADVI's and MILE's surfaces are from NUTS's: mean absolute difference of the probability
  and of ``predict_std`` on the 100 x 100 grid over [-3, 3]^2;
- out-of-distribution AUROC of ``predict_std`` (and of the epistemic part): 200 held-out
  training-range points ("near") against 200 points of [-5, 5]^2 more than 1.5 from any
  training point ("far"), over three splits of 500 training rows, with a random forest's
  entropy for reference.

Writes ``posterior_quality.md`` and ``posterior_quality.png`` (probability and std
surfaces side by side) to ``--out`` (default ``benchmarks/results``).

    python -m benchmarks.posterior_quality            # the real run (a few minutes)
    python -m benchmarks.posterior_quality --nuts-sampler pymc   # with PyMC's sampler
    python -m benchmarks.posterior_quality --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, log_loss

import bnn_sklearn
from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn._nuts import resolve_sampler
from bnn_sklearn.metrics import uncertainty_decomposition
from bnn_sklearn.plotting import plot_decision_surface

if not __package__:  # run as a file: python benchmarks/posterior_quality.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, far_auroc, fit_timed, probability_draws
from benchmarks.datasets import moons_far_split, seed_data

GRID = np.mgrid[-3:3:100j, -3:3:100j].reshape(2, -1).T


def posteriors(quick: bool, nuts_sampler: str) -> dict:
    nuts = dict(method="nuts", nuts_sampler=nuts_sampler)
    mile = dict(nuts, method="mile")
    if quick:  # the test suite's network (8,): no extra compile
        small = dict(hidden_layer_sizes=(8,), random_state=0)
        return {
            "ADVI": BayesianMLPClassifier(max_iter=300, tol=None, n_draws=100, **small),
            "MILE": BayesianMLPClassifier(
                max_iter=300, tol=None, chains=2, tune=30, draws=20, **mile, **small
            ),
            "NUTS": BayesianMLPClassifier(chains=2, tune=50, draws=50, **nuts, **small),
        }
    return {
        "ADVI": BayesianMLPClassifier(random_state=0),
        "MILE": BayesianMLPClassifier(random_state=0, **mile),
        "NUTS": BayesianMLPClassifier(random_state=0, **nuts),
    }


def ood_auroc(model, X_near, X_far) -> dict[str, float]:
    scores = {}
    if hasattr(model, "predict_std"):
        std_near, std_far = model.predict_std(X_near)[:, 1], model.predict_std(X_far)[:, 1]
        scores["predict_std"] = far_auroc(std_near, std_far)
        epistemic = [model.predict_uncertainty(X).epistemic for X in (X_near, X_far)]
        scores["epistemic"] = far_auroc(*epistemic)
    else:
        total = [
            uncertainty_decomposition(probability_draws(model, X)).total for X in (X_near, X_far)
        ]
        scores["entropy"] = far_auroc(*total)
    return scores


def write_figure(fitted: dict, X_test, y_test, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(fitted), figsize=(6.5 * len(fitted), 10.5))
    for column, (name, model) in enumerate(fitted.items()):
        for row, kind in enumerate(("proba", "std")):
            ax = axes[row, column]
            plot_decision_surface(
                model, X_test, y_test, kind=kind, ax=ax, xlim=(-3, 3), ylim=(-3, 3)
            )
            ax.set_title(f"{name}: {ax.get_title()}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for table and PNG")
    parser.add_argument("--nuts-sampler", default="auto", choices=["auto", "nutpie", "pymc"])
    args = parser.parse_args(argv)
    X_train, X_test, y_train, y_test = seed_data()
    candidates = posteriors(args.quick, args.nuts_sampler)

    fitted, seconds = {}, {}
    for name, model in candidates.items():
        fit_timed(model, X_train[:50], y_train[:50])  # compile outside the timing
        fitted[name], seconds[name] = fit_timed(model, X_train, y_train)
        print(f"seed | {name} | fitted in {seconds[name]:.1f} s", flush=True)

    proba = {name: model.predict_proba(GRID)[:, 1] for name, model in fitted.items()}
    std = {name: model.predict_std(GRID)[:, 1] for name, model in fitted.items()}
    splits = (0,) if args.quick else (0, 1, 2)
    auroc: dict[tuple[str, str], list[float]] = {}
    reference = {**candidates, "random forest": RandomForestClassifier(random_state=0)}
    for seed in splits:
        X_ood, y_ood, X_near, X_far = moons_far_split(seed)
        for name, model in reference.items():
            model_fit, fit_seconds = fit_timed(model, X_ood, y_ood)
            for score, value in ood_auroc(model_fit, X_near, X_far).items():
                auroc.setdefault((name, score), []).append(value)
            print(f"moons-far | split {seed} | {name} | {fit_seconds:.1f} s", flush=True)

    lines = [
        f"`python -m benchmarks.posterior_quality{' --quick' if args.quick else ''}`: Python "
        f"{platform.python_version()}, bnn_sklearn {bnn_sklearn.__version__}, "
        f"{time.strftime('%Y-%m-%d')}, NUTS by {resolve_sampler(args.nuts_sampler)}",
        "",
        "## The seed (1000 moons, standardised, 50/50 split)",
        "",
        "| posterior | test accuracy | test log loss | fit seconds (warm) | "
        "mean abs. difference from NUTS on the grid: probability / std |",
        "|---|---|---|---|---|",
    ]
    for name, model in fitted.items():
        test_proba = model.predict_proba(X_test)
        difference = (
            f"{np.abs(proba[name] - proba['NUTS']).mean():.3f} / "
            f"{np.abs(std[name] - std['NUTS']).mean():.3f}"
        )
        lines.append(
            f"| {name} | {accuracy_score(y_test, test_proba.argmax(axis=1)):.3f} | "
            f"{log_loss(y_test, test_proba):.3f} | {seconds[name]:.1f} | {difference} |"
        )
    nuts = fitted["NUTS"]
    lines += [
        "",
        f"NUTS diagnostics on the seed: {nuts.n_divergences_} divergences, predictive R-hat "
        f"{nuts.predictive_rhat_:.3f}, parameter R-hat median {np.median(nuts.rhat_):.3f} "
        f"(max {nuts.rhat_.max():.2f}), bulk ESS min {nuts.ess_.min():.0f}.",
        "",
        f"## Out of distribution: AUROC far against near, mean (min-max) of {len(splits)} split(s)",
        "",
        "| model | uncertainty | AUROC |",
        "|---|---|---|",
    ]
    for (name, score), values in auroc.items():
        lines.append(
            f"| {name} | {score} | {np.mean(values):.2f} ({min(values):.2f}-{max(values):.2f}) |"
        )
    table = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "posterior_quality.md").write_text(table)
    write_figure(fitted, X_test, y_test, args.out / "posterior_quality.png")
    print("\n" + table)


if __name__ == "__main__":
    main()
