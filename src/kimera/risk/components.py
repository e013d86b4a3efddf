"""The six risk components of one order, each in [0, 1], as plain scalar functions (one job each)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from numba import njit

from kimera.risk.config import RiskParams
from kimera.risk.errors import RiskInputError
from kimera.risk.market import MarketState
from kimera.risk.portfolio import Position

FloatArray = npt.NDArray[np.float64]


def thermal(m: MarketState) -> float:
    """Market temperature and entropy (precomputed with the market state)."""
    return m.thermal


def cognitive(confidences: Sequence[float]) -> float:
    """Dispersion of the member signals' confidences: min(1, 2·population std), since the std of values
    in [0, 1] is at most 1/2. One signal: 1 − its confidence (its own doubt); none: 1 (nothing backs it).
    Plain two-pass sums: a handful of values in [0, 1] round to ~1e-16, far below any limit's resolution."""
    n = len(confidences)
    if n < 2:
        return 1.0 if n == 0 else 1.0 - confidences[0]
    mean = sum(confidences) / n
    var = 0.0
    for c in confidences:
        d = c - mean
        var += d * d
    return min(1.0, 2.0 * math.sqrt(var / n))


def volatility(m: MarketState, p: RiskParams) -> float:
    """Realised (annualised) volatility against the configured scale, capped at 1."""
    return min(1.0, m.vol / p.vol_scale)


@njit(cache=True)
def _pearson(x, y):  # type: ignore[no-untyped-def]
    n = x.shape[0]
    mx = 0.0
    my = 0.0
    for k in range(n):
        mx += x[k]
        my += y[k]
    mx /= n
    my /= n
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    for k in range(n):
        dx = x[k] - mx
        dy = y[k] - my
        sxx += dx * dx
        syy += dy * dy
        sxy += dx * dy
    if sxx <= 0.0 or syy <= 0.0:
        return 0.0
    den = math.sqrt(sxx * syy)
    if den == 0.0:  # sxx·syy underflowed (tiny, denormal deviations): take the roots apart
        den = math.sqrt(sxx) * math.sqrt(syy)
        if den == 0.0:
            return 0.0
    r = sxy / den
    if r != r:  # NaN in an input: let the caller name it
        return r
    return max(-1.0, min(1.0, r))


def correlation(a: FloatArray, b: FloatArray, window: int) -> float:
    """Pearson correlation of the last min(len a, len b, window) points of two series (ends aligned);
    0 with fewer than 3 points or a constant series."""
    n = min(a.shape[0], b.shape[0], window)
    if n < 3:
        return 0.0
    r = float(_pearson(a[a.shape[0] - n :], b[b.shape[0] - n :]))
    if not math.isfinite(r):
        raise RiskInputError(f"correlation: the last {n} returns contain NaN or infinity")
    return r


def concentration_terms(positions: Mapping[str, Position], key: str) -> tuple[float, float, float]:
    """(Σ|notional|, Σ|notional|² of the OTHER instruments, this instrument's signed base quantity)."""
    s = q = 0.0
    held = 0.0
    for k, p in positions.items():
        if k == key:
            held = p.qty
            continue
        x = p.notional
        s += x
        q += x * x
    return s, q, held


def concentration(others_sum: float, others_sq: float, new_notional: float) -> float:
    """Herfindahl index of |notional| weights after the order: Σ wᵢ², in (0, 1]; 0 for an empty book."""
    tot = others_sum + new_notional
    if tot <= 0.0:
        return 0.0
    return (others_sq + new_notional * new_notional) / (tot * tot)


def correlation_component(side: int, rho: float, hhi: float, p: RiskParams) -> float:
    """(1 − s)·max(0, side·ρ) + s·concentration: adding exposure that moves with the book, or piling into one
    instrument, is risk; hedging (side·ρ < 0) is not penalised."""
    s = p.concentration_share
    return (1.0 - s) * max(0.0, side * rho) + s * hhi


def liquidity(side: int, qty: float, m: MarketState, p: RiskParams) -> float:
    """(1 − s)·min(1, qty / depth within the slippage bound on the side it takes) + s·min(1, spread/scale)."""
    depth = m.depth_ask if side > 0 else m.depth_bid
    if depth != depth:
        raise RiskInputError(f"market {m.key} at {m.recv_ns}: depth on the {'ask' if side > 0 else 'bid'} side was not measured")
    size_part = min(1.0, qty / depth) if depth > 0.0 else 1.0
    spread_part = min(1.0, m.spread_bps / p.spread_scale_bps)
    s = p.liquidity_spread_share
    return (1.0 - s) * size_part + s * spread_part


def contradiction(tension_rate: float) -> float:
    """The share of signal pairs behind the order that the contradiction engine found in tension."""
    return tension_rate
