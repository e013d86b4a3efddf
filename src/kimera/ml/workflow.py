"""The end-to-end steps behind `kimera ml train` / `optimize` and the benchmark, in one place."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from kimera.ml.artifacts import load_dataset, load_meta, load_mlp, save_run
from kimera.ml.compare import train_all
from kimera.ml.dataset import build_dataset
from kimera.ml.optimize import OptimizeConfig, OptimizeReport, run_pipeline
from kimera.ml.report import optimize_report, train_report
from kimera.ml.sampling import DEFAULT_GRID_MS, default_captures, sample_capture

DEFAULT_HORIZON_MS = 500
DEFAULT_BAND_BPS = 0.0


def train_run(
    out_dir: Path,
    captures: Sequence[Sequence[str | Path]] | None = None,
    horizon_ms: int = DEFAULT_HORIZON_MS,
    band_bps: float = DEFAULT_BAND_BPS,
    grid_ms: int = DEFAULT_GRID_MS,
    seed: int = 0,
    epochs: int | None = None,
    lstm: bool = True,
) -> dict[str, Any]:
    """Sample every capture, build the split, train all models, save the run and its report; returns meta."""
    torch.set_num_threads(1)
    caps = [list(c) for c in (captures or default_captures())]
    t0 = time.perf_counter()
    series = [sample_capture(c, grid_ms) for c in caps]
    data = build_dataset(series, horizon_ms, band_bps)
    t1 = time.perf_counter()
    comp = train_all(data, seed=seed, epochs=epochs, lstm=lstm)
    t2 = time.perf_counter()
    settings = {
        "seed": seed,
        "epochs_cap": epochs,
        "data": [[str(p) for p in c] for c in caps],
        "seconds": {"features": t1 - t0, "training": t2 - t1},
    }
    meta = save_run(out_dir, data, comp, settings)
    train_report(meta, out_dir)
    return meta


def optimize_run(model_dir: Path, out_dir: Path | None = None, cfg: OptimizeConfig | None = None) -> OptimizeReport:
    """Run the optimisation pipeline on a saved run's MLP and test split; write artifacts and the report."""
    torch.set_num_threads(1)
    out = out_dir or model_dir
    meta = load_meta(model_dir)
    rep = run_pipeline(load_mlp(model_dir), load_dataset(model_dir), out, cfg or OptimizeConfig(seed=int(meta["seed"])))
    (out / "optimize.json").write_text(json.dumps(rep.as_dict(), indent=1))
    note = (
        f"Model: MLP {tuple(meta['mlp_hidden'])} from `{model_dir}` (horizon {meta['horizon_ms']} ms, "
        f"band {meta['band_bps']} bps); test rows: {meta['rows']['test']}."
    )
    optimize_report(rep, out, note)
    return rep
