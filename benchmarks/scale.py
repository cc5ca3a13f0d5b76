"""How fit and predict cost grow with the data: time and peak memory per size.

Every measurement runs in a fresh process, so its peak resident memory (from the OS,
``resource.getrusage``) is its own: Python, PyMC and the compiled engine, the data and
the fit. A warm-up fit of the same architecture on a small sample comes first, so "fit s"
is the fit, not the one-off compilation ("first fit s").

- rows from 10^3 to 10^6 at 20 features (minibatch ADVI from 2049 rows: ``batch_size="auto"``);
- features from 2 to 200 at 10^4 rows;
  both sweeps with the estimator's default network (``hidden_layer_sizes``'s default);
- predict memory: a (64, 64) network, 500 draws, predict_proba on 10^6 rows x 20 features.

    python -m benchmarks.scale            # the real run (about an hour on 2 cores)
    python -m benchmarks.scale --quick    # a smoke run: small sizes, few iterations
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if not __package__:  # run as a file: python benchmarks/scale.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, ROOT


def problem(n_rows: int, n_features: int, seed: int = 0):
    """A standardised classification problem; make_classification, generated in float64."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_rows,
        n_features=n_features,
        n_informative=max(2, min(n_features // 2, 10)),
        n_redundant=0,
        random_state=seed,
    )
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def measure(n_rows: int, n_features: int, hidden: tuple[int, ...], settings: dict) -> dict:
    """Fit and predict once in this process; return times and the process's peak memory."""
    from bnn_sklearn import BayesianMLPClassifier

    X, y = problem(n_rows, n_features)
    clf = BayesianMLPClassifier(hidden_layer_sizes=hidden, random_state=0, **settings)
    # The warm-up sample takes the same path (full batch or minibatch) as the real fit.
    warm_rows = min(n_rows, 300) if n_rows <= 2048 else 3000
    start = time.perf_counter()
    clf.fit(X[:warm_rows], y[:warm_rows])
    first_fit_s = time.perf_counter() - start
    start = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    proba = clf.predict_proba(X)
    predict_s = time.perf_counter() - start
    return {
        "rows": n_rows,
        "features": n_features,
        "hidden": "x".join(map(str, hidden)),
        "n_iter": clf.n_iter_,
        "first_fit_s": round(first_fit_s, 2),
        "fit_s": round(fit_s, 2),
        "predict_s": round(predict_s, 2),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "train_accuracy": round(float(np.mean(proba.argmax(axis=1) == y)), 3),
    }


def in_fresh_process(n_rows, n_features, hidden, settings) -> dict:
    job = json.dumps([n_rows, n_features, list(hidden), settings])
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--one", job],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measurement {job} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def plan(quick: bool) -> list[tuple[str, int, int, tuple[int, ...], dict]]:
    if quick:
        settings = {"max_iter": 200, "tol": None, "n_draws": 50}
        return [
            ("rows", 1_000, 5, (8,), settings),
            ("rows", 3_000, 5, (8,), settings),
            ("features", 1_000, 2, (8,), settings),
        ]
    from bnn_sklearn import BayesianMLPClassifier

    default = tuple(BayesianMLPClassifier().hidden_layer_sizes)
    return [
        *(("rows", n, 20, default, {}) for n in (1_000, 10_000, 100_000, 1_000_000)),
        *(("features", 10_000, f, default, {}) for f in (2, 20, 200)),
        ("predict memory", 1_000_000, 20, (64, 64), {"n_draws": 500}),
    ]


def markdown(rows: list[dict], quick: bool) -> str:
    lines = [
        f"`python -m benchmarks.scale{' --quick' if quick else ''}`, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}; defaults unless noted, "
        "one fresh process per line.",
        "",
        "| sweep | rows | features | hidden | iterations | first fit s | fit s | "
        "predict_proba s | peak MiB | train accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['sweep']} | {r['rows']:,} | {r['features']} | {r['hidden']} | {r['n_iter']} | "
            f"{r['first_fit_s']} | {r['fit_s']} | {r['predict_s']} | {r['peak_mib']} | "
            f"{r['train_accuracy']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, as JSON
    args = parser.parse_args(argv)
    if args.one:
        n_rows, n_features, hidden, settings = json.loads(args.one)
        print(json.dumps(measure(n_rows, n_features, tuple(hidden), settings)))
        return
    rows = []
    for sweep, n_rows, n_features, hidden, settings in plan(args.quick):
        result = {"sweep": sweep} | in_fresh_process(n_rows, n_features, hidden, settings)
        rows.append(result)
        print(
            f"{sweep:>14} | {n_rows:>9,} rows x {n_features:>3} | fit {result['fit_s']} s | "
            f"predict {result['predict_s']} s | peak {result['peak_mib']} MiB",
            flush=True,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(rows, args.quick)
    (args.out / "scale.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
