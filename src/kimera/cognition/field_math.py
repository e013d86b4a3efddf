"""Per-field quantities of the cognitive field (strength, resonance frequency, phase) in one float64 pass."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numba import njit

from kimera.cognition.parallel import run_chunks

N_FREQ = 10  # DFT coefficients summed into the resonance frequency

F64 = npt.NDArray[np.float64]


@lru_cache(maxsize=16)
def projection(dim: int) -> F64:
    """Rows: cos and −sin of the first DFT frequencies (k < min(10, dim))."""
    k = min(N_FREQ, dim)
    ang = 2.0 * np.pi * np.outer(np.arange(k), np.arange(dim)) / dim
    w = np.ascontiguousarray(np.vstack([np.cos(ang), -np.sin(ang)]))
    w.setflags(write=False)
    return w


@njit(fastmath={"reassoc", "contract"}, nogil=True, cache=True)
def row_props(x, wt, k):  # type: ignore[no-untyped-def]
    """(strength, frequency, phase) of one float32 vector, in float64 (vectorised dot products)."""
    d = x.shape[0]
    sq = 0.0
    for n in range(d):
        v = np.float64(x[n])
        sq += v * v
    mag = 0.0
    for f in range(k):
        re = 0.0
        im = 0.0
        for n in range(d):
            v = np.float64(x[n])
            re += v * wt[f, n]
            im += v * wt[k + f, n]
        mag += np.sqrt(re * re + im * im)
    h1 = 0.0
    for n in range(d // 2):
        h1 += np.float64(x[n])
    h2 = 0.0
    for n in range(d // 2, d):
        h2 += np.float64(x[n])
    st = np.sqrt(sq)
    # the DFT is linear (DFT(e/‖e‖) = DFT(e)/‖e‖) and atan2 is scale-free: raw sums suffice
    return st, 1.0 + (mag / st if st > 0.0 else 0.0), np.arctan2(h1, h2)


@njit(nogil=True, cache=True)
def _props_rows(r0, r1, emb, wt, k, strength, freq, phase, dst, slots):  # type: ignore[no-untyped-def]
    """Rows r0..r1 of `field_properties`; each row is also copied to dst[slots[r]] while hot in cache
    (when `slots` is non-empty)."""
    copy = slots.shape[0] > 0
    for r in range(r0, r1):
        strength[r], freq[r], phase[r] = row_props(emb[r], wt, k)
        if copy:
            dst[slots[r]] = emb[r]


def field_properties(
    emb: npt.NDArray[np.float32],
    dst: npt.NDArray[np.float32] | None = None,
    slots: npt.NDArray[np.int64] | None = None,
) -> tuple[F64, F64, F64]:
    """(strength, frequency, phase) of each row: ‖e‖; 1 + Σ_{k<10} |DFT(e/‖e‖)_k|; atan2(Σ first half,
    Σ second half) of e/‖e‖. A zero row has strength 0, frequency 1 and phase 0; a non-finite row gives
    a non-finite strength. With `dst` and `slots`, row r is also stored in dst[slots[r]] (one pass)."""
    n, d = emb.shape
    wt = projection(d)
    strength, freq, phase = np.empty(n), np.empty(n), np.empty(n)
    if dst is None or slots is None:
        dst, slots = np.zeros((1, d), np.float32), np.zeros(0, np.int64)
    x = np.ascontiguousarray(emb, dtype=np.float32)
    run_chunks(_props_rows, n, x, wt, min(N_FREQ, d), strength, freq, phase, dst, slots, min_chunk=2048)
    return strength, freq, phase


def neighbour_score(cos: F64, df: F64) -> F64:
    """score = 0.7·cos + 0.3 / (1 + |Δf|)."""
    return 0.7 * cos + 0.3 / (1.0 + np.abs(df))  # type: ignore[no-any-return]


@njit(fastmath={"reassoc", "contract"}, nogil=True, cache=True)
def row_dots(rows, q):  # type: ignore[no-untyped-def]
    """Float64 dot product of each float32 row with q, each in a fixed order (same bits whatever the batch)."""
    out = np.empty(rows.shape[0])
    for r in range(rows.shape[0]):
        s = 0.0
        for k in range(rows.shape[1]):
            s += np.float64(rows[r, k]) * q[k]
        out[r] = s
    return out
