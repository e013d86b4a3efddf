"""Pulse (tension amplified by semantic richness) and the surge / buffer / collapse decision."""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
import numpy.typing as npt


class Decision(StrEnum):
    """What to do with a tension: act on it (surge), hold it (buffer), or drop the position/idea (collapse)."""

    SURGE = "surge"
    BUFFER = "buffer"
    COLLAPSE = "collapse"


def _unit(name: str, x: float) -> float:
    """A finite number in [0, 1], or a clear error."""
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {x!r}")
    return float(x)


def pulse(tension: float, mean_keys: float) -> float:
    """min(1, T·(1 + 0.5·min(m/20, 1))): richer pairs (m = mean semantic key count) pulse harder."""
    t = _unit("tension", tension)
    if isinstance(mean_keys, bool) or not isinstance(mean_keys, int | float) or not mean_keys >= 0:
        raise ValueError(f"mean_keys must be a number >= 0, got {mean_keys!r}")
    return min(1.0, t * (1.0 + 0.5 * min(mean_keys / 20.0, 1.0)))


def decide(pulse_value: float, stability: float) -> Decision:
    """Weak pulses buffer; medium ones surge only when stable (> 0.6); strong ones surge (> 0.7),
    collapse (< 0.3) or buffer."""
    return decide_unit(_unit("pulse", pulse_value), _unit("stability", stability))


def decide_unit(p: float, s: float) -> Decision:
    """`decide` for a pulse and stability already known to be floats in [0, 1] (no validation: hot paths)."""
    if p < 0.3:
        return Decision.BUFFER
    if p < 0.7:
        return Decision.SURGE if s > 0.6 else Decision.BUFFER
    if s > 0.7:
        return Decision.SURGE
    return Decision.COLLAPSE if s < 0.3 else Decision.BUFFER


def pulses(tension: npt.ArrayLike, mean_keys: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """`pulse` of many pairs at once (e.g. `TensionPairs.tension` and the pairs' mean key counts)."""
    t = np.asarray(tension, dtype=np.float64)
    m = np.asarray(mean_keys, dtype=np.float64)
    if not (np.isfinite(t).all() and ((t >= 0) & (t <= 1)).all() and (m >= 0).all()):
        raise ValueError("tensions must be in [0, 1] and mean key counts >= 0")
    return np.minimum(1.0, t * (1.0 + 0.5 * np.minimum(m / 20.0, 1.0)))
