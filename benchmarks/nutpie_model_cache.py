"""nutpie's compiled model in a new process: loaded from the disk cache against compiled by
``nutpie.compile_pymc_model`` (as before the cache).

Each run is a fresh Python process that fits the regressor's defaults
(``BayesianMLPRegressor(random_state=0)``, which samples with MILE on these rows) to 500
rows of 8 standard-normal features, and reports the seconds of the ``fit`` call, of the
first ``CompiledNUTS._compiled_nutpie`` call inside it (nutpie's model of the network),
of nutpie's ``_make_functions`` inside that (PyTensor's rewrite and compile of the log
density; not run when the model is loaded), how the model was made and a checksum of the
draws. Untimed processes first fill the caches (PyTensor's, the ADVI engines', nutpie's
models); then the settings take turns, ``--repeats`` times each. Reported: medians.

Writes ``nutpie_model_cache_py3XX.md`` (the Python line) to ``--out`` and prints it.

    python -m benchmarks.nutpie_model_cache
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if not __package__:  # run as a file: python benchmarks/nutpie_model_cache.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, fresh_process_record, header, markdown_table

SCRIPT = """
import json, sys, time, warnings
import numpy as np
import nutpie.compile_pymc
from bnn_sklearn import BayesianMLPRegressor, _nuts, _nutpie_cache

if sys.argv[1] == "off":
    _nutpie_cache.cache_enabled = lambda: False
seconds = {"compiled_nutpie": [], "make_functions": []}

def timed(function, name):
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name].append(time.perf_counter() - start)
    return run

_nuts.CompiledNUTS._compiled_nutpie = timed(_nuts.CompiledNUTS._compiled_nutpie, "compiled_nutpie")
nutpie.compile_pymc._make_functions = timed(nutpie.compile_pymc._make_functions, "make_functions")
rng = np.random.default_rng(0)
X = rng.normal(size=(500, 8))
y = X[:, 0] + np.sin(X[:, 1]) + 0.1 * rng.normal(size=500)
warnings.simplefilter("ignore")  # short sampler runs may warn; the seconds are the point
model = BayesianMLPRegressor(random_state=0)
start = time.perf_counter()
model.fit(X, y)
fit = time.perf_counter() - start
samplers = list(_nuts.SAMPLERS._idle.values())
print(json.dumps({
    "fit": fit,
    "compiled_nutpie": seconds["compiled_nutpie"][0],
    "make_functions": sum(seconds["make_functions"]),
    "origin": samplers[0][0].nutpie_origin,
    "method": model.method_,
    "draws": float(model.posterior_draws_.sum()),
}))
"""
#: The settings: a label and the argument of their processes.
SETTINGS = {
    "model loaded from the cache": "on",
    "model compiled by nutpie (no cache)": "off",
}


def run(setting: str) -> dict:
    return fresh_process_record(SCRIPT, setting)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="processes per setting")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    args = parser.parse_args(argv)
    run("on")  # fill the caches
    runs = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name, setting in SETTINGS.items():
            runs[name].append(run(setting))
            print(name, runs[name][-1], flush=True)
    parts = ("compiled_nutpie", "make_functions", "fit")
    rows = []
    for name, done in runs.items():
        medians = [statistics.median(r[part] for r in done) for part in parts]
        origins = sorted({r["origin"] for r in done})
        draws = sorted({r["draws"] for r in done})
        rows.append([name, *(f"{m:.2f}" for m in medians), ", ".join(origins), len(draws)])
    all_draws = {r["draws"] for done in runs.values() for r in done}
    note = (
        f"median of {args.repeats} fresh processes per setting, taking turns; "
        "BayesianMLPRegressor(random_state=0) on 500 x 8 standard-normal rows (method "
        f"{runs[next(iter(SETTINGS))][0]['method']!r}); the draws of every run "
        + ("are the same" if len(all_draws) == 1 else "DIFFER")
    )
    columns = (
        "nutpie's model",
        "_compiled_nutpie s",
        "of it _make_functions s",
        "fit s",
        "made",
        "distinct draws",
    )
    text = header("nutpie_model_cache", argv, note) + "\n\n" + markdown_table(columns, rows)
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"nutpie_model_cache_{tag}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
