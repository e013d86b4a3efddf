"""Per-field quantities of the cognitive field (strength, resonance frequency, phase) in one float64 pass."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numba import njit

from kimera.cognition.parallel import start_chunks

N_FREQ = 10  # DFT coefficients summed into the resonance frequency

F64 = npt.NDArray[np.float64]


ROWS = 4  # rows per block in the kernel: each table entry loaded once serves this many rows
_QC = (1.0, 0.0, -1.0, 0.0)  # cos(πk/2), exactly
_QS = (0.0, 1.0, 0.0, -1.0)  # sin(πk/2)


def _terms(dim: int) -> int:
    """Length of the folded DFT sums: (h − 1)//2 for even d = 2h, (d − 1)//2 for odd d."""
    return (dim // 2 - 1) // 2 if dim % 2 == 0 else (dim - 1) // 2


@lru_cache(maxsize=16)
def projection(dim: int) -> F64:
    """Rows k < K = min(10, d): cos(2πkn/d), rows K + k: sin(2πkn/d), for n = 1.._terms(d).

    The DFT of a real vector is folded by its symmetries: with aₙ = xₙ + x_{d−n}, bₙ = xₙ − x_{d−n}
    (n = 1..m, m = (d − 1)//2), Re X_k = x₀ + Σ aₙ cos(2πkn/d) + [d even]·(−1)ᵏ·x_{d/2} and
    Im X_k = −Σ bₙ sin(2πkn/d). For even d = 2h it folds once more, pairing n with h − n:
    cos(2πk(h−n)/d) = (−1)ᵏ cos(2πkn/d) and sin(2πk(h−n)/d) = −(−1)ᵏ sin(2πkn/d), so the sums run over
    aₙ ± a_{h−n}, bₙ ∓ b_{h−n} (by the parity of k) plus, when h is even, the middle term n = h/2.
    A quarter of the multiply-adds of the plain DFT."""
    k = min(N_FREQ, dim)
    ang = 2.0 * np.pi * np.outer(np.arange(k), np.arange(1, _terms(dim) + 1)) / dim
    w = np.ascontiguousarray(np.vstack([np.cos(ang), np.sin(ang)]))
    w.setflags(write=False)
    return w


@njit(fastmath={"reassoc", "contract"}, nogil=True, cache=True, inline="always")
def _fold(x, t, w, ex, q, d):  # type: ignore[no-untyped-def]
    """Row x into slot q of the scratch (see `projection`): w[0..3][q] the folded sums, ex[q] = (x₀,
    x_{d/2}, a_{h/2}, b_{h/2}); returns (Σ x², Σ first half, Σ second half) in float64. Reads x directly
    (float32 → float64 per element): plain reductions and forward loops that vectorise. `t` is unused
    (kept for the scratch layout)."""
    half = d // 2
    sq = 0.0
    h1 = 0.0
    for n in range(half):
        v = np.float64(x[n])
        sq += v * v
        h1 += v
    h2 = 0.0
    for n in range(half, d):
        v = np.float64(x[n])
        sq += v * v
        h2 += v
    ex[q, 0] = np.float64(x[0])
    ex[q, 1] = np.float64(x[half]) if d % 2 == 0 else 0.0
    if d % 2 == 1:
        a = w[0, q]
        b = w[2, q]
        for i in range((d - 1) // 2):  # n = i + 1 paired with d − n
            u = np.float64(x[i + 1])
            v = np.float64(x[d - 1 - i])
            a[i] = u + v
            b[i] = u - v
        ex[q, 2] = 0.0
        ex[q, 3] = 0.0
        return sq, h1, h2
    ae, ao, be, bo = w[0, q], w[1, q], w[2, q], w[3, q]
    # unsigned indices: numba then emits no negative-index wraparound (the loop vectorises better)
    one, ud, uh = np.uint64(1), np.uint64(d), np.uint64(half)
    for i in range((half - 1) // 2):  # n = i + 1 and its partner h − n = half − 1 − i
        ui = np.uint64(i)
        u = np.float64(x[ui + one])
        v = np.float64(x[ud - one - ui])
        u2 = np.float64(x[uh - one - ui])
        v2 = np.float64(x[uh + one + ui])
        a1 = u + v
        b1 = u - v
        a2 = u2 + v2
        b2 = u2 - v2
        ae[i] = a1 + a2
        ao[i] = a1 - a2
        be[i] = b1 - b2
        bo[i] = b1 + b2
    if half % 2 == 0 and half > 0:  # the unpaired middle n = h/2
        m = half // 2
        ex[q, 2] = np.float64(x[m]) + np.float64(x[d - m])
        ex[q, 3] = np.float64(x[m]) - np.float64(x[d - m])
    else:
        ex[q, 2] = 0.0
        ex[q, 3] = 0.0
    return sq, h1, h2


@njit(fastmath={"reassoc", "contract"}, nogil=True, cache=True)
def _block(emb, base, nb, tab, k, w, ex, t, strength, freq, phase, out0):  # type: ignore[no-untyped-def]
    """Rows base..base+nb (nb <= ROWS) of `emb`: (strength, frequency, phase) into the outputs at
    out0..out0+nb. Scratch: w (4, ROWS, ≥ terms), ex (ROWS, 4), t (d,), all float64."""
    d = emb.shape[1]
    L = tab.shape[1]
    even = d % 2 == 0
    for q in range(ROWS):
        if q >= nb:  # padding rows: zeros (their results are discarded)
            w[:, q, :L] = 0.0
            ex[q] = 0.0
            continue
        sq, h1, h2 = _fold(emb[base + q], t, w, ex, q, d)
        strength[out0 + q] = np.sqrt(sq)
        phase[out0 + q] = np.arctan2(h1, h2)  # atan2 is scale-free: raw sums suffice
        freq[out0 + q] = 0.0
    for f in range(k):
        c = tab[f]
        s = tab[k + f]
        par = f % 2 if even else 0
        a = w[par]
        b = w[2 + par]
        r0 = r1 = r2 = r3 = 0.0
        i0 = i1 = i2 = i3 = 0.0
        for n in range(L):
            cn = c[n]
            sn = s[n]
            r0 += a[0, n] * cn
            r1 += a[1, n] * cn
            r2 += a[2, n] * cn
            r3 += a[3, n] * cn
            i0 += b[0, n] * sn
            i1 += b[1, n] * sn
            i2 += b[2, n] * sn
            i3 += b[3, n] * sn
        sign = -1.0 if f % 2 else 1.0
        qc = _QC[f % 4]
        qs = _QS[f % 4]
        for q in range(nb):
            re = (r0, r1, r2, r3)[q] + ex[q, 0] + sign * ex[q, 1] + qc * ex[q, 2]
            im = (i0, i1, i2, i3)[q] + qs * ex[q, 3]
            freq[out0 + q] += np.sqrt(re * re + im * im)
    for q in range(nb):
        st = strength[out0 + q]
        # the DFT is linear: |DFT(e/‖e‖)_k| = |DFT(e)_k| / ‖e‖
        freq[out0 + q] = 1.0 + (freq[out0 + q] / st if st > 0.0 else 0.0)


@njit(nogil=True, cache=True)
def _scratch(d):  # type: ignore[no-untyped-def]
    """Scratch buffers of `_block` for dimension d, and 3 output slots, carved from one allocation."""
    m = max(1, (d - 1) // 2)
    buf = np.empty(4 * ROWS * m + 4 * ROWS + d + 3)
    w = buf[: 4 * ROWS * m].reshape((4, ROWS, m))
    ex = buf[4 * ROWS * m : 4 * ROWS * m + 4 * ROWS].reshape((ROWS, 4))
    t = buf[4 * ROWS * m + 4 * ROWS : 4 * ROWS * m + 4 * ROWS + d]
    return w, ex, t, buf[4 * ROWS * m + 4 * ROWS + d :]


@njit(nogil=True, cache=True)
def row_props(x, tab, k):  # type: ignore[no-untyped-def]
    """(strength, frequency, phase) of one float32 vector, in float64 (the same arithmetic as a batch)."""
    w, ex, t, out = _scratch(x.shape[0])
    _block(x.reshape(1, x.shape[0]), 0, 1, tab, k, w, ex, t, out[0:1], out[1:2], out[2:3], 0)
    return out[0], out[1], out[2]


@njit(nogil=True, cache=True)
def _props_rows(r0, r1, emb, tab, k, strength, freq, phase, dst, slots):  # type: ignore[no-untyped-def]
    """Rows r0..r1 of `field_properties`, in blocks of ROWS; each row is also copied to dst[slots[r]]
    while hot in cache (when `slots` is non-empty)."""
    w, ex, t, _ = _scratch(emb.shape[1])
    copy = slots.shape[0] > 0
    for base in range(r0, r1, ROWS):
        nb = min(ROWS, r1 - base)
        _block(emb, base, nb, tab, k, w, ex, t, strength, freq, phase, base)
        if copy:
            for q in range(nb):
                dst[slots[base + q]] = emb[base + q]


def field_properties(
    emb: npt.NDArray[np.float32],
    dst: npt.NDArray[np.float32] | None = None,
    slots: npt.NDArray[np.int64] | None = None,
) -> tuple[F64, F64, F64]:
    """(strength, frequency, phase) of each row: ‖e‖; 1 + Σ_{k<10} |DFT(e/‖e‖)_k|; atan2(Σ first half,
    Σ second half) of e/‖e‖. A zero row has strength 0, frequency 1 and phase 0; a non-finite row gives
    a non-finite strength. With `dst` and `slots`, row r is also stored in dst[slots[r]] (one pass)."""
    strength, freq, phase, wait = start_field_properties(emb, dst, slots)
    wait()
    return strength, freq, phase


def start_field_properties(
    emb: npt.NDArray[np.float32],
    dst: npt.NDArray[np.float32] | None = None,
    slots: npt.NDArray[np.int64] | None = None,
) -> tuple[F64, F64, F64, Callable[[], None]]:
    """`field_properties` on the pool, returning at once: the outputs are valid after `wait()`."""
    n, d = emb.shape
    tab = projection(d)
    strength, freq, phase = np.empty(n), np.empty(n), np.empty(n)
    if dst is None or slots is None:
        dst, slots = np.zeros((1, d), np.float32), np.zeros(0, np.int64)
    x = np.ascontiguousarray(emb, dtype=np.float32)
    args = (x, tab, min(N_FREQ, d), strength, freq, phase, dst, slots)
    wait = start_chunks(_props_rows, n, *args, min_chunk=2048)
    return strength, freq, phase, wait


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
