"""A training run on disk: `meta.json` (settings, scaler, scores), model weights and the dataset.

`kimera ml optimize`, the benchmark and `MLSignal.from_dir` read runs back through here, and refuse a
run written for a different feature set rather than silently feeding a model the wrong columns.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kimera.ml.compare import Comparison
from kimera.ml.dataset import Dataset
from kimera.ml.features import FEATURE_NAMES
from kimera.ml.labels import CLASS_NAMES
from kimera.ml.models import MLP

FORMAT = "kimera-ml-run/1"
META = "meta.json"
DATASET = "dataset.npz"
MODEL_FILES = {"logreg": "logreg.pt", "mlp": "mlp.pt", "lstm": "lstm.pt"}


class RunFormatError(ValueError):
    """A run directory that is missing files or was written for other features."""


def save_run(out_dir: Path, data: Dataset, comp: Comparison, settings: dict[str, Any]) -> dict[str, Any]:
    """Write weights, dataset and meta.json to `out_dir`; returns the meta written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, model in comp.models.items():
        torch.save(model.state_dict(), out_dir / MODEL_FILES[name])
    data.save(out_dir / DATASET)
    mlp = comp.models["mlp"]
    if not isinstance(mlp, MLP):
        raise TypeError("the comparison has no MLP to save")
    meta: dict[str, Any] = {
        "format": FORMAT,
        "features": list(FEATURE_NAMES),
        "classes": list(CLASS_NAMES),
        "horizon_ms": data.horizon_ns // 1_000_000,
        "band_bps": data.band_bps,
        "grid_ms": data.grid_ns // 1_000_000,
        "seq_len": data.seq_len,
        "series": data.series_names,
        "cuts_ns": list(data.cuts_ns),
        "rows": {k: len(p) for k, p in data.parts().items()},
        "class_balance": data.balance(),
        "scaler": {"mean": data.scaler.mean.tolist(), "std": data.scaler.std.tolist()},
        "majority_class": comp.majority,
        "models": {
            name: {"file": MODEL_FILES[name], "params": comp.params[name], "best_epoch": comp.results[name].best_epoch}
            for name in comp.models
        },
        "mlp_hidden": list(mlp.hidden),
        "scores": {m: {s: asdict(sc) for s, sc in per.items()} for m, per in comp.scores.items()},
        "verdict": comp.verdict(),
        "history": {name: r.history for name, r in comp.results.items()},
        **settings,
    }
    (out_dir / META).write_text(json.dumps(meta, indent=1))
    return meta


def load_meta(run_dir: Path) -> dict[str, Any]:
    """meta.json of a run, checked for format and feature list."""
    path = Path(run_dir) / META
    if not path.exists():
        raise RunFormatError(f"{run_dir} is not a training run (no {META}); run `kimera ml train --out {run_dir}` first")
    meta: dict[str, Any] = json.loads(path.read_text())
    if meta.get("format") != FORMAT:
        raise RunFormatError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    if tuple(meta.get("features", ())) != FEATURE_NAMES:
        raise RunFormatError(f"{path}: written for other features; retrain with this version")
    return meta


def load_mlp(run_dir: Path) -> MLP:
    """The trained fp32 MLP of a run, in eval mode."""
    meta = load_meta(run_dir)
    model = MLP(len(FEATURE_NAMES), meta["mlp_hidden"])
    model.load_state_dict(torch.load(Path(run_dir) / MODEL_FILES["mlp"], weights_only=True))
    return model.eval()


def load_dataset(run_dir: Path) -> Dataset:
    """The flat parts (train/val/test) the run was trained and scored on."""
    load_meta(run_dir)
    path = Path(run_dir) / DATASET
    if not path.exists():
        raise RunFormatError(f"{run_dir}: {DATASET} missing")
    return Dataset.load(path)


def scaler_arrays(meta: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The training mean and std recorded in a run's meta."""
    return np.asarray(meta["scaler"]["mean"], np.float64), np.asarray(meta["scaler"]["std"], np.float64)
