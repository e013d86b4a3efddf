"""The optimisation pipeline: every variant of the fp32 MLP measured against it in one run.

Stages: structured pruning (masked, then physically removed, then fine-tuned by distillation from the
fp32 model), torch dynamic int8, ONNX Runtime fp32 and int8 (of the fp32 and the pruned model), and a
smaller student trained by knowledge distillation (with the same student trained without a teacher,
to show whether distillation helped). Each row: test accuracy and macro-F1, serialised bytes,
batch-1 and batch-256 median latency on one thread, and agreement with the fp32 predictions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from kimera.ml.dataset import Dataset
from kimera.ml.measure import interleaved_latency_s, torch_size_bytes
from kimera.ml.metrics import accuracy, agreement, macro_f1
from kimera.ml.models import MLP, n_params
from kimera.ml.onnx_export import OnnxPredictor, export_onnx, quantize_onnx
from kimera.ml.prune import prune_mlp
from kimera.ml.training import TrainConfig, fit, predict_logits

# Fine-tuning the pruned model matches the fp32 teacher only (alpha 1, T 1): agreement is the aim.
FINETUNE_CONFIG = TrainConfig(epochs=30, lr=1e-3, weight_decay=0.0, patience=6, alpha=1.0, temperature=1.0)
STUDENT_CONFIG = TrainConfig(epochs=60, lr=1e-3, weight_decay=1e-4, patience=8, alpha=0.7)


@dataclass(frozen=True)
class OptimizeConfig:
    """What to build and how long to measure."""

    prune_amount: float = 0.5
    student_hidden: tuple[int, ...] = (32, 32)
    finetune: TrainConfig = field(default_factory=lambda: FINETUNE_CONFIG)
    student: TrainConfig = field(default_factory=lambda: STUDENT_CONFIG)
    runs_b1: int = 3000
    runs_b256: int = 300
    seed: int = 0


@dataclass
class StageResult:
    """One variant's measurements on the test split."""

    name: str
    runtime: str
    accuracy: float
    macro_f1: float
    size_bytes: int
    latency_b1_us: float
    latency_b256_us: float
    agreement: float
    params: int | None = None
    artifact: str = ""


@dataclass
class OptimizeReport:
    """All stages (the fp32 baseline first), the best variant and whether the goals were met."""

    stages: list[StageResult]
    best: str
    goals: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {"stages": [asdict(s) for s in self.stages], "best": self.best, "goals": self.goals}

    def stage(self, name: str) -> StageResult:
        """The stage called `name`."""
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no stage {name!r}; stages: {[s.name for s in self.stages]}")


GOAL_SPEEDUP = 3.0
GOAL_SMALLER = 0.70
GOAL_MAX_ACC_LOSS = 0.01
GOAL_MIN_AGREEMENT = 0.99


def quantize_torch(model: nn.Module) -> nn.Module:
    """torch.ao.quantization.quantize_dynamic of every Linear to int8 (weights int8, activations
    quantised on the fly); torch 2.13 warns that this API is deprecated in favour of torchao."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(model.eval(), {nn.Linear}, dtype=torch.qint8)


@dataclass
class _Variant:
    name: str
    runtime: str
    predict: Callable[[np.ndarray], np.ndarray]  # logits for float32 rows
    size_bytes: int
    params: int | None
    artifact: str
    timed: Callable[[np.ndarray], object] | None = None  # the call timed (default: predict)


def _torch_variant(name: str, model: nn.Module, out_dir: Path, artifact: str, params: int | None) -> _Variant:
    model.eval()
    torch.save(model.state_dict(), out_dir / artifact)

    def timed(x: np.ndarray) -> object:  # eager forward on a ready tensor: the baseline's best case
        return model(torch.from_numpy(x))

    return _Variant(name, "torch eager", lambda x: predict_logits(model, x), torch_size_bytes(model), params,
                    artifact, timed)


def _onnx_variant(name: str, path: Path, params: int | None) -> _Variant:
    pred = OnnxPredictor(path)
    return _Variant(name, "onnxruntime", pred, path.stat().st_size, params, path.name)


def build_variants(fp32: MLP, data: Dataset, out_dir: Path, cfg: OptimizeConfig) -> list[_Variant]:
    """Every optimised variant of `fp32` (the fp32 model first), saved to `out_dir`."""
    n_features = data.train.X.shape[1]
    teacher = {"teacher_train": predict_logits(fp32, data.train.X), "teacher_val": predict_logits(fp32, data.val.X)}

    def train(make: Callable[[], nn.Module], tc: TrainConfig, distil: bool) -> nn.Module:
        kw: dict[str, Any] = teacher if distil else {}
        return fit(make, data.train.X, data.train.y, data.val.X, data.val.y, replace(tc, seed=cfg.seed), **kw).model

    out: list[_Variant] = [_torch_variant("fp32", fp32, out_dir, "mlp_fp32.pt", n_params(fp32))]
    pct = f"{cfg.prune_amount:.0%}"
    pruned_raw = prune_mlp(fp32, cfg.prune_amount)
    out.append(_torch_variant(f"pruned {pct} (no fine-tune)", pruned_raw, out_dir, "mlp_pruned_raw.pt", n_params(pruned_raw)))

    def from_pruned() -> nn.Module:
        m = MLP(n_features, pruned_raw.hidden)
        m.load_state_dict(pruned_raw.state_dict())
        return m

    pruned = train(from_pruned, cfg.finetune, distil=True)
    out.append(_torch_variant(f"pruned {pct} + KD fine-tune", pruned, out_dir, "mlp_pruned.pt", n_params(pruned)))
    out.append(_torch_variant("int8 dynamic", quantize_torch(fp32), out_dir, "mlp_int8_dynamic.pt", n_params(fp32)))
    out.append(_torch_variant("pruned + int8 dynamic", quantize_torch(pruned), out_dir, "mlp_pruned_int8_dynamic.pt",
                              n_params(pruned)))
    onnx_fp32 = export_onnx(fp32, out_dir / "mlp_fp32.onnx", n_features)
    out.append(_onnx_variant("ONNX fp32", onnx_fp32, n_params(fp32)))
    out.append(_onnx_variant("ONNX int8", quantize_onnx(onnx_fp32, out_dir / "mlp_int8.onnx"), n_params(fp32)))
    onnx_pruned = export_onnx(pruned, out_dir / "mlp_pruned.onnx", n_features)
    out.append(_onnx_variant("pruned ONNX fp32", onnx_pruned, n_params(pruned)))
    out.append(_onnx_variant("pruned ONNX int8", quantize_onnx(onnx_pruned, out_dir / "mlp_pruned_int8.onnx"),
                             n_params(pruned)))
    hidden = cfg.student_hidden
    plain = train(lambda: MLP(n_features, hidden), cfg.student, distil=False)
    out.append(_torch_variant(f"student {hidden} (no teacher)", plain, out_dir, "student_plain.pt", n_params(plain)))
    student = train(lambda: MLP(n_features, hidden), cfg.student, distil=True)
    out.append(_torch_variant(f"student {hidden} (KD)", student, out_dir, "student_kd.pt", n_params(student)))
    onnx_student = export_onnx(student, out_dir / "student_kd.onnx", n_features)
    out.append(_onnx_variant("student (KD) ONNX fp32", onnx_student, n_params(student)))
    out.append(_onnx_variant("student (KD) ONNX int8", quantize_onnx(onnx_student, out_dir / "student_kd_int8.onnx"),
                             n_params(student)))
    return out


def run_pipeline(fp32: MLP, data: Dataset, out_dir: Path, cfg: OptimizeConfig | None = None) -> OptimizeReport:
    """Build, save and measure every variant of `fp32` on `data.test`; artifacts go to `out_dir`.

    Latency: batch 1 and batch 256 test rows, one thread, the lowest of 5 interleaved medians.
    """
    cfg = cfg or OptimizeConfig()
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    variants = build_variants(fp32.eval(), data, out_dir, cfg)
    X, y = data.test.X, data.test.y
    x1 = np.ascontiguousarray(X[:1])
    x256 = np.ascontiguousarray(np.resize(X, (256, X.shape[1])).astype(np.float32))
    preds = [v.predict(X).argmax(1) for v in variants]
    with torch.inference_mode():
        lat1 = interleaved_latency_s({v.name: partial(v.timed or v.predict, x1) for v in variants}, cfg.runs_b1)
        lat256 = interleaved_latency_s({v.name: partial(v.timed or v.predict, x256) for v in variants}, cfg.runs_b256)
    stages = [
        StageResult(
            v.name, v.runtime, accuracy(y, p), macro_f1(y, p), v.size_bytes, lat1[v.name] * 1e6,
            lat256[v.name] * 1e6, agreement(preds[0], p), v.params, v.artifact,
        )
        for v, p in zip(variants, preds, strict=True)
    ]
    return summarise(stages)


def summarise(stages: list[StageResult]) -> OptimizeReport:
    """Pick the best optimised variant and check the goals against the fp32 row (the first).

    Best = the fastest at batch 1 among the variants that meet every goal but speed (accuracy loss,
    size, agreement); failing that, among those within the accuracy and agreement goals; then the
    accuracy goal alone; then all of them. The goals are then checked on that variant.
    """
    base, rest = stages[0], stages[1:]
    if not rest:
        raise ValueError("no optimised variant to compare with the fp32 model")

    def ok_acc(s: StageResult) -> bool:
        return base.accuracy - s.accuracy <= GOAL_MAX_ACC_LOSS + 1e-12

    def ok_size(s: StageResult) -> bool:
        return 1 - s.size_bytes / base.size_bytes >= GOAL_SMALLER

    def ok_agree(s: StageResult) -> bool:
        return s.agreement >= GOAL_MIN_AGREEMENT

    pool = (
        [s for s in rest if ok_acc(s) and ok_size(s) and ok_agree(s)]
        or [s for s in rest if ok_acc(s) and ok_agree(s)]
        or [s for s in rest if ok_acc(s)]
        or rest
    )
    best = min(pool, key=lambda s: s.latency_b1_us)
    speedup = base.latency_b1_us / best.latency_b1_us
    smaller = 1 - best.size_bytes / base.size_bytes
    loss = base.accuracy - best.accuracy
    goals = {
        "speedup_b1": speedup,
        "speedup_b1_met": speedup >= GOAL_SPEEDUP,
        "smaller": smaller,
        "smaller_met": ok_size(best),
        "accuracy_loss": loss,
        "accuracy_loss_met": ok_acc(best),
        "agreement": best.agreement,
        "agreement_met": ok_agree(best),
        "below_agreement_goal": [s.name for s in rest if not ok_agree(s)],
    }
    return OptimizeReport(stages, best.name, goals)
