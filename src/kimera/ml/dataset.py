"""Assemble sampled series into labelled, standardised train / validation / test parts.

Every part holds the same rows for every model: the flat feature vector at t (for the MLP and the
logistic regression) and the window of the last `seq_len` grid rows ending at t (for the LSTM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kimera.ml.features import FEATURE_NAMES, MS
from kimera.ml.labels import class_balance, direction_labels
from kimera.ml.sampling import Series
from kimera.ml.split import Standardizer, chronological_split


@dataclass
class Part:
    """Rows of one split: standardised features, sequence windows, labels, times and series ids."""

    X: np.ndarray  # float32 (n, F)
    y: np.ndarray  # int64 (n,)
    t_ns: np.ndarray  # int64 (n,)
    series: np.ndarray  # int64 (n,)
    seq: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.float32))  # float32 (n, L, F)

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    """The three parts plus everything needed to rebuild them and to describe them honestly."""

    train: Part
    val: Part
    test: Part
    scaler: Standardizer
    horizon_ns: int
    band_bps: float
    seq_len: int
    grid_ns: int
    series_names: list[str]
    cuts_ns: tuple[int, int]
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def parts(self) -> dict[str, Part]:
        """The parts by name, in time order."""
        return {"train": self.train, "val": self.val, "test": self.test}

    def balance(self) -> dict[str, dict[str, float]]:
        """Class shares per part."""
        return {k: class_balance(p.y) for k, p in self.parts().items()}

    def save(self, path: Path) -> None:
        """Write the flat parts and the scaler to one .npz (sequence windows are not stored)."""
        arrays: dict[str, np.ndarray] = {"mean": self.scaler.mean, "std": self.scaler.std}
        for k, p in self.parts().items():
            arrays.update({f"{k}_X": p.X, f"{k}_y": p.y, f"{k}_t": p.t_ns, f"{k}_series": p.series})
        arrays["meta"] = np.array(
            [self.horizon_ns, self.seq_len, self.grid_ns, self.cuts_ns[0], self.cuts_ns[1]], dtype=np.int64
        )
        arrays["band_bps"] = np.array([self.band_bps])
        arrays["series_names"] = np.array(self.series_names)
        arrays["feature_names"] = np.array(self.feature_names)
        np.savez_compressed(path, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: Path) -> Dataset:
        """Read a dataset written by `save` (flat parts only)."""
        with np.load(path) as z:
            parts = {
                k: Part(z[f"{k}_X"], z[f"{k}_y"], z[f"{k}_t"], z[f"{k}_series"]) for k in ("train", "val", "test")
            }
            meta = z["meta"]
            names = tuple(str(x) for x in z["feature_names"])
            if names != FEATURE_NAMES:
                raise ValueError(f"{path}: features {names} differ from this version's {FEATURE_NAMES}")
            return cls(
                parts["train"], parts["val"], parts["test"], Standardizer(z["mean"], z["std"]),
                int(meta[0]), float(z["band_bps"][0]), int(meta[1]), int(meta[2]),
                [str(x) for x in z["series_names"]], (int(meta[3]), int(meta[4])), names,
            )


def build_dataset(
    series: Sequence[Series],
    horizon_ms: int,
    band_bps: float,
    seq_len: int = 20,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
) -> Dataset:
    """Label every series, pool them on the shared clock, split chronologically with a gap of one horizon.

    The standardiser is fitted on the training rows only and then applied to every row.
    """
    if not series:
        raise ValueError("no series given")
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    grid = series[0].grid_ns
    if any(s.grid_ns != grid for s in series):
        raise ValueError("all series must share one grid step")
    horizon_ns = horizon_ms * MS
    kept: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for s in series:
        y, valid = direction_labels(s.t_ns, s.mid_t_ns, s.mid_s, s.end_ns, horizon_ns, band_bps)
        idx = np.arange(len(s))
        ok = valid & (idx >= seq_len - 1)
        start = np.clip(idx - (seq_len - 1), 0, None)
        ok &= (s.t_ns - s.t_ns[start]) == (seq_len - 1) * grid  # the window is contiguous on the grid
        kept.append(idx[ok])
        labels.append(y)
    t_all = np.concatenate([s.t_ns[k] for s, k in zip(series, kept, strict=True)])
    sid_all = np.concatenate([np.full(len(k), j) for j, k in enumerate(kept)])
    row_all = np.concatenate(kept)
    masks = chronological_split(t_all, fractions, gap_ns=horizon_ns)
    train_X = np.concatenate(
        [s.X[row_all[masks.train & (sid_all == j)]] for j, s in enumerate(series)]
    )
    scaler = Standardizer.fit(train_X)
    Z = [scaler.transform(s.X) for s in series]
    windows = [
        np.lib.stride_tricks.sliding_window_view(z, seq_len, axis=0).transpose(0, 2, 1) if len(z) >= seq_len
        else np.zeros((0, seq_len, z.shape[1]), np.float32)
        for z in Z
    ]

    def part(mask: np.ndarray) -> Part:
        order = np.lexsort((sid_all[mask], t_all[mask]))
        sid, row = sid_all[mask][order], row_all[mask][order]
        X = np.stack([Z[j][i] for j, i in zip(sid, row, strict=True)]) if len(row) else np.zeros((0, len(FEATURE_NAMES)), np.float32)
        seq = np.stack([windows[j][i - seq_len + 1] for j, i in zip(sid, row, strict=True)]).astype(np.float32)
        y = np.array([labels[j][i] for j, i in zip(sid, row, strict=True)], dtype=np.int64)
        return Part(X.astype(np.float32), y, t_all[mask][order], sid.astype(np.int64), np.ascontiguousarray(seq))

    return Dataset(
        part(masks.train), part(masks.val), part(masks.test), scaler, horizon_ns, float(band_bps), seq_len, grid,
        [s.name for s in series], (masks.t1_ns, masks.t2_ns),
    )
