"""What the benchmark scripts share besides data: the results folder, timing, the AUROC of
telling far from near points, and Markdown tables."""

from __future__ import annotations

import csv
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

#: The committed results: every figure in the README and the docs comes from a file here.
RESULTS = Path(__file__).parent / "results"
#: The repository's root: fresh processes start there to import ``benchmarks``.
ROOT = Path(__file__).resolve().parents[1]


def timed(function):
    """``(seconds, result)`` of calling ``function()`` once."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def fit_timed(model, X, y):
    """Fit a clone of ``model`` to ``(X, y)``; return ``(fitted model, seconds)``.

    Convergence warnings are silenced: the scripts' smoke runs (``--quick``) stop early on
    purpose.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return tuple(reversed(timed(lambda: clone(model).fit(X, y))))


def cold_first_fit(workers: int) -> float:
    """Wall seconds of ``workers`` processes started at once, each fitting the defaults to
    the seed data with an empty PyTensor compile directory."""
    script = (
        "from benchmarks.datasets import seed_data\n"
        "from bnn_sklearn import BayesianMLPClassifier\n"
        "X_train, _, y_train, _ = seed_data()\n"
        "BayesianMLPClassifier(random_state=0).fit(X_train, y_train)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={cache}")
        start = time.perf_counter()
        procs = [
            subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT)
            for _ in range(workers)
        ]
        if any(p.wait() for p in procs):
            raise RuntimeError("a cold-cache fit failed")
        return time.perf_counter() - start


def fresh_process_record(script: str, *args: str, env: dict | None = None) -> dict:
    """The JSON record ``script`` prints last, run by a new Python process (with ``args``
    and the environment ``env``) from the repository's root."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def far_auroc(near, far) -> float:
    """AUROC of an uncertainty score for telling far points from near ones.

    Parameters
    ----------
    near, far : array-like of shape (n_near,) and (n_far,)
        The score on the near (held-out, in-range) and on the far points.

    Returns
    -------
    float
        1.0 when every far point scores above every near point, 0.5 for chance; 0.5 also
        when the score is constant (it tells nothing apart).
    """
    values = np.r_[near, far]
    if np.ptp(values) == 0:
        return 0.5
    return float(roc_auc_score(np.r_[np.zeros(len(near)), np.ones(len(far))], values))


def command(name: str, argv=None) -> str:
    """The command line that reproduces a run of ``benchmarks/NAME.py``, for a table's header."""
    args = shlex.join(sys.argv[1:] if argv is None else argv)
    return f"`python -m benchmarks.{name}{' ' + args if args else ''}`"


def header(name: str, argv=None, note: str = "") -> str:
    """A results file's first line: the command, Python's version and the date."""
    line = f"{command(name, argv)}: Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    return f"{line}; {note}" if note else line


def markdown_table(columns, rows) -> str:
    """A Markdown table of ``columns`` (names) and ``rows`` (sequences of cells, as strings)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path) -> None:
    """Rows of equal keys as a CSV file, the keys of the first row as the header."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def probability_draws(model, X) -> np.ndarray:
    """Class probabilities per posterior draw, tree or member: (n_draws, n_samples, n_classes).

    A single model without members gives one draw, so its disagreement is zero.
    """
    if isinstance(model, Pipeline):
        X = model[:-1].transform(X)
        model = model[-1]
    if hasattr(model, "predict_proba_draws"):
        return model.predict_proba_draws(X)
    members = getattr(model, "estimators_", None)
    if members is not None:
        return np.stack([member.predict_proba(X) for member in members])
    return model.predict_proba(X)[np.newaxis]
