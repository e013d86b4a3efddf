"""Geoids encoded from the real Binance BTCUSDT capture: signals that disagree about the same moment are
found in tension; identical signals never are."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kimera.book import BinanceSpotRule, SyncedBook
from kimera.cognition import ContradictionEngine, Geoid, GeoidEncoder
from kimera.cognition.features import FeatureTracker, MarketFeatures
from kimera.cognition.signals import BookPressure, MeanReversion, Momentum, TradeFlow
from kimera.model import BookDelta, BookSnapshot, Instrument, Trade

from ..conftest import data_path

INSTRUMENT = Instrument("BINANCE", "BTCUSDT", 8, 8)


def capture_events(path: Path) -> Iterator[Any]:
    """Events of one capture file, through the project's loader."""
    from kimera.data.binance import load_binance_capture

    yield from load_binance_capture([path], market="spot", symbol="BTCUSDT")


def moments(path: Path, every_s: float = 1.0) -> list[MarketFeatures]:
    """Replay the capture through a synced book; features once per `every_s` of receive time."""
    book = SyncedBook(INSTRUMENT, BinanceSpotRule())
    tracker = FeatureTracker(INSTRUMENT)
    out: list[MarketFeatures] = []
    step = int(every_s * 1e9)
    next_ts: int | None = None
    for ev in capture_events(path):
        if isinstance(ev, Trade):
            tracker.on_trade(ev)
        elif isinstance(ev, BookSnapshot):
            book.on_snapshot(ev)
        elif isinstance(ev, BookDelta):
            book.on_delta(ev)
            if not book.trusted:
                continue
            tracker.on_book(book.book, ev.recv_ns)
            next_ts = ev.recv_ns if next_ts is None else next_ts
            if ev.recv_ns >= next_ts:
                f = tracker.features(book.book, ev.recv_ns)
                if f is not None:
                    out.append(f)
                next_ts += step
    assert book.gaps == 0
    return out


@pytest.fixture(scope="module")
def features() -> list[MarketFeatures]:
    return moments(data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz"))


def test_features_are_sane(features: list[MarketFeatures]) -> None:
    assert len(features) > 200  # ~5 minutes of capture, one per second after a 30 s warm-up
    mids = np.array([f.mid for f in features])
    assert mids.min() > 55_000 and mids.max() < 70_000
    assert all(0 < f.spread_bps < 5 for f in features)
    assert all(-1 <= x <= 1 for f in features for x in (*f.imbalance, f.flow_imbalance))
    assert all(0 <= f.efficiency <= 1 and f.volatility_bps >= 0 for f in features)
    regimes = {GeoidEncoder().encode(f, Momentum()).symbolic_state["regime"] for f in features}
    assert regimes == {"trending", "ranging"}


def test_real_contradictions_and_none_between_identical_signals(features: list[MarketFeatures]) -> None:
    enc = GeoidEncoder()
    signals = [Momentum(), MeanReversion(), BookPressure(), TradeFlow(), Momentum(name="momentum_replica")]
    geoids: list[Geoid] = [enc.encode(f, s) for f in features for s in signals]
    assert all(g.embedding is not None and g.embedding.shape == (enc.dim,) for g in geoids)
    pairs = ContradictionEngine(backend="numpy").detect(geoids, 0.4)
    by_moment: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    for i, j, t in zip(pairs.i.tolist(), pairs.j.tolist(), pairs.tension.tolist(), strict=True):
        a, b = geoids[i].metadata, geoids[j].metadata
        if a["ts_ns"] == b["ts_ns"]:
            by_moment[a["ts_ns"]].append((a["signal"], b["signal"], t))
    same_moment = [p for ps in by_moment.values() for p in ps]
    # identical signals about the same moment never contradict each other
    assert not [p for p in same_moment if {p[0], p[1]} == {"momentum", "momentum_replica"}]
    # momentum and mean reversion disagreeing about a moment: every such moment is found, at T = 1/2
    clash = [(s, t) for s, t, _ in same_moment if {s, t} == {"momentum", "mean_reversion"}]
    opposite = 0
    for f in features:
        dm, dr = Momentum().direction(f), MeanReversion().direction(f)
        if dm * dr < 0:
            opposite += 1
    assert opposite >= 20 and len(clash) == opposite
    assert all(abs(t - 0.5) < 1e-6 for s, u, t in same_moment if {s, u} == {"momentum", "mean_reversion"})
    # the identical pair's tension is zero up to rounding
    g_m = [g for g in geoids if g.metadata["signal"] == "momentum"]
    g_r = [g for g in geoids if g.metadata["signal"] == "momentum_replica"]
    twin = ContradictionEngine(backend="numpy").detect([g_m[0], g_r[0]], 0.0)
    assert len(twin) == 1 and twin.tension[0] < 1e-12
