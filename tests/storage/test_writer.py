"""TickWriter flush bounds, resumption, compaction leftovers, and recording from an async stream."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from kimera.model import Trade
from kimera.storage import TickStore, TickWriter, compact, paced, record
from kimera.storage.layout import live_parts, partitions
from tests.storage.conftest import capture_events


class StepClock:
    """A clock the test moves by hand (the writer's time source, injected)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_flush_after_n_events_bounds_what_is_buffered(tmp_path: Path) -> None:
    events = capture_events("binance-usdm")[:10_000]
    w = TickWriter(tmp_path, flush_events=3000, flush_seconds=None, fsync=False)
    for i, ev in enumerate(events, 1):
        w.write(ev)
        assert w.pending == i % 3000
    assert w.stats.flushes == 3
    on_disk = list(TickStore(tmp_path).events("BINANCE_USDM", "BTCUSDT"))
    assert on_disk == events[:9000]  # the 1,000 buffered events are the only ones not yet on disk
    w.close()
    assert list(TickStore(tmp_path).events("BINANCE_USDM", "BTCUSDT")) == events


def test_flush_after_t_seconds_bounds_what_is_buffered(tmp_path: Path) -> None:
    events = capture_events("binance-usdm")[:500]
    clock = StepClock()
    w = TickWriter(tmp_path, flush_events=10**9, flush_seconds=2.0, fsync=False, clock=clock)
    w.write_many(events[:100])
    assert w.pending == 100 and not live_parts(tmp_path)
    clock.now = 1.9
    assert not w.maybe_flush()
    clock.now = 2.0
    assert w.maybe_flush() and w.pending == 0
    assert list(TickStore(tmp_path).events("BINANCE_USDM", "BTCUSDT")) == events[:100]
    w.write_many(events[100:300])
    clock.now = 4.5  # the next write sees the interval has passed and flushes itself
    w.write(events[300])
    assert w.pending == 0
    assert list(TickStore(tmp_path).events("BINANCE_USDM", "BTCUSDT")) == events[:301]


def test_a_new_writer_continues_the_stream(tmp_path: Path) -> None:
    events = capture_events("binance-spot")[:6000]
    with TickWriter(tmp_path, flush_events=1000, fsync=False) as w:
        w.write_many(events[:2500])
    with TickWriter(tmp_path, flush_events=1000, fsync=False) as w:
        w.write_many(events[2500:])
    assert list(TickStore(tmp_path).events("BINANCE", "BTCUSDT")) == events
    compact(tmp_path, fsync=False)
    assert list(TickStore(tmp_path).events("BINANCE", "BTCUSDT")) == events


def test_crash_between_compaction_rename_and_delete_leaves_no_duplicates(store_copy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = store_copy("binance-usdm")
    inputs = [p for p in live_parts(root) if p.kind == "quote"]
    assert len(inputs) > 1
    saved = tmp_path / "saved"
    saved.mkdir()
    for p in inputs:
        shutil.copy(p.path, saved / p.path.name)
    compact(root, fsync=False)
    # put the inputs back, as if the compactor had died after its rename and before its deletes
    for p in inputs:
        shutil.copy(saved / p.path.name, p.path)
    part = next(x for x in partitions(root, "quote"))
    assert len(part.live) == 1 and len(part.superseded) == len(inputs)
    events = capture_events("binance-usdm")
    assert list(TickStore(root).events("BINANCE_USDM", "BTCUSDT")) == events
    rep = compact(root, fsync=False)
    assert rep.removed_superseded == len(inputs) and rep.partitions == 0
    assert list(TickStore(root).events("BINANCE_USDM", "BTCUSDT")) == events


def test_record_from_a_paced_capture_stops_at_the_time_limit(tmp_path: Path) -> None:
    events = capture_events("binance-spot")
    w = TickWriter(tmp_path, flush_events=10**9, flush_seconds=0.2, fsync=False)
    summary = asyncio.run(record(paced(events, speed=5.0), w, seconds=1.0))
    assert summary.stopped == "time limit"
    assert 0 < summary.events < len(events)
    assert summary.files > 1  # flushed by time, not only at the end
    assert list(TickStore(tmp_path).events("BINANCE", "BTCUSDT")) == events[: summary.events]


def test_record_filters_venue_and_symbol(tmp_path: Path) -> None:
    events = capture_events("binance-usdm")[:3000]
    mixed = sorted(events + capture_events("lobster"), key=lambda e: e.recv_ns)
    w = TickWriter(tmp_path, fsync=False)
    summary = asyncio.run(record(paced(mixed), w, venue="BINANCE_USDM", symbol="BTCUSDT"))
    assert summary.stopped == "end of stream"
    assert (summary.events, summary.skipped) == (3000, len(mixed) - 3000)
    assert TickStore(tmp_path).streams() == [("BINANCE_USDM", "BTCUSDT")]
    assert list(TickStore(tmp_path).events("BINANCE_USDM", "BTCUSDT")) == events


def test_multiple_streams_are_kept_apart(tmp_path: Path) -> None:
    a = capture_events("binance-usdm")[:2000]
    b = capture_events("lobster")
    with TickWriter(tmp_path, flush_events=700, fsync=False) as w:
        for x, y in zip(a, b, strict=False):
            w.write(x)
            w.write(y)
        w.write_many(a[len(b):])
    st = TickStore(tmp_path)
    assert st.streams() == [("BINANCE_USDM", "BTCUSDT"), ("LOBSTER", "AAPL")]
    assert list(st.events("BINANCE_USDM", "BTCUSDT")) == a
    assert list(st.events("LOBSTER", "AAPL")) == b
    assert st.decimals("LOBSTER", "AAPL") == (4, 0)
    trades = st.read_table("trade")
    assert set(trades.column("venue").to_pylist()) == {"BINANCE_USDM", "LOBSTER"}
    assert trades.num_rows == sum(isinstance(e, Trade) for e in a + b)


def test_writer_rejects_bad_configuration(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flush_events"):
        TickWriter(tmp_path, flush_events=0)
    with pytest.raises(ValueError, match="flush_seconds"):
        TickWriter(tmp_path, flush_seconds=-1)
