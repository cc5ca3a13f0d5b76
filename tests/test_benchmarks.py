"""The benchmark scripts run end to end (quick settings) and write their tables and figures."""

import csv
import importlib.util
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# The scripts fit several networks, some in fresh processes: on Python 3.11 the longest
# took 160 s with an empty compile cache, 156 s with a warm one on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run_script(name: str, monkeypatch, *args: str) -> None:
    """Run ``python -m benchmarks.NAME ARGS`` in this process."""
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setattr(sys, "argv", [f"benchmarks/{name}.py", *args])
    runpy.run_module(f"benchmarks.{name}", run_name="__main__", alter_sys=False)


def test_seed_script_quick_run_as_a_file(tmp_path):
    """The README's first command runs the script as a file, from the repository's root."""
    command = [sys.executable, "benchmarks/seed_moons.py", "--quick", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    table = (tmp_path / "seed_results.md").read_text()
    for name in ("full-batch ADVI", "minibatch ADVI", "RandomForest", "GradientBoosting"):
        assert name in table
    for figure in ("seed_proba.png", "seed_std.png", "seed_loss.png"):
        assert (tmp_path / figure).stat().st_size > 10_000
    assert "| model |" in done.stdout


def test_compare_script_quick_run(tmp_path, monkeypatch):
    run_script("compare_classifiers", monkeypatch, "--quick", "--out", str(tmp_path))
    rows = (tmp_path / "compare.csv").read_text().splitlines()
    assert rows[0] == "dataset,model,accuracy,log_loss,brier,ece,fit_s,predict_s"
    assert len(rows) == 1 + 2 * 7
    assert "| moons | BayesianMLP |" in (tmp_path / "compare.md").read_text()


def test_compare_regression_script_quick_run(tmp_path, monkeypatch):
    run_script("compare_regression", monkeypatch, "--quick", "--out", str(tmp_path))
    with open(tmp_path / "compare_regression.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    n_models = 8 + (importlib.util.find_spec("ngboost") is not None)
    assert len(rows) == n_models * 2  # two folds of the 1-D problem
    bnn = [row for row in rows if row["model"] == "BayesianMLP"]
    assert all(0 < float(row["coverage_90"]) <= 1 and float(row["crps"]) > 0 for row in bnn)
    assert (
        "| heteroscedastic_1d | GaussianProcess |"
        in (tmp_path / "compare_regression.md").read_text()
    )
    assert (tmp_path / "compare_regression_1d.png").stat().st_size > 10_000


def test_regressor_defaults_script_quick_run(tmp_path, monkeypatch):
    run_script("regressor_defaults", monkeypatch, "--quick", "--out", str(tmp_path))
    rows = (tmp_path / "regressor_defaults.md").read_text().splitlines()[4:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| (16, 16) relu, prior 2",
        "| (16, 16) relu, prior 1",
    ]
    assert sorted(row.split(" | ")[-2] for row in rows) == ["1.0", "2.0"]  # NLL ranks


def test_uncertainty_script_quick_run(tmp_path, monkeypatch):
    run_script("uncertainty", monkeypatch, "--quick", "--out", str(tmp_path))
    rejection = (tmp_path / "uncertainty_rejection.csv").read_text().splitlines()
    assert rejection[0].startswith("dataset,model,score,acc@0%")
    assert len(rejection) == 1 + 2 * 9  # moons and iris, nine (model, score) pairs
    with open(tmp_path / "uncertainty_ood.csv", newline="") as handle:
        ood = list(csv.DictReader(handle))
    assert len(ood) == 3 * 9  # three distance bands on moons
    assert all(0.0 <= float(row["auroc_mean"]) <= 1.0 for row in ood)
    table = (tmp_path / "uncertainty.md").read_text()
    assert "| moons | BayesianMLP | epistemic |" in table
    for figure in ("uncertainty_rejection.png", "uncertainty_ood_moons.png"):
        assert (tmp_path / figure).stat().st_size > 10_000


def test_scale_script_quick_run(tmp_path, monkeypatch):
    run_script("scale", monkeypatch, "--quick", "--out", str(tmp_path))
    lines = (tmp_path / "scale.md").read_text().splitlines()
    rows = [line for line in lines if line.startswith("| rows") or line.startswith("| features")]
    assert len(rows) == 3
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert int(cells[8]) > 50  # peak MiB of a process that imported PyMC
        assert float(cells[9]) > 0.8  # train accuracy after 200 iterations


def test_posterior_quality_script_quick_run(tmp_path, monkeypatch):
    run_script("posterior_quality", monkeypatch, "--quick", "--out", str(tmp_path))
    table = (tmp_path / "posterior_quality.md").read_text()
    # NUTS against itself differs by nothing; ADVI's surfaces differ from NUTS's.
    assert "| NUTS |" in table and "| 0.000 / 0.000 |" in table
    advi_row = next(line for line in table.splitlines() if line.startswith("| ADVI |"))
    assert "| 0.000 / 0.000 |" not in advi_row
    for name, score in [
        ("NUTS", "predict_std"),
        ("MILE", "predict_std"),
        ("ADVI", "epistemic"),
        ("random forest", "entropy"),
    ]:
        assert f"| {name} | {score} |" in table
    assert (tmp_path / "posterior_quality.png").stat().st_size > 10_000


def test_uci_script_quick_run_on_data_in_the_published_layout(tmp_path, monkeypatch):
    """A small set written in the UCI folders' layout, with a README table of figures."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "uci" / "yacht"
    folder.mkdir(parents=True)
    X = rng.normal(size=(60, 3))
    data = np.c_[X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=60)]
    np.savetxt(folder / "data.txt", data)
    np.savetxt(folder / "index_features.txt", [0, 1, 2], fmt="%d")
    np.savetxt(folder / "index_target.txt", [3], fmt="%d")
    for split in (0, 1):
        order = np.random.default_rng(split).permutation(60)
        np.savetxt(folder / f"index_train_{split}.txt", order[:50], fmt="%d")
        np.savetxt(folder / f"index_test_{split}.txt", order[50:], fmt="%d")
    (tmp_path / "uci" / "README.md").write_text(
        "| set | size | a | b | c |\n|---|---|---|---|---|\n"
        "| yacht | 308 x 6 | 0.67 / -1.25 | 1.58 / -1.18 | 0.50 / -0.20 |\n"
    )
    out = tmp_path / "out"
    args = ["--quick", "--data", str(tmp_path / "uci"), "--sets", "yacht", "--out", str(out)]
    run_script("uci", monkeypatch, *args, "--splits", "0", "1", "--methods", "advi")
    run_script("uci", monkeypatch, *args, "--splits", "1", "--methods", "advi")
    records = [json.loads(line) for line in (out / "uci.jsonl").open()]
    # The rerun of split 1 replaced its record.
    assert [(r["method"], r["split"]) for r in records] == [("advi", 0), ("advi", 1)]
    assert all(np.isfinite(r["ll"]) and r["rmse"] > 0 for r in records)
    table = (out / "uci.md").read_text()
    assert "| yacht | advi | 0,1 |" in table
    assert "| yacht | MC dropout (published) | 20 splits | -1.25 | 0.67 |" in table
    assert (out / "uci.png").stat().st_size > 10_000


def test_defaults_study_script_quick_run(tmp_path, monkeypatch):
    run_script("defaults_study", monkeypatch, "--quick", "--out", str(tmp_path))
    rows = [json.loads(line) for line in (tmp_path / "defaults_study_quick.jsonl").open()]
    # One candidate: 2 log-loss data sets x 1 fold, 1 + 1 + 2 OOD scenarios x 1 seed.
    assert len(rows) == 2 + 4
    assert {row["candidate"] for row in rows} == {"relu16x16_p2"}
    assert all(row["error"] is None and row["n_iter"] == 300 for row in rows)
    for row in rows:
        for key, value in row.items():
            if key.startswith("auroc|"):
                assert set(value) == {"std", "epistemic", "total"}
                assert all(0.0 <= auroc <= 1.0 for auroc in value.values())
    table = (tmp_path / "defaults_study_quick.md").read_text()
    assert "| relu16x16_p2 (default) | " in table
    assert "### BNN score: epistemic" in table
    # --summarise-only fits nothing and makes the same tables again.
    run_script("defaults_study", monkeypatch, "--quick", "--summarise-only", "--out", str(tmp_path))
    assert (tmp_path / "defaults_study_quick.md").read_text() == table
    assert len((tmp_path / "defaults_study_quick.jsonl").read_text().splitlines()) == 6


def test_defaults_study_tables_of_the_stored_results(tmp_path, monkeypatch):
    """The committed tables are what --summarise-only makes of the committed JSON lines."""
    (tmp_path / "defaults_study.jsonl").write_text((RESULTS / "defaults_study.jsonl").read_text())
    run_script("defaults_study", monkeypatch, "--summarise-only", "--out", str(tmp_path))
    table = (tmp_path / "defaults_study.md").read_text()
    assert table == (RESULTS / "defaults_study.md").read_text()
    # the user guide's row of the old default ("current" in the JSON lines) and of the new one
    assert "| relu32_p2 (old default) | 0.102 | 0.093 | 0.084 | 0.128 | 0.093 | 4 |" in table
    assert "| 0.805 | 0.791 | 0.980 | 0.822 | 1.2 |" in table


def test_float32_script_quick_run(tmp_path, monkeypatch):
    run_script("float32", monkeypatch, "--quick", "--out", str(tmp_path))
    rows = [line.split(" | ") for line in (tmp_path / "float32.md").read_text().splitlines()[4:]]
    assert [row[0] for row in rows] == ["| seed moons", "| moons", "| iris"]
    for row in rows:
        assert 0 < float(row[2]) < 1e-4  # single precision: close, not equal
        assert float(row[4]) > 0 and float(row[5]) > 0


def test_new_process_script_times_both_settings(tmp_path, monkeypatch):
    run_script("new_process", monkeypatch, "--repeats", "1", "--out", str(tmp_path))
    (table,) = tmp_path.glob("new_process_py3*.md")
    rows = [line.split(" | ") for line in table.read_text().splitlines()[4:]]
    c_engine = ["| C backend's engine loaded from the cache"] if sys.version_info < (3, 12) else []
    assert [row[0] for row in rows] == [
        "| engine loaded from the cache",
        "| engine built in the process",
        *c_engine,
        "| regressor's defaults (MILE), ADVI engine and NUTS model loaded from the cache",
    ]
    # A loaded engine needs no PyMC; MILE's NUTS model is built with it.
    assert [row[3] for row in rows] == ["no |", "yes |", *(["no |"] if c_engine else []), "yes |"]


def test_nutpie_model_cache_script_times_both_settings(tmp_path, monkeypatch):
    pytest.importorskip("nutpie")
    run_script("nutpie_model_cache", monkeypatch, "--repeats", "1", "--out", str(tmp_path))
    (table,) = tmp_path.glob("nutpie_model_cache_py3*.md")
    text = table.read_text()
    rows = [line.split(" | ") for line in text.splitlines()[4:]]
    assert [row[0] for row in rows] == [
        "| model loaded from the cache",
        "| model compiled by nutpie (no cache)",
    ]
    assert [row[4] for row in rows] == ["loaded", "nutpie"]
    # Loaded, PyTensor's rewrites do not run; both ways draw the same.
    assert float(rows[0][2]) == 0 < float(rows[1][2])
    assert "the draws of every run are the same" in text


def test_stream_memory_script_quick_run(tmp_path, monkeypatch):
    run_script("stream_memory", monkeypatch, "--quick", "--out", str(tmp_path))
    lines = (tmp_path / "stream_memory.md").read_text().splitlines()
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[4:]]
    settings = ["one chunk", "stream, loop"]
    if importlib.util.find_spec("dask_ml") is not None:
        settings += ["stream, Incremental", "stream, Incremental, synchronous"]
    assert [row[0] for row in rows] == [*settings, "stream in memory"]
    assert rows[0][1] == "2,000" and all(row[1] == "20,000" for row in rows[1:])
    assert rows[0][5] == "1.00"
    assert all(int(row[4]) > 50 for row in rows)  # peak MiB of a process that imported PyMC


def test_hierarchical_script_quick_run(tmp_path, monkeypatch):
    run_script("hierarchical", monkeypatch, "--quick", "--out", str(tmp_path))
    records = [json.loads(line) for line in open(tmp_path / "hierarchical_quick.jsonl")]
    assert [r["model"].split(",")[0] for r in records] == [
        "pooled (one network)",
        "separate (one network per group)",
        "hierarchical ADVI",
        "hierarchical ADVI",
        "hierarchical MILE",
        "hierarchical MILE",
        "hierarchical NUTS",
        "new group",
        "new group",
        "new group",
    ]
    assert all(0.3 < r["accuracy"] <= 1 for r in records)
    assert [len(r["spread"]) for r in records[2:7]] == [1, 3, 1, 3, 3]
    table = (tmp_path / "hierarchical_quick.md").read_text()
    assert '| hierarchical ADVI, group_layers="all" |' in table
    run_script(
        "hierarchical",
        monkeypatch,
        "--quick",
        "--out",
        str(tmp_path / "again"),
        "--from-records",
        str(tmp_path / "hierarchical_quick.jsonl"),
    )
    assert (tmp_path / "again" / "hierarchical_quick.md").read_text().split("\n", 1)[1] == (
        table.split("\n", 1)[1]
    )


def test_hierarchical_regression_quick_run(tmp_path, monkeypatch):
    run_script("hierarchical", monkeypatch, "--regression", "--quick", "--out", str(tmp_path))
    lines = (tmp_path / "hierarchical_regression_quick.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["model"].split(",")[0] for r in records] == [
        "pooled (one network)",
        "hierarchical ADVI",
        "hierarchical MILE",
        "separate (one network per group)",
    ]
    assert all(0 <= r["coverage_90"] <= 1 and r["rmse"] > 0 for r in records)
    assert "| model | test RMSE |" in (tmp_path / "hierarchical_regression_quick.md").read_text()


def test_seed_speed_script_quick_run(tmp_path, monkeypatch):
    run_script("seed_speed", monkeypatch, "--quick", "--out", str(tmp_path))
    line = f"py{sys.version_info[0]}{sys.version_info[1]}"
    table = (tmp_path / f"seed_speed_{line}.md").read_text()
    shipped = next(row for row in table.splitlines() if row.startswith("| engine as shipped |"))
    assert "| NumbaLinker |" in shipped  # on both lines
    fast_run = next(row for row in table.splitlines() if row.startswith("| PYTENSOR_FLAGS="))
    # PyTensor 2's FAST_RUN links C thunks; PyTensor 3's compiles with Numba.
    assert ("| NumbaLinker |" in fast_run) == (sys.version_info >= (3, 12))
    assert float(shipped.split("|")[4]) > 0  # the median fit's seconds
