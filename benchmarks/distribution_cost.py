"""Cost per row of the predictive distribution object at 500 draws: time and memory.

Fits ``BayesianMLPRegressor`` (defaults, 500 draws) with each noise model on a 1-D sine,
then times ``predict_distribution`` and each method of the returned ``NormalMixture`` on
``--rows`` new rows (median of ``--repeats`` runs, one BLAS thread as prediction uses), and
reports the memory the object holds per row. Writes ``distribution_cost.md`` to ``--out``
(default ``benchmarks/results``).

    python benchmarks/distribution_cost.py
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pymc
import pytensor
from sklearn.exceptions import ConvergenceWarning

from bnn_sklearn import BayesianMLPRegressor

RESULTS = Path(__file__).parent / "results"


def sine(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.5, 2.5, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + rng.normal(size=n) * (0.05 + 0.2 * np.abs(X[:, 0]))


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def held_bytes(dist) -> int:
    """Bytes of the arrays the object keeps (a broadcast view counts its base once)."""
    total = 0
    for array in (dist._means, dist._scales):
        base = array
        while base.base is not None:
            base = base.base
        total += base.nbytes
    return total


def measure(noise: str, n_rows: int, repeats: int) -> dict:
    X, y = sine(1000, seed=0)
    with warnings.catch_warnings():  # timing needs no converged fit
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = BayesianMLPRegressor(method="advi", noise=noise, max_iter=2000, random_state=0).fit(
            X, y
        )
    X_new, y_new = sine(n_rows, seed=1)
    dist = model.predict_distribution(X_new)
    calls = {
        "predict_draws": lambda: model.predict_draws(X_new),
        "predict_distribution": lambda: model.predict_distribution(X_new),
        "logpdf": lambda: dist.logpdf(y_new),
        "cdf": lambda: dist.cdf(y_new),
        "ppf(0.9)": lambda: dist.ppf(0.9),
        "interval(0.9)": lambda: dist.interval(0.9),
        "crps": lambda: dist.crps(y_new),
        "rvs(size=100)": lambda: dist.rvs(size=100, random_state=0),
    }
    row = {"noise": noise, "bytes per row": held_bytes(dist) / n_rows}
    for name, call in calls.items():
        row[name] = 1e6 * median_seconds(call, repeats) / n_rows
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = [
        measure(noise, args.rows, args.repeats) for noise in ("homoscedastic", "heteroscedastic")
    ]
    names = [key for key in rows[0] if key not in ("noise", "bytes per row")]
    lines = [
        "# Cost of the predictive distribution per row, 500 draws",
        "",
        f"`python benchmarks/distribution_cost.py --rows {args.rows} --repeats {args.repeats}`; "
        f"Python {platform.python_version()}, PyMC {pymc.__version__}, PyTensor "
        f"{pytensor.__version__}; default network (16, 16) relu; median of {args.repeats} runs "
        f"on {args.rows} rows, microseconds per row.",
        "",
        "| noise | bytes held per row | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for row in rows:
        cells = [f"{row[name]:,.0f}" for name in names]
        lines.append(
            f"| {row['noise']} | {row['bytes per row']:,.0f} | " + " | ".join(cells) + " |"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"distribution_cost_py{''.join(platform.python_version_tuple()[:2])}.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
