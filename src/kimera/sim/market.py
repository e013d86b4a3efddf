"""A zero-intelligence order-flow market (after Smith-Farmer and Cont-Stoikov-Talreja).

Model: per side, limit orders arrive at distance k = 0..K-1 ticks behind the own-side best with Poisson
rate `limit_rate[k]`; each resting level is cancelled with rate `cancel_rate[k]` per average order size
queued there (so each queue decays at its rate, in fraction of the queue per second); market orders arrive with rate `market_rate` per side and walk the book. Order sizes are
log-normal (`limit_size`, `market_size`: mean and sd of log size in base units). A limit order at k = 0
inside the spread improves the price by one tick. Rates come from `kimera.sim.estimate` run on the
shared BTCUSDT capture and are embedded as JSON, so the demo needs no data on disk.
The output is the normalised events (snapshot, deltas with contiguous ids, trades) the real path uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from kimera.book import OrderBook
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Side, Trade

VENUE = "SIM"


def instrument(symbol: str = "BTCUSDT") -> Instrument:
    """Simulated instruments use Binance BTCUSDT's precision: tick 0.01, lot 0.00001."""
    return Instrument(VENUE, symbol, price_decimals=2, size_decimals=5, taker_fee=0.001, maker_fee=0.0008)


@dataclass
class SimParams:
    """Calibrated rates (per second) and log-normal size parameters (log of base-asset units)."""

    limit_rate: list[float]
    cancel_rate: list[float]
    market_rate: float
    limit_size: tuple[float, float]
    market_size: tuple[float, float]
    start_price: float
    tick: float = 0.01
    source: str = ""

    @classmethod
    def default(cls) -> SimParams:
        """The parameters estimated from the shared Binance BTCUSDT capture (embedded)."""
        text = resources.files("kimera.sim").joinpath("params_btcusdt.json").read_text()
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SimParams:
        """Validate and build from a JSON dict."""
        p = cls(
            limit_rate=[float(x) for x in d["limit_rate"]],
            cancel_rate=[float(x) for x in d["cancel_rate"]],
            market_rate=float(d["market_rate"]),
            limit_size=(float(d["limit_size"][0]), float(d["limit_size"][1])),
            market_size=(float(d["market_size"][0]), float(d["market_size"][1])),
            start_price=float(d["start_price"]),
            tick=float(d.get("tick", 0.01)),
            source=str(d.get("source", "")),
        )
        if len(p.limit_rate) != len(p.cancel_rate) or not p.limit_rate:
            raise ValueError("limit_rate and cancel_rate must be non-empty and of equal length")
        if min(p.limit_rate + p.cancel_rate + [p.market_rate]) < 0:
            raise ValueError("rates must be non-negative")
        return p


CLIP_SD = 2.5


def clipped_mean(mu: float, sd: float) -> float:
    """E[exp(mu + sd * min(Z, CLIP_SD))] for standard normal Z (the simulator's clipped size law)."""
    z = np.linspace(-8.0, 8.0, 4001)
    pdf = np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    return float(np.sum(np.exp(mu + sd * np.minimum(z, CLIP_SD)) * pdf) * (z[1] - z[0]))


class SimulatedMarket:
    """Generates a deterministic (seeded) stream of normalised events from the order-flow model."""

    def __init__(self, params: SimParams | None = None, seed: int = 7, symbol: str = "BTCUSDT",
                 venue: str = VENUE, start_ns: int = 1_723_161_600_000_000_000) -> None:
        self.p = params or SimParams.default()
        self.rng = np.random.default_rng(seed)
        self.inst = Instrument(venue, symbol, 2, 5, taker_fee=0.001, maker_fee=0.0008)
        self.book = OrderBook(self.inst)
        self.t_ns = start_ns
        self.uid = 0
        self.trade_id = 1
        self.K = len(self.p.limit_rate)
        self.lot = 1  # 0.00001 in size units
        self._lam = np.asarray(self.p.limit_rate, dtype=float)
        self._cr = np.asarray(self.p.cancel_rate, dtype=float)
        self._unit = clipped_mean(*self.p.limit_size)  # mean limit/cancel chunk, base units

    def _size(self, mu_sd: tuple[float, float]) -> int:
        # clipped at +2.5 sd: the real size law's far tail would let one order dominate a short run
        s = float(np.exp(mu_sd[0] + mu_sd[1] * min(float(self.rng.standard_normal()), CLIP_SD)))
        return max(self.lot, round(s * self.inst.size_scale))

    def _seed_book(self) -> BookSnapshot:
        tick = round(self.p.tick * self.inst.price_scale)
        mid = round(self.p.start_price * self.inst.price_scale / tick) * tick
        bids = [(mid - tick * (i + 1), self._size(self.p.limit_size) * 3) for i in range(self.K)]
        asks = [(mid + tick * i, self._size(self.p.limit_size) * 3) for i in range(self.K)]
        snap = BookSnapshot(self.inst.venue, self.inst.symbol, 0, bids, asks, self.t_ns, self.t_ns)
        self.book.apply_snapshot(snap)
        return snap

    def events(self, n_events: int) -> Iterator[Event]:
        """A snapshot, then `n_events` order-flow events (each a delta, plus trades for market orders)."""
        yield self._seed_book()
        tick = round(self.p.tick * self.inst.price_scale)
        rng = self.rng
        K = self.K
        lam_total = 2 * self._lam.sum()
        for _ in range(n_events):
            # cancel intensities depend on the current queue sizes near the top
            bids = self.book.bids.top(K)
            asks = self.book.asks.top(K)
            cb = np.array([self._cr[i] * q / (self._unit * self.inst.size_scale) for i, (_, q) in enumerate(bids)])
            ca = np.array([self._cr[i] * q / (self._unit * self.inst.size_scale) for i, (_, q) in enumerate(asks)])
            rates = np.array([lam_total, cb.sum(), ca.sum(), 2 * self.p.market_rate])
            total = rates.sum()
            self.t_ns += max(1, int(rng.exponential(1.0 / total) * 1e9))
            kind = rng.choice(4, p=rates / total)
            if kind == 0:
                yield from self._limit(rng, tick)
            elif kind in (1, 2):
                lv, w = (bids, cb) if kind == 1 else (asks, ca)
                i = int(rng.choice(len(lv), p=w / w.sum()))
                price, q = lv[i]
                if len(lv) <= 2:  # never empty a side completely
                    continue
                take = min(q, self._size(self.p.limit_size))
                yield self._delta(kind == 1, price, q - take)
            else:
                yield from self._market(Side.BUY if rng.random() < 0.5 else Side.SELL)

    def _limit(self, rng: np.random.Generator, tick: int) -> Iterator[Event]:
        is_bid = rng.random() < 0.5
        k = int(rng.choice(self.K, p=self._lam / self._lam.sum()))
        bb, ba = self.book.best_bid(), self.book.best_ask()
        assert bb is not None and ba is not None
        if is_bid:
            price = bb[0] - k * tick if k else min(bb[0] + tick, ba[0] - tick)
        else:
            price = ba[0] + k * tick if k else max(ba[0] - tick, bb[0] + tick)
        side = self.book.bids if is_bid else self.book.asks
        cur = side.size_at(price)
        yield self._delta(is_bid, price, cur + self._size(self.p.limit_size))

    def _market(self, side: Side) -> Iterator[Event]:
        left = self._size(self.p.market_size)
        book_side = self.book.asks if side is Side.BUY else self.book.bids
        while left > 0 and len(book_side) > 2:
            best = book_side.best()
            assert best is not None
            price, q = best
            take = min(q, left)
            left -= take
            self.trade_id += 1
            yield Trade(self.inst.venue, self.inst.symbol, self.trade_id, price, take, side, self.t_ns, self.t_ns)
            yield self._delta(side is Side.SELL, price, q - take)

    def _delta(self, is_bid: bool, price: int, size: int) -> BookDelta:
        self.uid += 1
        lv = [(price, size)]
        d = BookDelta(self.inst.venue, self.inst.symbol, self.uid, self.uid, lv if is_bid else [],
                      [] if is_bid else lv, self.t_ns, self.t_ns)
        self.book.apply_delta(d)
        return d
