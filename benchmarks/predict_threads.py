"""The forward pass on the cores the machine has, against one thread: idle and under load.

``predict_proba`` of a (64, 64) ReLU network with 500 draws on ``--rows`` x 20 rows runs
with the forward pass's threads (as many as BLAS may use, at most the cores: the default)
and with one thread (inside ``threadpoolctl``'s one-thread BLAS limit, as the forward pass
ran before it took threads), the two in turn, ``--repeats`` times each: first as the
machine is, then beside busy-loop processes on all but one of the cores. Reported: median
seconds of each and their ratio, and whether both give the same probabilities to the bit.
The network is fitted briefly (its weights do not change the cost of predicting).

Writes ``predict_threads.md`` to ``--out`` (default ``benchmarks/results``) and prints it.

    python -m benchmarks.predict_threads            # 50,000 rows
    python -m benchmarks.predict_threads --quick    # a smoke run: 5,000 rows, (16, 16)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn._threads import available_cores

if not __package__:  # run as a file: python benchmarks/predict_threads.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, header, markdown_table, timed

COLUMNS = (
    "machine",
    "threads (default) s",
    "one thread s",
    "threads / one thread",
    "identical",
)


@contextmanager
def busy_cores(n: int):
    """``n`` processes spinning in a Python loop while the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def compare(clf, X, repeats: int) -> list[str]:
    """Median seconds of predict_proba with the default threads and with one, in turn."""
    seconds = {"threads": [], "one": []}
    proba = {}
    for _ in range(repeats):
        for mode, limit in (
            ("threads", nullcontext()),
            ("one", threadpool_limits(limits=1, user_api="blas")),
        ):
            with limit:
                spent, proba[mode] = timed(lambda: clf.predict_proba(X))
            seconds[mode].append(spent)
    threads, one = np.median(seconds["threads"]), np.median(seconds["one"])
    same = np.array_equal(proba["threads"], proba["one"])
    return [f"{threads:.2f}", f"{one:.2f}", f"{threads / one:.2f}", "yes" if same else "no"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--rows", type=int, default=50_000, help="rows predicted")
    parser.add_argument("--repeats", type=int, default=3, help="calls per mode and machine")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    args = parser.parse_args(argv)
    rows, hidden, repeats = (
        (5_000, (16, 16), 1) if args.quick else (args.rows, (64, 64), args.repeats)
    )
    X, y = make_classification(n_samples=rows, n_features=20, n_informative=10, random_state=0)
    clf = BayesianMLPClassifier(hidden_layer_sizes=hidden, max_iter=200, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[:2000], y[:2000])
    cores = available_cores()
    load = os.getloadavg()[0]
    table = [[f"as it was (load average {load:.1f} on {cores} cores)", *compare(clf, X, repeats)]]
    print(" | ".join(table[-1]), flush=True)
    with busy_cores(cores - 1):
        label = f"{cores - 1} core(s) of {cores} busy with a Python loop"
        table.append([label, *compare(clf, X, repeats)])
    print(" | ".join(table[-1]), flush=True)
    note = (
        f"predict_proba, {rows:,} x 20 rows, {hidden} ReLU units, {clf.n_draws} draws, "
        f"median of {repeats} calls per mode, the modes in turn"
    )
    text = header("predict_threads", argv, note) + "\n\n" + markdown_table(COLUMNS, table) + "\n"
    print("\n" + text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "predict_threads.md").write_text(text)


if __name__ == "__main__":
    main()
