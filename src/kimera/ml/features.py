"""Causal order-book and trade features, computed incrementally from the live book and the trade tape.

One `FeatureState` serves both training (sampled on a clock grid during replay) and live use
(`kimera.ml.signal.MLSignal`), so the model sees exactly the numbers it was trained on. Features at
time t depend only on the book and trades received at or before t; asking for an earlier time than an
event already fed is an error, which is what makes look-ahead impossible rather than merely unlikely.
"""

from __future__ import annotations

import math

import numpy as np

from kimera.book import OrderBook
from kimera.ml.windows import AsOfHistory, WindowSums
from kimera.model import Side, Trade

MS = 1_000_000
IMBALANCE_LEVELS = (1, 3, 5, 10, 20)
RETURN_LAGS_MS = (500, 1_000, 2_000, 5_000, 10_000, 30_000)
OFI_WINDOWS_MS = (1_000, 5_000)
TRADE_WINDOWS_MS = (1_000, 5_000)
VOL_WINDOWS_MS = (5_000, 30_000)
WARMUP_MS = max(*RETURN_LAGS_MS, *OFI_WINDOWS_MS, *TRADE_WINDOWS_MS, *VOL_WINDOWS_MS)

FEATURE_NAMES: tuple[str, ...] = (
    *(f"imbalance_{n}" for n in IMBALANCE_LEVELS),
    "spread_bps",
    *(f"return_{ms}ms_bps" for ms in RETURN_LAGS_MS),
    *(f"ofi_{ms}ms" for ms in OFI_WINDOWS_MS),
    *(f"trade_imbalance_{ms}ms" for ms in TRADE_WINDOWS_MS),
    "trade_count_5000ms_log",
    *(f"volatility_{ms}ms_bps" for ms in VOL_WINDOWS_MS),
    "mid_age_ms_log",
)
N_FEATURES = len(FEATURE_NAMES)


class LookAheadError(ValueError):
    """Features were asked for a time before an event that has already been fed."""


class FeatureState:
    """Incremental feature state: feed every book update and trade in time order, then ask `vector(t)`.

    Mid prices are kept as `bid + ask` (twice the mid) in integer price units, so returns and
    realised volatility are exact functions of the fixed-point book. Order-flow imbalance is the
    Cont-Kukanov-Stoikov best-level OFI, summed over a window and divided by the summed |OFI|.
    """

    def __init__(self) -> None:
        self.first_ns: int | None = None
        self.last_event_ns = -(2**62)
        self.last_change_ns = 0
        self._prev: tuple[int, int, int, int] | None = None  # bid px, bid qty, ask px, ask qty
        self._mids = AsOfHistory(max(RETURN_LAGS_MS) * MS)
        self._ofi = [WindowSums(ms * MS, 2) for ms in OFI_WINDOWS_MS]
        self._trades = [WindowSums(ms * MS, 3) for ms in TRADE_WINDOWS_MS]  # buy size, sell size, count
        self._vol = [WindowSums(ms * MS, 1) for ms in VOL_WINDOWS_MS]
        self._count_window = TRADE_WINDOWS_MS.index(5_000)

    # -- feeding -----------------------------------------------------------------------------------
    def _clock(self, t_ns: int) -> None:
        if t_ns < self.last_event_ns:
            raise ValueError(f"events must arrive in time order: {t_ns} < {self.last_event_ns}")
        self.last_event_ns = t_ns

    def on_book(self, book: OrderBook, recv_ns: int) -> None:
        """Record the book after an update received at `recv_ns` (call it after every applied update)."""
        bb, ba = book.best_bid(), book.best_ask()
        if bb is None or ba is None:
            return  # a one-sided book has no mid: nothing to record
        self._clock(recv_ns)
        s = bb[0] + ba[0]
        prev = self._prev
        if prev is None:
            self.first_ns = recv_ns
            self.last_change_ns = recv_ns
            self._mids.append(recv_ns, s)
        else:
            pb, qb, pa, qa = prev
            e = 0
            if bb[0] >= pb:
                e += bb[1]
            if bb[0] <= pb:
                e -= qb
            if ba[0] <= pa:
                e -= ba[1]
            if ba[0] >= pa:
                e += qa
            if e:
                pair = (e, abs(e))
                for w in self._ofi:
                    w.push(recv_ns, pair)
            ds = s - (pb + pa)
            if ds:
                sq = (ds * ds,)
                for w in self._vol:
                    w.push(recv_ns, sq)
                self._mids.append(recv_ns, s)
                self.last_change_ns = recv_ns
        self._prev = (bb[0], bb[1], ba[0], ba[1])

    def on_trade(self, trade: Trade) -> None:
        """Record one print (aggressor side and size) at its receive time."""
        self._clock(trade.recv_ns)
        buy = trade.size if trade.side is Side.BUY else 0
        vals = (buy, trade.size - buy, 1)
        for w in self._trades:
            w.push(trade.recv_ns, vals)

    # -- reading ------------------------------------------------------------------------------------
    def ready(self, now_ns: int) -> bool:
        """True once the longest lookback (WARMUP_MS) is covered by recorded book history."""
        return self.first_ns is not None and now_ns - self.first_ns >= WARMUP_MS * MS

    def vector(self, now_ns: int, book: OrderBook) -> np.ndarray:
        """The feature vector (FEATURE_NAMES order, float64) at `now_ns` from the current book.

        Raises `LookAheadError` if an event after `now_ns` was already fed, ValueError before warm-up.
        """
        if now_ns < self.last_event_ns:
            raise LookAheadError(f"features asked at {now_ns} but events up to {self.last_event_ns} were fed")
        if not self.ready(now_ns):
            raise ValueError(f"not warmed up: need {WARMUP_MS} ms of book history before {now_ns}")
        bids, asks = book.depth(IMBALANCE_LEVELS[-1])
        if not bids or not asks:
            raise ValueError("the book has an empty side")
        s = bids[0][0] + asks[0][0]
        out: list[float] = []
        bq = aq = 0
        lv = 0
        for n in IMBALANCE_LEVELS:
            while lv < n:
                if lv < len(bids):
                    bq += bids[lv][1]
                if lv < len(asks):
                    aq += asks[lv][1]
                lv += 1
            out.append((bq - aq) / (bq + aq) if bq + aq else 0.0)
        out.append((asks[0][0] - bids[0][0]) * 2e4 / s)
        for ms in RETURN_LAGS_MS:
            then = self._mids.asof(now_ns - ms * MS)
            out.append(math.log(s / then) * 1e4 if then else 0.0)
        for w in self._ofi:
            e, ae = w.advance(now_ns)
            out.append(e / ae if ae else 0.0)
        count = 0
        for i, w in enumerate(self._trades):
            buy, sell, n_trades = w.advance(now_ns)
            out.append((buy - sell) / (buy + sell) if buy + sell else 0.0)
            if i == self._count_window:
                count = n_trades
        out.append(math.log1p(count))
        for w in self._vol:
            (sq,) = w.advance(now_ns)
            out.append(math.sqrt(sq) * 1e4 / s)
        out.append(math.log1p((now_ns - self.last_change_ns) / MS))
        return np.array(out, dtype=np.float64)
