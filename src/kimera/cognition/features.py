"""Market features for the geoid encoder: book imbalance, spread, returns, volatility, trade flow, trend.

`MarketFeatures` is plain numbers (build it from anything); `FeatureTracker` computes it from an
`OrderBook` sampled over time plus the recent `Trade`s. See docs/cognition.md for every feature.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from kimera.book import OrderBook
from kimera.model import Instrument, Side, Trade

DEPTHS = (1, 5, 20)  # book levels per side in the imbalance features
HORIZONS_S = (1.0, 5.0, 30.0)  # return horizons, seconds
WINDOW_S = 30.0  # volatility, trend efficiency and z-score window, seconds
FLOW_WINDOW_S = 5.0  # trade-flow window, seconds
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class MarketFeatures:
    """The state of one market at one moment, as seen by one venue's data."""

    venue: str
    symbol: str
    ts_ns: int
    mid: float
    spread_bps: float  # (ask − bid) / mid, basis points
    imbalance: tuple[float, ...]  # per DEPTHS: (bid qty − ask qty) / (bid qty + ask qty) in [−1, 1]
    returns_bps: tuple[float, ...]  # per HORIZONS_S: log return of the mid, basis points
    volatility_bps: float  # realised volatility of the mid over WINDOW_S, basis points
    flow_imbalance: float  # (taker buy − taker sell) / total traded qty over FLOW_WINDOW_S, in [−1, 1]
    efficiency: float  # |net log move| / Σ|log moves| over WINDOW_S, in [0, 1] (1 = straight line)
    zscore: float  # (mid − mean mid) / std of the mid over WINDOW_S

    def __post_init__(self) -> None:
        nums = (self.mid, self.spread_bps, *self.imbalance, *self.returns_bps, self.volatility_bps,
                self.flow_imbalance, self.efficiency, self.zscore)  # fmt: skip
        if not all(math.isfinite(x) for x in nums):
            raise ValueError(f"{self.venue}:{self.symbol}@{self.ts_ns}: features must be finite, got {nums}")
        if len(self.imbalance) != len(DEPTHS) or len(self.returns_bps) != len(HORIZONS_S):
            raise ValueError(f"expected {len(DEPTHS)} imbalances and {len(HORIZONS_S)} returns")


class FeatureTracker:
    """Keeps the recent mids and trades of one instrument and computes `MarketFeatures` on demand."""

    def __init__(self, instrument: Instrument, venue: str | None = None) -> None:
        self.instrument = instrument
        self.venue = venue or instrument.venue
        self._ts: list[int] = []
        self._mid: list[float] = []
        self._trade_ts: list[int] = []
        self._trade_qty: list[float] = []  # signed by aggressor side: + taker buy, − taker sell
        self._keep_ns = int(max(*HORIZONS_S, WINDOW_S, FLOW_WINDOW_S) * _NS) + _NS

    def on_trade(self, trade: Trade) -> None:
        """Record a print (its aggressor side signs the quantity)."""
        q = self.instrument.qty(trade.size)
        self._trade_ts.append(trade.recv_ns)
        self._trade_qty.append(q if trade.side is Side.BUY else -q)

    def on_book(self, book: OrderBook, ts_ns: int) -> None:
        """Sample the book's mid (call after every book update); older history is pruned."""
        mid = book.mid()
        if mid is None:
            return
        self._ts.append(ts_ns)
        self._mid.append(mid)
        self._prune(ts_ns)

    def _prune(self, now: int) -> None:
        cut = now - self._keep_ns
        for ts, *vals in ((self._ts, self._mid), (self._trade_ts, self._trade_qty)):
            k = bisect_left(ts, cut)
            if k > 1024:
                del ts[:k]
                for v in vals:
                    del v[:k]

    def _mid_at(self, t: int) -> float | None:
        """The last sampled mid at or before t (None before the history starts)."""
        k = bisect_right(self._ts, t)
        return self._mid[k - 1] if k else None

    def features(self, book: OrderBook, ts_ns: int) -> MarketFeatures | None:
        """Features now; None while the book is one-sided or history is shorter than the longest horizon."""
        if not self._ts or self._ts[-1] != ts_ns:
            self.on_book(book, ts_ns)
        mid, spread = book.mid(), book.spread()
        if mid is None or spread is None or not self._ts or self._ts[0] > ts_ns - int(max(HORIZONS_S) * _NS):
            return None
        rets = []
        for h in HORIZONS_S:
            past = self._mid_at(ts_ns - int(h * _NS))
            rets.append(1e4 * math.log(mid / past) if past else 0.0)
        lo = bisect_left(self._ts, ts_ns - int(WINDOW_S * _NS))
        hi = bisect_right(self._ts, ts_ns)
        window = np.log(np.asarray(self._mid[lo:hi], dtype=np.float64))
        steps = np.diff(window)
        path = float(np.abs(steps).sum())
        mids = np.exp(window)
        std = float(mids.std())
        t0 = bisect_left(self._trade_ts, ts_ns - int(FLOW_WINDOW_S * _NS))
        t1 = bisect_right(self._trade_ts, ts_ns)
        flow = self._trade_qty[t0:t1]
        gross = math.fsum(abs(q) for q in flow)
        return MarketFeatures(
            venue=self.venue,
            symbol=self.instrument.symbol,
            ts_ns=ts_ns,
            mid=mid,
            spread_bps=1e4 * self.instrument.px(spread) / mid,
            imbalance=tuple(book.imbalance(d) for d in DEPTHS),
            returns_bps=tuple(rets),
            volatility_bps=1e4 * float(np.sqrt((steps**2).sum())),
            flow_imbalance=math.fsum(flow) / gross if gross else 0.0,
            efficiency=abs(float(window[-1] - window[0])) / path if path else 0.0,
            zscore=(mid - float(mids.mean())) / std if std > 0 else 0.0,
        )
