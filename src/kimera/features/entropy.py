"""Count-based histogram entropy and short/long variance ratio (numba), for the risk engine's thermal part."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]


@njit(cache=True)
def _count_entropy(x, bins):  # type: ignore[no-untyped-def]
    n = x.shape[0]
    if n < 2:
        return 0.0
    lo = x[0]
    hi = x[0]
    for k in range(1, n):
        v = x[k]
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    if hi <= lo:
        return 0.0
    counts = np.zeros(bins, dtype=np.int64)
    width = (hi - lo) / bins
    for k in range(n):
        y = (x[k] - lo) / width
        if not 0.0 <= y < math.inf:  # NaN or infinity: no bin (int() of it is undefined); say so with NaN
            return math.nan
        b = int(y)
        if b >= bins:  # the maximum lands in the last bin, like numpy.histogram's closed last edge
            b = bins - 1
        counts[b] += 1
    h = 0.0
    for b in range(bins):
        c = counts[b]
        if c > 0:
            p = c / n
            h -= p * math.log(p)
    return h / math.log(bins)


def count_entropy(x: FloatArray, bins: int = 16) -> float:
    """Shannon entropy of an equal-width COUNT histogram of `x` over [min, max], divided by log(bins).

    In [0, 1]: 0 when every value falls in one bin (or fewer than 2 values), 1 when the bins are equally
    full; a NaN or infinite value is an error. Why counts: a density-normalised histogram depends on the bin width, counts do not.
    """
    if bins < 2:
        raise ValueError(f"count_entropy: bins must be >= 2, got {bins}")
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"count_entropy: expected a 1-D array, got shape {a.shape}")
    h = float(_count_entropy(a, bins))
    if math.isnan(h):
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise ValueError(f"count_entropy: value #{bad} is {a[bad]!r}; every value must be finite")
    return h


@njit(cache=True)
def _variance(x, start, stop):  # type: ignore[no-untyped-def]
    n = stop - start
    if n < 2:
        return 0.0
    m = 0.0
    for k in range(start, stop):
        m += x[k]
    m /= n
    s = 0.0
    for k in range(start, stop):
        d = x[k] - m
        s += d * d
    return s / n


@njit(cache=True)
def _temperature(x, short):  # type: ignore[no-untyped-def]
    n = x.shape[0]
    if n < 2:
        return 0.0
    s = short if short < n else n
    vs = _variance(x, n - s, n)
    vl = _variance(x, 0, n)
    if vs + vl == 0.0:
        return 0.0
    return vs / (vs + vl)


def temperature(returns: FloatArray, short: int = 32) -> float:
    """Market temperature in [0, 1): var(last `short` returns) / (that + var(whole window)).

    0.5 when the recent market is as agitated as the window's baseline; toward 1 when it heats up.
    `returns` must be chronological (oldest first).
    """
    if short < 2:
        raise ValueError(f"temperature: short window must be >= 2, got {short}")
    a = np.ascontiguousarray(returns, dtype=np.float64)
    return float(_temperature(a, short))


@njit(cache=True)
def _thermal_stats(r, v, short, bins):  # type: ignore[no-untyped-def]
    """`(_temperature(r, short), _count_entropy(r, bins), _count_entropy(v, bins))` with the six passes over `r`
    fused into two (each sum keeps its own order, so finite inputs give the same values bit for bit; a NaN or
    infinity makes both the temperature and the entropy NaN, as in the separate kernels)."""
    n = r.shape[0]
    if n < 2:
        return 0.0, 0.0, _count_entropy(v, bins)
    s = short if short < n else n
    a = n - s
    sl = 0.0 + r[0]  # pass 1: the window's and the short window's sums (from 0.0, as `_variance`), min, max
    ss = 0.0 + r[0] if a == 0 else 0.0
    lo = r[0]
    hi = r[0]
    for k in range(1, n):
        x = r[k]
        sl += x
        if k >= a:
            ss += x
        if x < lo:
            lo = x
        elif x > hi:
            hi = x
    ml = sl / n
    ms = ss / s
    spread = not hi <= lo
    width = (hi - lo) / bins
    counts = np.zeros(bins, dtype=np.int64)
    er_bad = False
    ql = 0.0  # pass 2: squared deviations of both windows and the histogram counts
    qs = 0.0
    for k in range(n):
        x = r[k]
        d = x - ml
        ql += d * d
        if k >= a:
            e = x - ms
            qs += e * e
        if spread:
            y = (x - lo) / width
            if 0.0 <= y < math.inf:
                b = int(y)
                if b >= bins:  # the maximum lands in the last bin, like numpy.histogram's closed last edge
                    b = bins - 1
                counts[b] += 1
            else:  # NaN or infinity: no bin, and the entropy is NaN (as `_count_entropy`)
                spread = False
                er_bad = True
    vl = ql / n
    vs = qs / s
    temp = 0.0 if vs + vl == 0.0 else vs / (vs + vl)
    er = math.nan if er_bad else 0.0
    if spread:
        for b in range(bins):
            c = counts[b]
            if c > 0:
                p = c / n
                er -= p * math.log(p)
        er = er / math.log(bins)
    return temp, er, _count_entropy(v, bins)


def thermal_stats(returns: FloatArray, volumes: FloatArray, short: int = 32, bins: int = 16) -> tuple[float, float, float]:
    """(temperature(returns), count_entropy(returns), count_entropy(volumes)) in one compiled call."""
    if short < 2 or bins < 2:
        raise ValueError(f"thermal_stats: short and bins must be >= 2, got {short}, {bins}")
    t, er, ev = _thermal_stats(
        np.ascontiguousarray(returns, dtype=np.float64), np.ascontiguousarray(volumes, dtype=np.float64), short, bins
    )
    return float(t), float(er), float(ev)
