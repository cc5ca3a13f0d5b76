"""Reproduce the origin notebook (Wiecki 2016, "Bayesian Deep Learning") with the estimator.

Same data and split as the notebook: 1000 moons (noise 0.2), standardised, half for
training. Fits the Bayesian MLP by full-batch and by minibatch ADVI beside a random forest
and gradient boosting, prints test accuracy, log loss and fit seconds as a Markdown table,
and writes the probability surface, the uncertainty surface and the loss curves as PNGs.

    python benchmarks/seed_moons.py            # the real settings, written to runs/seed/
    python benchmarks/seed_moons.py --quick    # a smoke run (few iterations)
    python benchmarks/seed_moons.py --out benchmarks/results/seed   # the committed results

(``python -m benchmarks.seed_moons`` from the repository's root does the same.)
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from sklearn.base import clone
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import accuracy_score, log_loss

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.plotting import plot_decision_surface, plot_loss_curve

if not __package__:  # run as a file: python benchmarks/seed_moons.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.datasets import seed_data

#: Where a run writes unless told otherwise: an untracked folder, so that running the
#: script leaves the checkout clean. The committed results are ``benchmarks/results/seed``.
DEFAULT_OUT = Path("runs") / "seed"


def models(quick: bool) -> dict:
    settings = {"random_state": 0}
    if quick:
        settings.update(max_iter=300, tol=None, n_draws=100)
    return {
        "BNN, full-batch ADVI": BayesianMLPClassifier(batch_size=None, **settings),
        "BNN, minibatch ADVI (50)": BayesianMLPClassifier(batch_size=50, **settings),
        "RandomForestClassifier": RandomForestClassifier(random_state=0),
        "GradientBoostingClassifier": GradientBoostingClassifier(random_state=0),
    }


def evaluate(fitted_models: dict, fit_seconds: dict, X_test, y_test) -> str:
    lines = [
        "| model | test accuracy | test log loss | fit seconds |",
        "|---|---|---|---|",
    ]
    for name, model in fitted_models.items():
        proba = model.predict_proba(X_test)
        accuracy = accuracy_score(y_test, model.classes_[proba.argmax(axis=1)])
        lines.append(
            f"| {name} | {accuracy:.3f} | {log_loss(y_test, proba):.3f} | {fit_seconds[name]:.2f} |"
        )
    return "\n".join(lines)


def write_figures(fitted: dict, X_test, y_test, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full_batch = fitted["BNN, full-batch ADVI"]
    for kind in ("proba", "std"):
        fig, ax = plt.subplots(figsize=(7, 5.5))
        plot_decision_surface(
            full_batch, X_test, y_test, kind=kind, ax=ax, xlim=(-3, 3), ylim=(-3, 3)
        )
        fig.savefig(out / f"seed_{kind}.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, model in fitted.items():
        if isinstance(model, BayesianMLPClassifier):
            plot_loss_curve(model, ax=ax, label=name)
    fig.savefig(out / "seed_loss.png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few iterations: a smoke run")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for table and PNGs (default: runs/seed; benchmarks/results/seed is committed)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = seed_data()

    fitted, seconds = {}, {}
    for name, model in models(args.quick).items():
        if isinstance(model, BayesianMLPClassifier):
            # Compile outside the timing: later fits of this architecture reuse the engine.
            start = time.perf_counter()
            clone(model).set_params(max_iter=100, tol=None).fit(X_train, y_train)
            print(f"{name}: engine ready in {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        fitted[name] = model.fit(X_train, y_train)
        seconds[name] = time.perf_counter() - start
        print(f"{name}: fitted in {seconds[name]:.2f} s", flush=True)

    table = evaluate(fitted, seconds, X_test, y_test)
    header = (
        f"Seed reproduction ({'quick' if args.quick else 'full'} settings), "
        f"Python {platform.python_version()}, command: python benchmarks/seed_moons.py"
        f"{' --quick' if args.quick else ''}\n\n"
        "The origin notebook reported 94.2 % test accuracy (full-batch ADVI, 50,000 iterations).\n"
    )
    print("\n" + header + "\n" + table)
    (args.out / "seed_results.md").write_text(header + "\n" + table + "\n")

    write_figures(fitted, X_test, y_test, args.out)
    print(f"\nWrote {args.out}/seed_results.md and seed_proba.png, seed_std.png, seed_loss.png")


if __name__ == "__main__":
    main()
