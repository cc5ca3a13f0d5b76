"""Peak memory of streaming a dask array ten times one chunk's size through partial_fit.

The data are a dask array generated lazily, block by block (20 standard normal features,
labels from a noisy linear rule), so no more than a block or two exists at a time. Every
setting runs in a fresh process, and its peak resident memory (from the OS,
``resource.getrusage``) is its own: Python, PyMC, the compiled engine, the data and the fit.

- one chunk: ``partial_fit`` on the first block alone, the reference;
- the stream, a loop: ``partial_fit`` on each of the ten blocks in turn, each computed
  just before its call;
- the stream, dask-ml's ``Incremental`` (if dask-ml is installed), the same calls, under
  dask's default scheduler for arrays (threads) and under the synchronous one;
- the stream in memory: the ten blocks computed into one NumPy array and passed to one
  ``partial_fit`` call (the same number of ADVI iterations), for contrast.

Every setting passes ``total_size`` = the stream's rows, and the defaults otherwise.

    python -m benchmarks.stream_memory            # the real run (about a minute on 2 cores)
    python -m benchmarks.stream_memory --quick    # a smoke run: small chunks
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

if not __package__:  # run as a file: python benchmarks/stream_memory.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, ROOT, header, markdown_table

N_FEATURES = 20
N_CHUNKS = 10
SETTINGS = (
    "one chunk",
    "stream, loop",
    "stream, Incremental",
    "stream, Incremental, synchronous",
    "stream in memory",
)


def stream(chunk_rows: int, n_chunks: int):
    """``(X, y)``: lazy dask arrays of ``n_chunks`` blocks of ``chunk_rows`` rows each."""
    import dask.array as da

    rng = da.random.default_rng(0)
    X = rng.standard_normal((chunk_rows * n_chunks, N_FEATURES), chunks=(chunk_rows, -1))
    noise = rng.standard_normal(X.shape[0], chunks=chunk_rows)
    y = (X[:, 0] - X[:, 1] + 0.5 * X[:, 2] + 0.5 * noise > 0).astype("int64")
    return X, y


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(setting: str, chunk_rows: int) -> dict:
    """Run one setting in this process; return its peak memory and what it fitted."""
    import dask
    import pymc  # noqa: F401  (imported by the first fit anyway: the baseline includes it)

    from bnn_sklearn import BayesianMLPClassifier

    X, y = stream(chunk_rows, N_CHUNKS)
    kwargs = {"classes": [0, 1], "total_size": X.shape[0]}
    model = BayesianMLPClassifier(random_state=0)
    imported_mib = peak_mib()
    start = time.perf_counter()
    if setting == "one chunk":
        model.partial_fit(*dask.compute(X.blocks[0], y.blocks[0]), **kwargs)
    elif setting == "stream, loop":
        for X_block, y_block in zip(X.blocks, y.blocks):
            model.partial_fit(*dask.compute(X_block, y_block), **kwargs)
    elif setting.startswith("stream, Incremental"):
        from dask_ml.wrappers import Incremental

        scheduler = "synchronous" if setting.endswith("synchronous") else "threads"
        with dask.config.set(scheduler=scheduler):
            model = Incremental(model, shuffle_blocks=False).fit(X, y, **kwargs).estimator_
    elif setting == "stream in memory":
        model.partial_fit(*dask.compute(X, y), **kwargs)
    else:
        raise ValueError(f"unknown setting {setting!r}")
    seconds = time.perf_counter() - start
    X_check, y_check = dask.compute(X.blocks[-1], y.blocks[-1])
    return {
        "setting": setting,
        "rows": model.n_samples_seen_,
        "n_iter": model.n_iter_,
        "seconds": round(seconds, 1),
        "imported_mib": round(imported_mib),
        "peak_mib": round(peak_mib()),
        "accuracy_last_block": round(float(model.score(X_check, y_check)), 3),
    }


def in_fresh_process(setting: str, chunk_rows: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.stream_memory", "--one", setting],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=str(chunk_rows),
    )
    if done.returncode != 0:
        raise RuntimeError(f"setting {setting!r} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(rows: list[dict], chunk_rows: int, argv) -> str:
    chunk_mib = chunk_rows * N_FEATURES * 8 / 2**20
    reference = next(row for row in rows if row["setting"] == "one chunk")
    table = markdown_table(
        [
            "setting",
            "rows fitted",
            "ADVI iterations",
            "seconds",
            "peak MiB",
            "peak / one chunk's",
            "peak above the imports (PyMC, dask), MiB",
            "accuracy, last block",
        ],
        [
            [
                row["setting"],
                f"{row['rows']:,}",
                row["n_iter"],
                row["seconds"],
                row["peak_mib"],
                f"{row['peak_mib'] / reference['peak_mib']:.2f}",
                row["peak_mib"] - row["imported_mib"],
                row["accuracy_last_block"],
            ]
            for row in rows
        ],
    )
    note = (
        f"chunks of {chunk_rows:,} rows x {N_FEATURES} features ({chunk_mib:.1f} MiB of float64), "
        f"a stream of {N_CHUNKS} chunks; one fresh process per line, the defaults, "
        "`total_size` = the stream's rows."
    )
    return f"{header('stream_memory', argv, note)}\n\n{table}\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small chunks")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the table")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # one setting; chunk rows on stdin
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, int(sys.stdin.read()))))
        return
    chunk_rows = 2_000 if args.quick else 100_000
    settings = [
        setting
        for setting in SETTINGS
        if "Incremental" not in setting or importlib.util.find_spec("dask_ml") is not None
    ]
    rows = []
    for setting in settings:
        rows.append(in_fresh_process(setting, chunk_rows))
        print(rows[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(rows, chunk_rows, sys.argv[1:] if argv is None else argv)
    (args.out / "stream_memory.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
