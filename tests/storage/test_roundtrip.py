"""Exact round trip of every shared capture through the store, and replays from the store equal to
replays from the raw files (same books, same best bid/ask after every update)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from kimera.engine.books import BookUpdate
from kimera.engine.replay import ReplayEngine
from kimera.model import BookDelta, BookSnapshot, Event, Quote, Trade, format_fixed
from kimera.storage import TickStore, compact, connect
from kimera.storage.layout import live_parts
from kimera.venues.registry import resolve_instrument
from tests.storage.conftest import DATASETS, capture_events, capture_paths

NAMES = list(DATASETS)


def _stream(events: list[Event]) -> tuple[str, str]:
    keys = {(e.venue, e.symbol) for e in events}
    assert len(keys) == 1, keys
    return keys.pop()


@pytest.mark.parametrize("name", NAMES)
def test_every_event_read_back_equals_the_event_written(name: str, written_stores: dict[str, Path]) -> None:
    events = capture_events(name)
    root = written_stores[name]
    venue, symbol = _stream(events)
    assert len(live_parts(root)) > 1 or len(events) < 20_000  # many flush files, not one
    back = list(TickStore(root).events(venue, symbol))
    assert len(back) == len(events)
    assert Counter(type(e) for e in back) == Counter(type(e) for e in events)
    for i, (a, b) in enumerate(zip(back, events, strict=True)):
        assert a == b, f"event {i} differs: {a!r} != {b!r}"


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_survives_compaction(name: str, store_copy) -> None:  # type: ignore[no-untyped-def]
    events = capture_events(name)
    root = store_copy(name)
    before = len(live_parts(root))
    rep = compact(root, fsync=False)
    after = live_parts(root)
    days = {(p.kind, p.day) for p in after}
    assert len(after) == len(days) <= before  # one file per kind and day
    assert rep.files_out == rep.partitions
    assert list(TickStore(root).events(*_stream(events))) == events


def _bbo_trace(sources: list) -> tuple[list[tuple[int, int, object, object]], dict[str, object]]:  # type: ignore[type-arg]
    engine = ReplayEngine(resolve_instrument)
    trace: list[tuple[int, int, object, object]] = []
    engine.bus.subscribe(BookUpdate, lambda u: trace.append((u.recv_ns, u.update_id, u.book.best_bid(),
                                                               u.book.best_ask())))
    summary = engine.run(sources)
    books = {k: (sb.book.depth(10**9), sb.book.last_update_id, sb.trusted) for k, sb in engine.books.books.items()}
    d = summary.as_dict()
    d.pop("seconds")
    return trace, {"summary": d, "books": books}


@pytest.mark.parametrize("name", NAMES)
def test_replay_from_store_equals_replay_from_raw_files(name: str, written_stores: dict[str, Path]) -> None:
    raw_trace, raw_state = _bbo_trace([capture_events(name)])  # the loaders' events from the raw files
    venue, symbol = _stream(capture_events(name))
    st_trace, st_state = _bbo_trace([TickStore(written_stores[name]).events(venue, symbol)])
    assert len(raw_trace) > 400  # the replay really applied updates
    assert st_trace == raw_trace
    assert st_state == raw_state


def _raw_trades(paths: list[Path]) -> dict[int, tuple[str, str]]:
    """Trade id -> (price, qty) strings straight from the capture's JSON (independent of the loader)."""
    out: dict[int, tuple[str, str]] = {}
    for p in paths:
        for line in gzip.decompress(p.read_bytes()).splitlines():
            if b'"trade"' not in line:
                continue
            msg = json.loads(line.split(b" ", 1)[1])
            d = msg.get("data", msg)
            if d.get("e") == "trade":
                out[int(d["t"])] = (d["p"], d["q"])
    return out


@pytest.mark.parametrize("name", ["binance-spot", "binance-usdm"])
def test_decimals_in_metadata_reconstruct_the_exchange_strings(name: str, written_stores: dict[str, Path]) -> None:
    venue, symbol = _stream(capture_events(name))
    table = TickStore(written_stores[name]).read_table("trade", venue, symbol)
    pd = int(table.schema.metadata[b"kimera.price_decimals"])
    sd = int(table.schema.metadata[b"kimera.size_decimals"])
    raw = _raw_trades(capture_paths(name))
    ids = table.column("trade_id").to_pylist()
    assert sorted(ids) == sorted(raw)
    for tid, px, qty in zip(ids, table.column("price").to_pylist(), table.column("size").to_pylist(), strict=True):
        assert Decimal(format_fixed(px, pd)) == Decimal(raw[tid][0])
        assert Decimal(format_fixed(qty, sd)) == Decimal(raw[tid][1])


def test_days_split_at_utc_midnight(written_stores: dict[str, Path]) -> None:
    root = written_stores["binance-spot"]
    midnight = int(dt.datetime(2024, 8, 9, tzinfo=dt.UTC).timestamp()) * 10**9
    store = TickStore(root)
    for p in store.parts("quote"):
        recv = store.read_part(p).column("recv_ns").to_pylist()
        assert all((r < midnight) == (p.day == "2024-08-08") for r in recv), p.path
    assert {p.day for p in store.parts("quote")} == {"2024-08-08", "2024-08-09"}
    # a time window reads only what lies in it
    evs = list(store.events("BINANCE", "BTCUSDT", start_ns=midnight, end_ns=midnight + 10**9))
    expect = [e for e in capture_events("binance-spot") if midnight <= e.recv_ns < midnight + 10**9]
    assert evs == expect and evs


@pytest.mark.parametrize("name", ["binance-usdm", "lobster"])
def test_duckdb_views_give_the_events_values(name: str, written_stores: dict[str, Path]) -> None:
    events = capture_events(name)
    con = connect(written_stores[name])
    deltas = [e for e in events if isinstance(e, BookDelta)]
    trades = [e for e in events if isinstance(e, Trade)]
    quotes = [e for e in events if isinstance(e, Quote)]
    snaps = [e for e in events if isinstance(e, BookSnapshot)]
    got = con.execute("SELECT count(*), sum(last_update_id) FROM book_delta").fetchone()
    assert got == (len(deltas), sum(d.last_update_id for d in deltas))
    levels = con.execute("SELECT side, count(*), sum(price), sum(size), sum(price * level) FROM book_delta_levels "
                         "GROUP BY side ORDER BY side").fetchall()
    exp = []
    for side in ("ask", "bid"):
        lv = [(i, p, q) for d in deltas for i, (p, q) in enumerate(d.asks if side == "ask" else d.bids, 1)]
        if lv:
            exp.append((side, len(lv), sum(p for _, p, _ in lv), sum(q for _, _, q in lv), sum(p * i for i, p, _ in lv)))
    assert levels == exp
    got = con.execute("SELECT count(*), sum(price), sum(size), count(*) FILTER (WHERE side = 'BUY') FROM trade").fetchone()
    assert got == (len(trades), sum(t.price for t in trades) or None, sum(t.size for t in trades) or None,
                   sum(1 for t in trades if t.side == 1))
    got = con.execute("SELECT count(*), sum(bid_px), sum(ask_qty) FROM quote").fetchone()
    assert got == (len(quotes), sum(q.bid_px for q in quotes) or None, sum(q.ask_qty for q in quotes) or None)
    snap_rows = con.execute("SELECT bid_px, ask_sz FROM book_snapshot ORDER BY seq").fetchall()
    assert snap_rows == [([p for p, _ in s.bids], [q for _, q in s.asks]) for s in snaps]
    inst = resolve_instrument(*_stream(events))
    assert con.execute("SELECT price_decimals, size_decimals FROM instruments").fetchall() == [
        (inst.price_decimals, inst.size_decimals)]


def test_compression_stats_match_the_files_and_the_decoded_tables(written_stores: dict[str, Path]) -> None:
    from kimera.storage import compression_stats

    root = written_stores["binance-usdm"]
    store = TickStore(root)
    rows = compression_stats(root)
    assert [r.kind for r in rows] == ["book_delta", "book_snapshot", "quote", "trade"]
    for r in rows:
        table = store.read_table(r.kind)
        files = [p.path for p in store.parts(r.kind)]
        assert (r.venue, r.symbol, r.files, r.events) == ("BINANCE_USDM", "BTCUSDT", len(files), table.num_rows)
        # recorded at write time; the read-back table may carry extra validity bitmaps (a buffer layout detail)
        assert table.nbytes * 0.99 <= r.original_bytes <= table.nbytes
        assert r.compressed_bytes == sum(f.stat().st_size for f in files)
        assert r.ratio == pytest.approx(r.original_bytes / r.compressed_bytes)
        assert r.as_dict()["original_bytes"] == r.original_bytes
