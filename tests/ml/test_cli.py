"""`kimera ml train` / `optimize` end to end on a small capture, and `MLSignal.from_dir` on the result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kimera.cli import app
from kimera.ml.artifacts import RunFormatError, load_dataset
from kimera.ml.signal import MLSignal
from tests.conftest import data_path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mlrun")
    spot = data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz")
    runner = CliRunner()
    res = runner.invoke(app, ["ml", "train", "--data", str(spot), "--out", str(out), "--epochs", "3", "--seed", "5"])
    assert res.exit_code == 0, res.output
    assert "test accuracy" in res.output
    res = runner.invoke(app, ["ml", "optimize", "--model", str(out), "--runs", "50"])
    assert res.exit_code == 0, res.output
    assert "best:" in res.output
    return out


def test_train_writes_report_models_and_meta(run_dir: Path) -> None:
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["seed"] == 5 and meta["horizon_ms"] == 500 and len(meta["series"]) == 1
    for f in ("mlp.pt", "logreg.pt", "lstm.pt", "dataset.npz", "train_report.md", "train_curves.png"):
        assert (run_dir / f).stat().st_size > 0, f
    report = (run_dir / "train_report.md").read_text()
    assert "Class balance" in report and "**Verdict:**" in report
    for model in ("majority", "logreg", "mlp", "lstm"):
        acc = meta["scores"][model]["test"]["accuracy"]
        assert f"{acc:.4f}" in report


def test_optimize_writes_report_and_artifacts(run_dir: Path) -> None:
    data = json.loads((run_dir / "optimize.json").read_text())
    assert data["stages"][0]["name"] == "fp32" and data["best"] in {s["name"] for s in data["stages"]}
    for f in ("optimize_report.md", "optimize.png", "mlp_fp32.onnx", "mlp_int8.onnx", "mlp_pruned.onnx", "student_kd.onnx"):
        assert (run_dir / f).stat().st_size > 0, f
    assert "Best optimised variant" in (run_dir / "optimize_report.md").read_text()


def test_signal_loads_from_the_run_and_matches_torch(run_dir: Path) -> None:
    onnx = MLSignal.from_dir(run_dir)  # the pruned ONNX model
    fp32 = MLSignal.from_dir(run_dir, "mlp.pt")
    assert onnx.horizon_ms == 500
    X = load_dataset(run_dir).test.X
    agree = np.mean(onnx.logits(X).argmax(1) == fp32.logits(X).argmax(1))
    assert agree >= 0.98
    single = np.concatenate([onnx.logits(X[i : i + 1]) for i in range(20)])  # the live, one-row path
    np.testing.assert_allclose(single, onnx.logits(X[:20]), rtol=1e-5, atol=1e-6)


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["ml", "optimize", "--model", str(tmp_path)])
    assert res.exit_code != 0 and "kimera ml train" in res.output
    res = runner.invoke(app, ["ml", "train", "--data", str(tmp_path / "missing.gz"), "--out", str(tmp_path)])
    assert res.exit_code != 0 and "not found" in res.output
    with pytest.raises(RunFormatError):
        MLSignal.from_dir(tmp_path)
