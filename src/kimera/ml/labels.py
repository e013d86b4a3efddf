"""Direction labels: the sign of the mid-price log return over a horizon, with a dead band.

Class ids are 0 = down, 1 = flat (|return| <= band), 2 = up; `direction = class - 1`. The label of
the row at t uses only the mid as of t and the mid as of t + h, where "as of" means the last book
update received at or before that time; rows whose t + h lies after the data ends get no label.
"""

from __future__ import annotations

import numpy as np

DOWN, FLAT, UP = 0, 1, 2
CLASS_NAMES = ("down", "flat", "up")


def direction_labels(
    t_ns: np.ndarray,
    mid_t_ns: np.ndarray,
    mid_s: np.ndarray,
    end_ns: int,
    horizon_ns: int,
    band_bps: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (int64 class ids) and a validity mask for rows at `t_ns`, from the mid history.

    `mid_t_ns`/`mid_s` are the times the mid changed and its new value (any positive scale); a row is
    valid when both the mid as of t and as of t + horizon are known and t + horizon <= end_ns.
    """
    if horizon_ns <= 0:
        raise ValueError(f"horizon must be positive, got {horizon_ns} ns")
    if not np.isfinite(band_bps) or band_bps < 0:
        raise ValueError(f"dead band must be a finite number >= 0 bps, got {band_bps}")
    if len(mid_t_ns) != len(mid_s):
        raise ValueError("mid_t_ns and mid_s differ in length")
    if len(mid_t_ns) and np.any(np.diff(mid_t_ns) < 0):
        raise ValueError("mid_t_ns must be sorted")
    t = np.asarray(t_ns, dtype=np.int64)
    i_now = np.searchsorted(mid_t_ns, t, side="right") - 1
    i_fut = np.searchsorted(mid_t_ns, t + horizon_ns, side="right") - 1
    valid = (i_now >= 0) & (t + horizon_ns <= end_ns)
    s = np.asarray(mid_s, dtype=np.float64)
    now = s[np.clip(i_now, 0, None)] if len(s) else np.ones(len(t))
    fut = s[np.clip(i_fut, 0, None)] if len(s) else np.ones(len(t))
    r = np.log(fut / now) * 1e4
    y = np.full(len(t), FLAT, dtype=np.int64)
    y[r > band_bps] = UP
    y[r < -band_bps] = DOWN
    y[~valid] = FLAT
    return y, valid


def class_balance(y: np.ndarray) -> dict[str, float]:
    """Share of each class in `y` (down, flat, up)."""
    n = max(len(y), 1)
    return {name: float(np.sum(y == k)) / n for k, name in enumerate(CLASS_NAMES)}
