"""The real BTCUSDT replay, run once per test session, with what the tests check against recorded on the way."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from kimera.book import OrderBook
from kimera.data.binance import load_binance_capture
from kimera.engine import BookUpdate, ReplayEngine
from kimera.features import FeatureEngine, MarketFeatures
from kimera.model import Instrument, Level, Trade
from kimera.risk import MarketState, RiskParams, market_state_from_book
from kimera.venues.registry import resolve_instrument
from tests.conftest import data_path

SAMPLE_EVERY = 97  # every 97th book update keeps a full copy of the book and a market state


@dataclass
class Sample:
    """One recorded moment: features, the whole book, windows and a risk market state."""

    index: int
    features: MarketFeatures
    bids: list[Level]
    asks: list[Level]
    returns: np.ndarray
    volumes: np.ndarray
    market: MarketState


@dataclass
class ReplayRecord:
    """Everything recorded from one pass over the capture."""

    instrument: Instrument
    feats: list[MarketFeatures] = field(default_factory=list)
    imbalance: list[tuple[float, float, float]] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    events: list[object] = field(default_factory=list)

    @property
    def mids(self) -> np.ndarray:
        return np.array([f.mid for f in self.feats])

    @property
    def times(self) -> np.ndarray:
        return np.array([f.recv_ns for f in self.feats], dtype=np.int64)


def capture_paths() -> list[str]:
    d = data_path("binance-spot-btcusdt-l2")
    return [str(d / "btcusdt_20240808.gz"), str(d / "btcusdt_20240809.gz")]


@functools.lru_cache(maxsize=1)
def btc_replay() -> ReplayRecord:
    """Replay both capture files through the engine with a feature engine attached."""
    events = list(load_binance_capture(capture_paths()))
    inst = resolve_instrument("BINANCE", "BTCUSDT")
    rec = ReplayRecord(inst, events=events)
    fe = FeatureEngine(inst)
    params = RiskParams()

    def on_book(u: BookUpdate) -> None:
        book: OrderBook = u.book
        f = fe.on_book(book, u.recv_ns)
        if f is None:
            return
        rec.feats.append(f)
        rec.imbalance.append((book.imbalance(1), book.imbalance(5), book.imbalance(20)))
        k = len(rec.feats) - 1
        if k % SAMPLE_EVERY == 0 and k > 0:
            bids, asks = book.depth(10**6)
            rec.samples.append(
                Sample(
                    k, f, bids, asks, fe.returns_window().copy(), fe.volumes_window().copy(),
                    market_state_from_book(book, fe, u.recv_ns, params),
                )
            )

    def on_trade(t: Trade) -> None:
        fe.on_trade(t)
        rec.trades.append(t)

    eng = ReplayEngine(resolve_instrument)
    eng.bus.subscribe(BookUpdate, on_book)
    eng.bus.subscribe(Trade, on_trade)
    summary = eng.run([events])
    assert summary.gaps == 0 and summary.diffs_applied > 6000, summary
    return rec
