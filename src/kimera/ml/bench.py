"""`kimera bench --only ml`: the best optimised MLP variant against the fp32 torch model, in one run.

Uses the training run in runs/ml when it is present and valid (else trains one there without the
LSTM, about a minute), then runs the whole optimisation pipeline into a temporary directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from kimera.bench.registry import BenchResult, benchmark
from kimera.ml.artifacts import RunFormatError, load_dataset, load_meta, load_mlp
from kimera.ml.optimize import (
    GOAL_MAX_ACC_LOSS,
    GOAL_MIN_AGREEMENT,
    GOAL_SMALLER,
    GOAL_SPEEDUP,
    OptimizeConfig,
    run_pipeline,
)
from kimera.ml.workflow import train_run

RUN_DIR = Path("runs/ml")


def _run() -> tuple[dict[str, Any], str]:
    try:
        meta = load_meta(RUN_DIR)
        load_dataset(RUN_DIR)
        return meta, f"cached run {RUN_DIR}"
    except (RunFormatError, FileNotFoundError, KeyError, ValueError):
        return train_run(RUN_DIR, lstm=False), f"fresh run {RUN_DIR}"


@benchmark("ml")
def bench_ml() -> list[BenchResult]:
    """Batch-1 latency, size, accuracy and agreement of the best variant vs fp32 torch eager."""
    meta, source = _run()
    data = load_dataset(RUN_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        rep = run_pipeline(load_mlp(RUN_DIR), data, Path(tmp), OptimizeConfig(seed=int(meta["seed"])))
    base, best = rep.stages[0], rep.stage(rep.best)
    g = rep.goals
    extra = {"source": source, "best": rep.best, "stages": [s.__dict__ for s in rep.stages]}
    fp32 = "fp32 MLP, torch eager"
    sc = meta["scores"]
    return [
        BenchResult("ml", f"batch-1 latency, {best.name}", best.latency_b1_us, "us", fp32, base.latency_b1_us,
                    f">= {GOAL_SPEEDUP:.0f}x faster", bool(g["speedup_b1_met"]), extra),
        BenchResult("ml", f"batch-256 latency, {best.name}", best.latency_b256_us, "us", fp32, base.latency_b256_us),
        BenchResult("ml", f"serialised size, {best.name}", best.size_bytes, "bytes", fp32, base.size_bytes,
                    f">= {GOAL_SMALLER:.0%} smaller", bool(g["smaller_met"])),
        BenchResult("ml", f"test accuracy, {best.name}", best.accuracy * 100, "%", fp32, base.accuracy * 100,
                    f"<= {GOAL_MAX_ACC_LOSS * 100:.0f} point loss", bool(g["accuracy_loss_met"])),
        BenchResult("ml", f"agreement with fp32, {best.name}", best.agreement * 100, "%", None, None,
                    f">= {GOAL_MIN_AGREEMENT:.0%}", bool(g["agreement_met"])),
        BenchResult("ml", "test accuracy, MLP vs logistic regression", sc["mlp"]["test"]["accuracy"] * 100, "%",
                    "logistic regression", sc["logreg"]["test"]["accuracy"] * 100),
        BenchResult("ml", "test accuracy, MLP vs majority class", sc["mlp"]["test"]["accuracy"] * 100, "%",
                    "majority class", sc["majority"]["test"]["accuracy"] * 100),
    ]
