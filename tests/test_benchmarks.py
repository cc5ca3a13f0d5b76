"""The seed reproduction runs end to end (quick settings) and writes its table and figures."""

import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "seed_moons.py"


def test_seed_script_quick_run(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--quick", "--out", str(tmp_path)])
    runpy.run_path(str(SCRIPT), run_name="__main__")
    table = (tmp_path / "seed_results.md").read_text()
    for name in ("full-batch ADVI", "minibatch ADVI", "RandomForest", "GradientBoosting"):
        assert name in table
    for figure in ("seed_proba.png", "seed_std.png", "seed_loss.png"):
        assert (tmp_path / figure).stat().st_size > 10_000
    assert "| model |" in capsys.readouterr().out


def test_compare_script_quick_run(tmp_path, monkeypatch):
    script = SCRIPT.parent / "compare.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--quick", "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    rows = (tmp_path / "compare.csv").read_text().splitlines()
    assert rows[0] == "dataset,model,accuracy,log_loss,brier,ece,fit_s,predict_s"
    assert len(rows) == 1 + 2 * 7
    assert "| moons | BayesianMLP |" in (tmp_path / "compare.md").read_text()
