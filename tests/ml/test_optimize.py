"""The optimisation pipeline on the real model and test split: every stage measured, loss reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kimera.ml.compare import Comparison
from kimera.ml.dataset import Dataset
from kimera.ml.models import MLP
from kimera.ml.onnx_export import OnnxPredictor, TorchPredictor
from kimera.ml.optimize import (
    GOAL_MIN_AGREEMENT,
    OptimizeConfig,
    OptimizeReport,
    StageResult,
    run_pipeline,
    summarise,
)
from kimera.ml.report import optimize_report
from kimera.ml.training import predict_logits


@pytest.fixture(scope="module")
def pipeline(comparison: Comparison, dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[OptimizeReport, Path]:
    out = tmp_path_factory.mktemp("opt")
    mlp = comparison.models["mlp"]
    assert isinstance(mlp, MLP)
    return run_pipeline(mlp, dataset, out, OptimizeConfig(runs_b1=100, runs_b256=10)), out


def test_every_stage_is_measured_against_fp32(pipeline: tuple[OptimizeReport, Path], comparison: Comparison) -> None:
    rep, out = pipeline
    names = [s.name for s in rep.stages]
    assert names[0] == "fp32"
    for expected in ("pruned 50% + KD fine-tune", "int8 dynamic", "ONNX fp32", "ONNX int8", "pruned ONNX int8",
                     "student (32, 32) (KD)", "student (32, 32) (no teacher)"):
        assert expected in names
    base = rep.stages[0]
    assert base.agreement == 1.0
    assert base.accuracy == pytest.approx(comparison.test("mlp").accuracy)
    for s in rep.stages:
        assert s.size_bytes > 0 and s.latency_b1_us > 0 and s.latency_b256_us > 0, s.name
        assert 0 <= s.agreement <= 1 and 0 <= s.accuracy <= 1, s.name
        assert (out / s.artifact).exists(), s.artifact


def test_optimised_variants_agree_with_fp32_or_are_reported(pipeline: tuple[OptimizeReport, Path]) -> None:
    rep, out = pipeline
    low = {s.name for s in rep.stages if s.agreement < GOAL_MIN_AGREEMENT}
    assert low == set(rep.goals["below_agreement_goal"])
    for name in ("ONNX fp32", "ONNX int8", "int8 dynamic", "pruned 50% + KD fine-tune", "pruned ONNX fp32"):
        assert rep.stage(name).agreement >= GOAL_MIN_AGREEMENT, name
    text = optimize_report(rep, out).read_text()
    for name in low:
        assert name in text.split("Variants below 99% agreement")[1]


def test_onnx_fp32_matches_torch_logits(pipeline: tuple[OptimizeReport, Path], comparison: Comparison, dataset: Dataset) -> None:
    _, out = pipeline
    X = dataset.test.X
    torch_logits = predict_logits(comparison.models["mlp"], X)
    onnx = OnnxPredictor(out / "mlp_fp32.onnx")
    np.testing.assert_allclose(onnx(X), torch_logits, rtol=1e-4, atol=1e-5)
    # the single-row fast path (IOBinding) gives the same logits as the batched path
    rows = np.concatenate([onnx(X[i : i + 1]) for i in range(50)])
    np.testing.assert_allclose(rows, onnx(X[:50]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(TorchPredictor(comparison.models["mlp"])(X[:5]), torch_logits[:5], rtol=1e-6)


def test_pruning_and_int8_shrink_the_artifacts(pipeline: tuple[OptimizeReport, Path]) -> None:
    rep, _ = pipeline
    size = {s.name: s.size_bytes for s in rep.stages}
    assert size["pruned ONNX fp32"] < 0.32 * size["ONNX fp32"]
    assert size["ONNX int8"] < 0.35 * size["ONNX fp32"]
    assert size["pruned ONNX int8"] < size["pruned ONNX fp32"]
    assert rep.stage(rep.best).size_bytes <= 0.3 * rep.stages[0].size_bytes  # the chosen variant meets the size goal


def _stage(name: str, acc: float, size: int, lat: float, agree: float) -> StageResult:
    return StageResult(name, "x", acc, acc, size, lat, lat, agree)


def test_best_variant_prefers_those_meeting_the_goals() -> None:
    stages = [
        _stage("fp32", 0.60, 1000, 30.0, 1.0),
        _stage("fast but disagrees", 0.60, 100, 1.0, 0.90),
        _stage("fast but inaccurate", 0.55, 100, 2.0, 0.995),
        _stage("meets all", 0.595, 250, 9.0, 0.995),
        _stage("big", 0.60, 900, 5.0, 1.0),
    ]
    rep = summarise(stages)
    assert rep.best == "meets all"
    assert rep.goals["speedup_b1"] == pytest.approx(30 / 9)
    assert rep.goals["smaller_met"] and rep.goals["accuracy_loss_met"] and rep.goals["agreement_met"]
    assert set(rep.goals["below_agreement_goal"]) == {"fast but disagrees"}
    # nothing meets the size goal: the fastest accurate, agreeing variant is chosen, and the miss is reported
    rep2 = summarise([*stages[:3], stages[4]])
    assert rep2.best == "big" and not rep2.goals["smaller_met"]
    with pytest.raises(ValueError):
        summarise(stages[:1])
