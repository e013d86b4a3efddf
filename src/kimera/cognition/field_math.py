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
    """Rows: cos and −sin of the first DFT frequencies, then the first- and second-half indicators."""
    k = min(N_FREQ, dim)
    ang = 2.0 * np.pi * np.outer(np.arange(k), np.arange(dim)) / dim
    half = np.zeros((2, dim))
    half[0, : dim // 2] = 1.0
    half[1, dim // 2 :] = 1.0
    w = np.ascontiguousarray(np.vstack([np.cos(ang), -np.sin(ang), half]))
    w.setflags(write=False)
    return w


@njit(fastmath={"reassoc", "contract"}, nogil=True, cache=True)
def _project_rows(r0, r1, emb, wt, out):  # type: ignore[no-untyped-def]
    """out[r] = (wt @ emb[r], ‖emb[r]‖²) in float64 for rows r0..r1 (vectorised dot products)."""
    d, m = emb.shape[1], wt.shape[0]
    for r in range(r0, r1):
        sq = 0.0
        for n in range(d):
            v = np.float64(emb[r, n])
            sq += v * v
        out[r, m] = sq
        for k in range(m):
            s = 0.0
            for n in range(d):
                s += np.float64(emb[r, n]) * wt[k, n]
            out[r, k] = s


def field_properties(emb: npt.NDArray[np.float32]) -> tuple[F64, F64, F64]:
    """(strength, frequency, phase) of each row: ‖e‖; 1 + Σ_{k<10} |DFT(e/‖e‖)_k|; atan2(Σ first half,
    Σ second half) of e/‖e‖. A zero row has strength 0, frequency 1 and phase 0."""
    n, d = emb.shape
    wt = projection(d)
    k = (wt.shape[0] - 2) // 2
    out = np.empty((n, wt.shape[0] + 1))
    run_chunks(_project_rows, n, np.ascontiguousarray(emb, dtype=np.float32), wt, out, min_chunk=2048)
    strength = np.sqrt(out[:, -1])
    mag = np.hypot(out[:, :k], out[:, k : 2 * k]).sum(axis=1)
    freq = 1.0 + mag / np.where(strength > 0, strength, 1.0)  # the DFT is linear: DFT(e/‖e‖) = DFT(e)/‖e‖
    phase = np.arctan2(out[:, 2 * k], out[:, 2 * k + 1])  # atan2 is scale-free: raw sums give the same angle
    return strength, freq, phase


def neighbour_score(cos: F64, df: F64) -> F64:
    """score = 0.7·cos + 0.3 / (1 + |Δf|)."""
    return 0.7 * cos + 0.3 / (1.0 + np.abs(df))  # type: ignore[no-any-return]
