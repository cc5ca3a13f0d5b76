"""The default fit of the seed on this Python line, by the engine's PyTensor backend.

Each row runs in a fresh process: the first fit of the process (the engine loaded from the
disk cache, or compiled if it is not there), then five more default fits of the seed
(``BayesianMLPClassifier(random_state=i)``), of which the median is reported with its
seconds per ADVI iteration. Rows: the engine as shipped (Numba on both lines; on
PyTensor 2, Python 3.11, for full-batch engines such as this one), and the engine under
``PYTENSOR_FLAGS=mode=FAST_RUN`` (PyTensor 2's C backend; on PyTensor 3 the same Numba
backend). The linker column names the backend the engine compiled with. Compare the two
lines' files for the ratio between them.

Writes ``seed_speed_py3XX.md`` to ``--out`` (default ``benchmarks/results``).

    python -m benchmarks.seed_speed
    python -m benchmarks.seed_speed --quick     # two fits per row
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytensor

if not __package__:  # run as a file: python benchmarks/seed_speed.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, ROOT, header, markdown_table

CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from benchmarks.datasets import seed_data
from bnn_sklearn import BayesianMLPClassifier
from pytensor.compile.mode import get_mode
from bnn_sklearn._inference import engine_mode
X, _, y, _ = seed_data()
start = time.perf_counter()
BayesianMLPClassifier(random_state=0).fit(X, y)
first = time.perf_counter() - start
seconds, iterations = [], []
for seed in range({n_fits}):
    start = time.perf_counter()
    model = BayesianMLPClassifier(random_state=seed).fit(X, y)
    seconds.append(time.perf_counter() - start)
    iterations.append(model.n_iter_)
print(json.dumps({{"first": first, "seconds": seconds, "iterations": iterations,
                  "linker": type(get_mode(engine_mode()).linker).__name__}}))
"""

#: The rows: a label and the PYTENSOR_FLAGS the child process runs with.
ROWS = {
    "engine as shipped": "",
    "PYTENSOR_FLAGS=mode=FAST_RUN": "mode=FAST_RUN",
}


def measure(flags: str, n_fits: int) -> dict:
    env = dict(os.environ)
    if flags:
        env["PYTENSOR_FLAGS"] = ",".join(filter(None, [env.get("PYTENSOR_FLAGS"), flags]))
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(n_fits=n_fits)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two fits per row")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n_fits = 2 if args.quick else 5
    rows = []
    for label, flags in ROWS.items():
        result = measure(flags, n_fits)
        order = sorted(range(n_fits), key=result["seconds"].__getitem__)
        median = order[n_fits // 2]
        seconds, iterations = result["seconds"][median], result["iterations"][median]
        rows.append(
            [
                label,
                result["linker"],
                f"{result['first']:.2f}",
                f"{seconds:.2f}",
                str(iterations),
                f"{1e6 * seconds / iterations:.0f}",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    line = f"py{sys.version_info[0]}{sys.version_info[1]}"
    text = "\n\n".join(
        [
            header(
                "seed_speed",
                argv,
                note=f"PyTensor {pytensor.__version__}, {os.cpu_count()} cores, load "
                f"{os.getloadavg()[0]:.1f}",
            ),
            markdown_table(
                [
                    "engine",
                    "linker",
                    "first fit in the process, s",
                    f"median of {n_fits} fits, s",
                    "iterations",
                    "us per iteration",
                ],
                rows,
            ),
        ]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"seed_speed_{line}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
