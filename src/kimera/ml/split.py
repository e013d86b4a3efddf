"""Chronological train / validation / test split with purge gaps, and train-only standardisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SplitMasks:
    """Boolean masks over rows and the cut times: train < t1, t1+gap <= val < t2, test >= t2+gap."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    t1_ns: int
    t2_ns: int
    gap_ns: int


def chronological_split(
    t_ns: np.ndarray, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2), gap_ns: int = 0
) -> SplitMasks:
    """Split rows by time into train/val/test of about `fractions` of the rows, leaving `gap_ns` between parts.

    With several series pooled, the cuts are on the shared clock, so no test row precedes a train row
    of any series. A gap of at least the label horizon keeps every train label window out of validation
    and every validation label window out of test.
    """
    f = tuple(float(x) for x in fractions)
    if len(f) != 3 or any(not np.isfinite(x) or x <= 0 for x in f) or abs(sum(f) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    if gap_ns < 0:
        raise ValueError(f"gap must be >= 0, got {gap_ns}")
    t = np.asarray(t_ns, dtype=np.int64)
    if len(t) < 3:
        raise ValueError(f"need at least 3 rows to split, got {len(t)}")
    ts = np.sort(t)
    t1 = int(ts[int(len(ts) * f[0])])
    t2 = int(ts[int(len(ts) * (f[0] + f[1]))])
    train = t < t1
    val = (t >= t1 + gap_ns) & (t < t2)
    test = t >= t2 + gap_ns
    for name, m in (("train", train), ("validation", val), ("test", test)):
        if not m.any():
            raise ValueError(f"the {name} split is empty (rows {len(t)}, gap {gap_ns} ns): use more data or a shorter gap")
    return SplitMasks(train, val, test, t1, t2, gap_ns)


@dataclass
class Standardizer:
    """z = (x - mean) / std with statistics from the training rows only (std 0 becomes 1)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardizer:
        """Statistics of `X` (rows = samples); NaN or infinite inputs are an error."""
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"expected a non-empty 2-D array, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("training features contain NaN or infinity")
        std = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardised float32 copy of `X`."""
        if X.shape[-1] != len(self.mean):
            raise ValueError(f"expected {len(self.mean)} features, got {X.shape[-1]}")
        return ((X - self.mean) / self.std).astype(np.float32)
