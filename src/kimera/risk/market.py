"""The market as risk sees it: prices, depth within the slippage bound, volatility and thermal state,
computed once per market update so each order's assessment is a few float operations."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from kimera.book import OrderBook
from kimera.features import FeatureEngine
from kimera.features.entropy import _thermal_stats
from kimera.model import Instrument
from kimera.risk.config import RiskParams
from kimera.risk.errors import RiskInputError

FloatArray = npt.NDArray[np.float64]
_new = tuple.__new__  # NamedTuple from a tuple in C


class MarketState(NamedTuple):
    """One instrument's market at `recv_ns`. Depths are base units resting within `slippage_bps` of mid
    (NaN: not measured for that side).

    thermal = (1 − s)·temperature + s·(entropy of returns + entropy of volumes)/2, s = thermal_entropy_share.
    (A NamedTuple: it is built once per book update on the hot path; build it with `make_market_state`.)
    """

    instrument: Instrument
    recv_ns: int
    bid: float
    ask: float
    mid: float
    spread_bps: float
    depth_bid: float
    depth_ask: float
    vol: float
    temperature: float
    entropy_returns: float
    entropy_volumes: float
    thermal: float
    returns: FloatArray

    @property
    def key(self) -> str:
        """`VENUE:SYMBOL` of the instrument."""
        return self.instrument.key


def _check_price(where: str, name: str, v: float) -> None:
    if not (math.isfinite(v) and v > 0.0):
        raise RiskInputError(f"{where}: {name} must be a finite price > 0, got {v!r}")


def make_market_state(
    instrument: Instrument, recv_ns: int, bid: float, ask: float, depth_bid: float, depth_ask: float,
    returns: FloatArray, volumes: FloatArray, vol: float, params: RiskParams,
) -> MarketState:
    """Validate raw market inputs and derive spread, temperature, entropies and thermal."""
    where = f"market {instrument.key} at {recv_ns}"
    _check_price(where, "bid", bid)
    _check_price(where, "ask", ask)
    if ask < bid:
        raise RiskInputError(f"{where}: crossed market, bid {bid} > ask {ask}")
    for name, v in (("depth_bid", depth_bid), ("depth_ask", depth_ask), ("vol", vol)):
        if not (math.isfinite(v) and v >= 0.0) and not (name != "vol" and math.isnan(v)):
            raise RiskInputError(f"{where}: {name} must be finite and >= 0 (NaN: not measured), got {v!r}")
    r = np.array(returns, dtype=np.float64)  # a copy: feature windows are views that move on
    r.setflags(write=False)
    w = np.ascontiguousarray(volumes, dtype=np.float64)
    state = _state(instrument, recv_ns, bid, ask, depth_bid, depth_ask, r, w, vol, params)
    if state is None:
        raise RiskInputError(f"{where}: returns or volumes contain NaN or infinity")
    return state


def _state(
    instrument: Instrument, recv_ns: int, bid: float, ask: float, depth_bid: float, depth_ask: float,
    r: FloatArray, volumes: FloatArray, vol: float, params: RiskParams,
) -> MarketState | None:
    """The market state from checked inputs (`r` a read-only copy); None when the thermal statistics are not
    finite (a NaN or infinity in the returns or volumes)."""
    temp, er, ev = _thermal_stats(r, volumes, params.temperature_short, params.entropy_bins)
    if not (math.isfinite(temp) and math.isfinite(er) and math.isfinite(ev)):
        return None
    s = params.thermal_entropy_share
    thermal = (1.0 - s) * temp + s * 0.5 * (er + ev)
    mid = 0.5 * (bid + ask)
    return _new(MarketState, (
        instrument, recv_ns, bid, ask, mid, (ask - bid) / mid * 1e4, depth_bid, depth_ask, vol, temp, er, ev,
        min(1.0, max(0.0, thermal)), r,
    ))


def depth_within(book: OrderBook, slippage_bps: float, side: int = 0) -> tuple[int, int]:
    """Fixed-point size resting on (bids, asks) within `slippage_bps` of the mid (inclusive).

    `side` = +1 computes only the asks (what a buy takes), −1 only the bids; the other is returned as −1.
    Each side's `size_from` keeps its total incrementally, so a tick costs the levels that changed, not the
    ~200 levels inside the bound.
    """
    bs, as_ = book.bids, book.asks
    bk, ak = bs.keys, as_.keys
    if not bk or not ak:
        raise RiskInputError(f"{book.instrument.key}: book has an empty side")
    mid2 = bk[-1] - ak[-1]  # 2 × mid in price units (ask keys are −price)
    f = slippage_bps * 1e-4
    d_bid = d_ask = -1
    if side <= 0:  # bids at or above the lower price bound: keys >= it
        d_bid = bs.size_from(math.ceil(mid2 * (1.0 - f) / 2))
    if side >= 0:  # asks at or below the upper price bound: keys (−price) >= −it
        d_ask = as_.size_from(-math.floor(mid2 * (1.0 + f) / 2))
    return d_bid, d_ask


def market_state_from_book(
    book: OrderBook, features: FeatureEngine, recv_ns: int, params: RiskParams, side: int = 0
) -> MarketState:
    """The market state from a live book and its feature engine (returns, volumes and volatility).

    With `side` = ±1 only the depth that side's orders take is measured (the other is NaN, and assessing an
    order against it is an error): half the work when the caller knows the order's side. The same values as
    `make_market_state` on the same inputs (tested), with its checks done once in a cheap form: any input
    that fails one goes through `make_market_state`, which raises its error.
    """
    inst = book.instrument
    bk, ak = book.bids.keys, book.asks.keys
    if not bk or not ak:
        raise RiskInputError(f"{inst.key}: book has an empty side at {recv_ns}")
    d_bid, d_ask = depth_within(book, params.slippage_bps, side)
    ps, ss = inst.price_scale, inst.size_scale
    bid, ask = bk[-1] / ps, -ak[-1] / ps
    db = d_bid / ss if d_bid >= 0 else math.nan
    da = d_ask / ss if d_ask >= 0 else math.nan
    last = features.last
    vol = last.vol if last is not None else 0.0
    rets, vols = features.returns, features.volumes
    if not (0.0 < bid <= ask < math.inf and 0.0 <= vol < math.inf and rets.count and vols.count):
        return make_market_state(inst, recv_ns, bid, ask, db, da, rets.view(), vols.view(), vol, params)
    r = rets.view().copy()  # a copy: feature windows are views that move on
    r.setflags(write=False)
    v = vols.view()
    state = _state(inst, recv_ns, bid, ask, db, da, r, v, vol, params)
    if state is None:
        return make_market_state(inst, recv_ns, bid, ask, db, da, r, v, vol, params)  # raises
    return state
