"""Causal market features from the book and trade streams: imbalance, returns, volatility, z-score, flow.

Causal by construction: each call folds in one event and reports features from events seen so far, in
arrival order; nothing ever reads ahead. Rolling sums are O(1) per event and recomputed exactly every
`window` events so float drift cannot accumulate.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from operator import itemgetter

import msgspec
import numpy as np
import numpy.typing as npt

from kimera.book import OrderBook
from kimera.features.ring import Ring
from kimera.model import Instrument, Side, Trade

SECONDS_PER_YEAR = 365.0 * 86400.0  # crypto trades every second of the year
DEPTHS = (1, 5, 20)  # book levels of the three imbalance features (fixed: they name the fields)


class FeatureError(ValueError):
    """Bad feature configuration or an impossible input (NaN price, negative size)."""


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Window lengths: `window` returns for volatility/trend/z-score, `short` for the short return,
    `flow_window_ns` for trade-flow imbalance, `volume_window` trades for the volume histogram."""

    window: int = 256
    short: int = 10
    flow_window_ns: int = 5_000_000_000
    volume_window: int = 256
    seconds_per_year: float = SECONDS_PER_YEAR

    def __post_init__(self) -> None:
        for name in ("window", "short", "flow_window_ns", "volume_window"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise FeatureError(f"FeatureConfig.{name} must be a positive int, got {v!r}")
        if self.window < 2:
            raise FeatureError(f"FeatureConfig.window must be >= 2, got {self.window}")
        if self.short > self.window:
            raise FeatureError(f"FeatureConfig.short ({self.short}) must be <= window ({self.window})")
        if not (math.isfinite(self.seconds_per_year) and self.seconds_per_year > 0):
            raise FeatureError(f"FeatureConfig.seconds_per_year must be > 0, got {self.seconds_per_year!r}")


class MarketFeatures(msgspec.Struct, frozen=True, gc=False):
    """One instrument's features right after the event at `recv_ns`.

    imb_l1/l5/l20: (bid size − ask size)/(sum) over the top 1/5/20 levels, in [−1, 1].
    ret1: last mid log return; ret_short: over the last `short` updates; trend: over the last `window`.
    vol: annualised realised volatility sqrt(Σr² / elapsed seconds × seconds per year) over the window.
    zscore: (log mid − its rolling mean) / its rolling std over the window (0 until defined).
    flow: (buy − sell aggressor volume) / total over the last `flow_window_ns`, in [−1, 1] (0 if none).
    n: returns seen so far (features are warm once n >= window).
    """

    symbol: str
    recv_ns: int
    mid: float
    spread_bps: float
    imb_l1: float
    imb_l5: float
    imb_l20: float
    ret1: float
    ret_short: float
    trend: float
    vol: float
    zscore: float
    flow: float
    flow_volume: float
    n: int


class FeatureEngine:
    """Features of one instrument, updated by `on_book` (after each book update) and `on_trade`."""

    def __init__(self, instrument: Instrument, config: FeatureConfig | None = None) -> None:
        self.instrument = instrument
        self.key = instrument.key
        self._price_scale = instrument.price_scale
        self._size_scale = instrument.size_scale
        self.config = cfg = config or FeatureConfig()
        self.returns = Ring(cfg.window)
        self.starts = Ring(cfg.window)  # start time (s) of each return in `returns`
        self.logmid = Ring(cfg.window)  # log mid minus `_anchor`
        self.volumes = Ring(cfg.volume_window)
        self._anchor = 0.0
        self._prev_log = math.nan
        self._prev_s = 0.0
        self._t0 = -1
        self._sum_r = 0.0
        self._sum_r2 = 0.0
        self._sum_short = 0.0
        self._sum_x = 0.0
        self._sum_x2 = 0.0
        self._since_exact = 0
        self._n = 0
        self._flow: deque[tuple[int, float]] = deque()
        self._flow_window_ns = cfg.flow_window_ns
        self._flow_signed = 0.0
        self._flow_total = 0.0
        self.last: MarketFeatures | None = None

    # -- trades -----------------------------------------------------------------------------------
    def on_trade(self, t: Trade) -> None:
        """Fold one trade into the flow window and the volume history."""
        size = t.size / self._size_scale
        if not size >= 0.0:  # also catches NaN
            raise FeatureError(f"{self.key}: trade {t.trade_id} has negative size {t.size}")
        signed = size if t.side is Side.BUY else -size
        now = t.recv_ns
        flow = self._flow
        flow.append((now, signed))
        self._flow_signed += signed
        self._flow_total += size
        v = self.volumes  # `Ring.push(size)`, inlined (the volume history's leaving value is not needed)
        h, cap = v.head, v.capacity
        v.buf[h] = size
        v.buf[h + cap] = size
        h += 1
        v.head = 0 if h == cap else h
        if v.count < cap:
            v.count += 1
        if flow[0][0] <= now - self._flow_window_ns:  # (`_evict`'s test, inlined: most trades evict none)
            self._evict(now)

    def _evict(self, now_ns: int) -> None:
        cutoff = now_ns - self.config.flow_window_ns
        flow = self._flow
        if flow and flow[0][0] <= cutoff:
            while flow and flow[0][0] <= cutoff:
                _, s = flow.popleft()
                self._flow_signed -= s
                self._flow_total -= abs(s)
            if not flow:  # exact zero, no drift
                self._flow_signed = 0.0
                self._flow_total = 0.0

    # -- book -------------------------------------------------------------------------------------
    def on_book(self, book: OrderBook, recv_ns: int) -> MarketFeatures | None:
        """Fold one book state in; returns the features, or None while a side is empty."""
        bids, asks = book.bids, book.asks
        bk, ak = bids.keys, asks.keys  # sign·price ascending: the best level last on both sides
        if not bk or not ak:
            return None
        scale = self._price_scale
        bb, ba = bk[-1], -ak[-1]
        mid = (bb + ba) / (2 * scale)
        if not mid > 0.0:
            raise FeatureError(f"{self.key}: non-positive mid {mid!r} at {recv_ns}")
        spread_bps = (ba - bb) / scale / mid * 1e4
        # the top-20 sizes, worst first, in one C call per side (a 1-key itemgetter returns a scalar, not a tuple)
        bkt, akt = bk[-DEPTHS[2] :], ak[-DEPTHS[2] :]
        bq = itemgetter(*bkt)(bids.sizes) if len(bkt) > 1 else (bids.sizes[bkt[0]],)
        aq = itemgetter(*akt)(asks.sizes) if len(akt) > 1 else (asks.sizes[akt[0]],)
        b1, a1 = bq[-1], aq[-1]
        b5, a5 = sum(bq[-DEPTHS[1] :]), sum(aq[-DEPTHS[1] :])
        b20, a20 = sum(bq), sum(aq)
        imb1 = (b1 - a1) / (b1 + a1)
        imb5 = (b5 - a5) / (b5 + a5)
        imb20 = (b20 - a20) / (b20 + a20)

        cfg = self.config
        if self._t0 < 0:
            self._t0 = recv_ns
        now_s = (recv_ns - self._t0) * 1e-9  # seconds since the first update: exact enough for spans
        lm = math.log(mid)
        r = 0.0
        # the three rings are pushed inline (`Ring.push` semantics; returns and starts move in lockstep)
        rets = self.returns
        cap = rets.capacity
        if self._prev_log == self._prev_log:  # not NaN: we have a previous mid
            r = lm - self._prev_log
            h = rets.head
            rb, sb = rets.buf, self.starts.buf
            full = rets.count == cap
            old_r = rb[h] if full else 0.0
            rb[h] = r
            rb[h + cap] = r
            start = self._prev_s
            sb[h] = start
            sb[h + cap] = start
            h += 1
            rets.head = self.starts.head = 0 if h == cap else h
            if not full:
                rets.count = self.starts.count = rets.count + 1
            self._n += 1
            self._sum_r += r - old_r
            self._sum_r2 += r * r - old_r * old_r
            short = cfg.short
            self._sum_short += r - (rb[rets.head + cap - 1 - short] if rets.count > short else 0.0)
        else:
            self._anchor = lm
        self._prev_log = lm
        self._prev_s = now_s
        x = lm - self._anchor
        lr = self.logmid
        lcap = lr.capacity
        h = lr.head
        xb = lr.buf
        old_x = xb[h] if lr.count == lcap else 0.0
        xb[h] = x
        xb[h + lcap] = x
        h += 1
        lr.head = 0 if h == lcap else h
        if lr.count < lcap:
            lr.count += 1
        self._sum_x += x - old_x
        self._sum_x2 += x * x - old_x * old_x
        self._since_exact += 1
        if self._since_exact >= cfg.window:
            self._exact()

        n = rets.count
        vol = 0.0
        if n:
            span = now_s - self.starts.buf[self.starts.head + cap - n]  # `starts.ago(n - 1)`: the oldest start
            if span > 0.0:
                vol = math.sqrt(max(self._sum_r2, 0.0) / span * cfg.seconds_per_year)
        m = lr.count
        z = 0.0
        if m >= 2:
            mean = self._sum_x / m
            var = self._sum_x2 / m - mean * mean
            if var > 1e-300:
                z = (x - mean) / math.sqrt(var)
        fl = self._flow
        if fl and fl[0][0] <= recv_ns - self._flow_window_ns:
            self._evict(recv_ns)
        ft = self._flow_total
        flow = self._flow_signed / ft if ft > 0.0 else 0.0
        if flow > 1.0:
            flow = 1.0
        elif flow < -1.0:
            flow = -1.0
        f = MarketFeatures(
            self.key, recv_ns, mid, spread_bps, imb1, imb5, imb20, r, self._sum_short,
            self._sum_r, vol, z, flow, ft, self._n,
        )
        self.last = f
        return f

    def _exact(self) -> None:
        """Recompute every rolling sum from its window (kills float drift)."""
        self._since_exact = 0
        rv = self.returns.view()
        self._sum_r = float(rv.sum())
        self._sum_r2 = float(np.dot(rv, rv))
        s = min(self.config.short, rv.shape[0])
        self._sum_short = float(rv[rv.shape[0] - s :].sum())
        xv = self.logmid.view()
        self._sum_x = float(xv.sum())
        self._sum_x2 = float(np.dot(xv, xv))

    # -- windows for risk -------------------------------------------------------------------------
    def returns_window(self) -> npt.NDArray[np.float64]:
        """The last `window` mid log returns, oldest first (read-only view)."""
        return self.returns.view()

    def volumes_window(self) -> npt.NDArray[np.float64]:
        """The last `volume_window` trade sizes in base units, oldest first (read-only view)."""
        return self.volumes.view()
