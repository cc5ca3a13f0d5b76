"""The first fit in a new process, with PyTensor's compile cache warm: the engine loaded from
the engine cache against the engine built in the process (``BNN_SKLEARN_ENGINE_CACHE=0``),
and on PyTensor 2 (Python 3.11) also the engine of PyTensor's C backend loaded
(``PYTENSOR_FLAGS=mode=FAST_RUN``; the engine as shipped compiles with Numba there too).
A last setting fits the regressor's defaults instead, which sample with MILE on these rows:
its ADVI engine is loaded, and so is nutpie's compiled model (when nutpie is installed;
PyMC's sampler compiles from PyTensor's cache).

Each run is a fresh Python process that imports the package, fits the defaults to the
seed's 500 training moons and reports the seconds of ``import bnn_sklearn`` and of the
``fit`` call, and whether PyMC was imported. Untimed processes first fill both caches;
then the settings run in turn, ``--repeats`` times each. Reported: the median seconds
of each and the ratio of the first two settings' ``fit`` calls.

Writes ``new_process_py3XX.md`` (the Python line) to ``--out`` and prints it.

    python -m benchmarks.new_process
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import pytensor

if not __package__:  # run as a file: python benchmarks/new_process.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, fresh_process_record, header, markdown_table

SCRIPT = """
import json, sys, time
start = time.perf_counter()
import bnn_sklearn
imported = time.perf_counter()
import os, warnings
from benchmarks.datasets import seed_data
X_train, _, y_train, _ = seed_data()
estimator = bnn_sklearn.BayesianMLPClassifier
if os.environ.get("NEW_PROCESS_ESTIMATOR") == "regressor":
    estimator, y_train = bnn_sklearn.BayesianMLPRegressor, X_train[:, 0] * X_train[:, 1]
warnings.simplefilter("ignore")  # short sampler runs may warn; the seconds are the point
before = time.perf_counter()
estimator(random_state=0).fit(X_train, y_train)
after = time.perf_counter()
seconds = {"import": imported - start, "fit": after - before}
print(json.dumps({**seconds, "pymc": "pymc" in sys.modules}))
"""
#: The settings: a label and the environment variables of its processes.
SETTINGS = {
    "engine loaded from the cache": {"BNN_SKLEARN_ENGINE_CACHE": "1"},
    "engine built in the process": {"BNN_SKLEARN_ENGINE_CACHE": "0"},
}
if int(pytensor.__version__.split(".")[0]) < 3:
    SETTINGS["C backend's engine loaded from the cache"] = {
        "BNN_SKLEARN_ENGINE_CACHE": "1",
        "PYTENSOR_FLAGS": ",".join(
            filter(None, [os.environ.get("PYTENSOR_FLAGS"), "mode=FAST_RUN"])
        ),
    }
SETTINGS["regressor's defaults (MILE), ADVI engine and NUTS model loaded from the cache"] = {
    "BNN_SKLEARN_ENGINE_CACHE": "1",
    "NEW_PROCESS_ESTIMATOR": "regressor",
}


def run(settings: dict) -> dict:
    return fresh_process_record(SCRIPT, env=dict(os.environ, **settings))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="processes per setting")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    args = parser.parse_args(argv)
    for settings in SETTINGS.values():  # fill the compile caches and the engine cache
        if settings["BNN_SKLEARN_ENGINE_CACHE"] == "1":
            run(settings)
    runs = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name, settings in SETTINGS.items():
            runs[name].append(run(settings))
            print(name, runs[name][-1], flush=True)
    medians = {
        name: {part: statistics.median(r[part] for r in done) for part in ("import", "fit")}
        for name, done in runs.items()
    }
    loaded, built = (medians[name]["fit"] for name in list(SETTINGS)[:2])
    rows = [
        [
            name,
            f"{medians[name]['import']:.2f}",
            f"{medians[name]['fit']:.2f}",
            "yes" if any(r["pymc"] for r in runs[name]) else "no",
        ]
        for name in SETTINGS
    ]
    note = (
        f"median of {args.repeats} fresh processes per setting, taking turns; defaults on "
        f"the seed's 500 training moons (the regressor: the product of the two inputs as "
        f"target); the fit call with the cache takes {loaded / built:.2f} "
        "of the time without"
    )
    columns = ("first fit in a new process", "import s", "fit s", "PyMC imported")
    text = header("new_process", argv, note) + "\n\n" + markdown_table(columns, rows) + "\n"
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"new_process_{tag}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
