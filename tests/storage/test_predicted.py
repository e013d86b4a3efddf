"""Format 4: values the previous row predicts are stored as NULL, first level prices in a column of their own,
rare odd level sizes stored raw under a negative scale. Every test checks the stored columns against facts
computed here from the events, and the round trip (numpy reader and DuckDB views) against the events."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kimera.model import Bar, BookDelta, BookSnapshot, Quote, Side, Trade
from kimera.storage import TickStore, TickWriter, compact, connect
from kimera.storage.codec import decode, encode
from kimera.storage.layout import live_parts
from kimera.storage.schema import KINDS, SCHEMAS, from_table, to_table

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
V, S = "LOBSTER", "AAPL"


def _quotes(n: int, px_unit: int = 1_000, sz_unit: int = 100, t0: int = 10**9) -> list[Quote]:
    # sizes repeat in runs of 1-3 rows (bid) and 2 rows (ask): what the encoder must turn into NULLs
    return [Quote(V, S, 7 + i, px_unit * (500 + i // 4), sz_unit * (1 + (i * i) // 3 % 5), px_unit * (501 + i // 5),
                  sz_unit * (3 + i // 2), 0, t0 + 1_000 * i) for i in range(n)]


def _trades(n: int, px_unit: int = 1_000, t0: int = 10**9) -> list[Trade]:
    return [Trade(V, S, i, px_unit * (700 + (i // 3) % 4), 10 * (i % 7 + 1), Side.BUY if i % 2 else Side.SELL,
                  t0 + 10**6 * i, t0 + 10**6 * i + 5) for i in range(n)]


def _chain(n: int, t0: int = 10**9) -> list[BookDelta]:
    """Deltas chained like Binance spot (U = previous u + 1) and USD-M (pu = previous u), with two breaks."""
    out, last = [], 100
    for i in range(n):
        first = last + (5 if i == 4 else 1)  # a gap at row 4
        lst = first + i % 3
        pu = 42 if i == 6 else last  # a wrong pu at row 6
        out.append(BookDelta(V, S, first, lst, [(10_000 - i, i % 2 * 5), (9_990, 1)] if i % 4 else [],
                             [(10_010 + i, 3)], t0 + i, t0 + i + 1, pu, None))
        last = lst
    return out


def _stored(kind: str, events: list[Any]) -> pa.Table:
    return encode(kind, to_table(kind, V, S, list(range(len(events))), events))


def _round_trip(kind: str, events: list[Any]) -> None:
    table = to_table(kind, V, S, list(range(len(events))), events)
    back = decode(kind, encode(kind, table))
    assert back.equals(table)
    assert from_table(kind, back) == events


def test_quote_sizes_equal_to_the_previous_row_are_stored_as_null() -> None:
    qs = _quotes(30)
    st = _stored("quote", qs)
    for col in ("bid_qty", "ask_qty"):
        vals = [getattr(q, col) for q in qs]
        scale = st.column("sz_scale")[0].as_py()
        want = [None if i and vals[i] == vals[i - 1] else vals[i] // scale for i in range(len(vals))]
        assert st.column(col).to_pylist() == want
        assert 0 < st.column(col).null_count < len(qs) - 1
    assert st.column("sz_scale")[0].as_py() == 100
    _round_trip("quote", qs)


def test_trades_are_stored_as_they_are() -> None:
    ts = _trades(25)
    st = _stored("trade", ts)
    assert st.column("price").to_pylist() == [t.price // 1_000 for t in ts] and st.column("price").null_count == 0
    _round_trip("trade", ts)


def test_chained_update_ids_are_stored_as_null_and_breaks_as_values() -> None:
    ds = _chain(10)
    st = _stored("book_delta", ds)
    first = st.column("first_update_id").to_pylist()
    prev = st.column("prev_update_id").to_pylist()
    assert first[0] == ds[0].first_update_id and prev[0] == ds[0].prev_update_id  # nothing before row 0
    assert [i for i, v in enumerate(first) if v is not None] == [0, 4]
    assert [i for i, v in enumerate(prev) if v is not None] == [0, 6]
    assert first[4] == ds[4].first_update_id and prev[6] == 42
    assert st.column("last_update_id").null_count == 0
    _round_trip("book_delta", ds)


def test_chain_across_an_int64_overflow_is_not_predicted() -> None:
    ds = [BookDelta(V, S, 1, I64_MAX, [], [], 1, 2, I64_MIN, None),
          BookDelta(V, S, I64_MIN, 5, [], [], 3, 4, I64_MAX, None)]  # I64_MAX + 1 wraps to I64_MIN in numpy
    st = _stored("book_delta", ds)
    assert st.column("first_update_id").to_pylist() == [1, I64_MIN]
    assert st.column("prev_update_id").to_pylist() == [I64_MIN, None]  # == previous last, no arithmetic
    _round_trip("book_delta", ds)


def test_first_level_prices_have_their_own_column() -> None:
    ds = _chain(6)
    st = _stored("book_delta", ds)
    assert st.column("bid_px_first").to_pylist() == [None if not d.bids else d.bids[0][0] for d in ds]
    assert st.column("bid_px").to_pylist() == [[d.bids[1][0] - d.bids[0][0]] if d.bids else [] for d in ds]
    assert st.column("ask_px").to_pylist() == [[]] * 6  # one level per row: nothing but the first
    _round_trip("book_delta", ds)


EMPTY_AND_ONE: dict[str, Any] = {
    "book_snapshot": BookSnapshot(V, S, 9, [(100, 1), (99, 0)], [(101, 2)], 5, 6, 77),
    "book_delta": BookDelta(V, S, 3, 4, [], [(I64_MAX, I64_MIN)], I64_MIN, I64_MAX, -1, None),
    "quote": Quote(V, S, 1, I64_MIN, I64_MAX, I64_MAX, 0, 0, 1),
    "trade": Trade(V, S, I64_MAX, I64_MIN, 0, Side.BUY, 0, -1),
    "bar": Bar(V, S, 1, 3, 0, 2, 10, 0, 60, 61),
}


@pytest.mark.parametrize("kind", KINDS)
def test_empty_and_single_row_tables_round_trip(kind: str) -> None:
    empty = SCHEMAS[kind].empty_table()
    assert decode(kind, encode(kind, empty)).equals(empty)
    _round_trip(kind, [EMPTY_AND_ONE[kind]])


def test_a_stored_file_whose_predicted_first_row_is_null_is_refused() -> None:
    st = _stored("quote", _quotes(5))
    damaged = st.slice(1)  # row 1's ask_qty repeats row 0's: NULL, and nothing before it
    assert damaged.column("ask_qty")[0].as_py() is None
    with pytest.raises(ValueError, match="damaged"):
        decode("quote", damaged)


def _view_rows(con: Any, kind: str) -> list[dict[str, Any]]:
    cols = ", ".join(SCHEMAS[kind].names)
    return con.sql(f"SELECT {cols} FROM {kind} ORDER BY seq").to_arrow_table().to_pylist()


def test_compacted_row_groups_with_different_scales_round_trip(tmp_path: Path) -> None:
    """Flush files with different divisors merged into one file of several row groups: each row group has
    its own scales and predictions (its first row is never NULL); reader and SQL give the events back."""
    evs: list[Any] = []
    for k, unit in enumerate((1_000, 7, 1_000, 1)):
        t0 = 10**9 + k * 10**8
        evs += _quotes(40, px_unit=unit, sz_unit=unit * 10, t0=t0) + _trades(15, px_unit=unit, t0=t0) + _chain(12, t0)
    with TickWriter(tmp_path, flush_events=67, flush_seconds=None, fsync=False) as w:
        w.write_many(evs)
    assert len(live_parts(tmp_path, "quote")) == 4
    compact(tmp_path, fsync=False, row_group_rows=35)
    (qpart,) = live_parts(tmp_path, "quote")
    pf = pq.ParquetFile(qpart.path)
    assert pf.metadata.num_row_groups >= 4
    scales = {pf.read_row_group(i).column("px_scale")[0].as_py() for i in range(pf.metadata.num_row_groups)}
    assert scales == {1_000, 7, 1}
    for i in range(pf.metadata.num_row_groups):
        rg = pf.read_row_group(i)
        assert all(rg.column(c)[0].is_valid for c in ("bid_qty", "ask_qty")), i
        assert rg.column("bid_qty").null_count > 0
    assert list(TickStore(tmp_path).events(V, S)) == evs
    con = connect(tmp_path)
    store = TickStore(tmp_path)
    for kind in ("quote", "trade", "book_delta"):
        assert _view_rows(con, kind) == store.read_table(kind).to_pylist(), kind


def test_a_writer_that_dies_leaves_files_that_decode_alone(tmp_path: Path) -> None:
    """Without close (a crash) the buffered tail is lost; every flushed file decodes on its own, as a prefix."""
    evs: list[Any] = _quotes(50) + _chain(20)
    w = TickWriter(tmp_path, flush_events=13, flush_seconds=None, fsync=False)
    w.write_many(evs)
    assert w.pending == len(evs) % 13
    store = TickStore(tmp_path)
    for part in live_parts(tmp_path):
        t = store.read_part(part)
        seqs = t.column("seq").to_pylist()
        assert from_table(part.kind, t) == [evs[s] for s in seqs]
    back = list(store.events(V, S))
    assert back == evs[: len(evs) - len(evs) % 13]


@pytest.mark.parametrize("name", ["binance-spot", "binance-usdm"])
def test_duckdb_views_equal_the_reader_on_every_column(name: str, written_stores: dict[str, Path]) -> None:
    """The SQL restoration (window functions, list lambdas) against the numpy one, on the real captures."""
    con = connect(written_stores[name])
    store = TickStore(written_stores[name])
    for kind in ("book_delta", "quote", "trade"):
        table = store.read_table(kind)
        assert table.column("seq").to_pylist() == sorted(table.column("seq").to_pylist())
        got = con.sql(f"SELECT {', '.join(SCHEMAS[kind].names)} FROM {kind} ORDER BY seq").to_arrow_table()
        for col in SCHEMAS[kind].names:
            if col in ("venue", "symbol", "side"):
                continue
            assert got.column(col).to_pylist() == table.column(col).to_pylist(), (kind, col)


def _lots(n_rows: int, odd: dict[int, int], unit: int = 1_000) -> list[BookDelta]:
    """Deltas whose level sizes are multiples of `unit` except the sizes in `odd` (flat level index -> size)."""
    out = []
    for i in range(n_rows):
        asks = []
        for k in range(4):
            j = 4 * i + k
            asks.append((20_000 + k, odd.get(j, unit * (1 + (j * 7) % 13) if j % 3 else 0)))
        out.append(BookDelta(V, S, i, i, [(19_999, unit * 3)], asks, i, i + 1, i - 1, None))
    return out


def test_a_few_odd_level_sizes_do_not_spoil_the_divisor() -> None:
    ds = _lots(1_000, {5: 1_234, 601: 7})  # 2 of 2,667 non-zero ask sizes are not multiples of 1000
    st = _stored("book_delta", ds)
    assert st.column("sz_scale")[0].as_py() == -1_000  # negative: negative stored values are raw
    flat = [q for d in ds for _, q in d.asks]
    want = [None if q == 0 else -q if q % 1_000 else q // 1_000 for q in flat]
    assert st.column("ask_sz").combine_chunks().flatten().to_pylist() == want
    assert st.column("bid_sz").to_pylist()[:2] == [[3], [3]]  # bids: all multiples, divided the same way
    _round_trip("book_delta", ds)


@pytest.mark.parametrize("odd", [{j: 1_001 + j for j in range(0, 40, 2)}, {5: -1_000}, {}])
def test_odd_sizes_fall_back_to_the_plain_divisor(odd: dict[int, int]) -> None:
    """Too many odd sizes (> 0.1%), a negative size, or none: the scale is the GCD, positive."""
    ds = _lots(300, odd)
    st = _stored("book_delta", ds)
    flat = [q for d in ds for lv in (d.bids, d.asks) for _, q in lv]
    assert st.column("sz_scale")[0].as_py() == math.gcd(*flat)
    _round_trip("book_delta", ds)


def test_row_groups_with_and_without_odd_sizes_compact_and_query(tmp_path: Path) -> None:
    evs: list[Any] = _lots(1_000, {7: 3}) + _lots(1_000, {}, unit=10) + _lots(1_000, {11: 5, 700: 9}, unit=100)
    evs = [BookDelta(V, S, i, i, d.bids, d.asks, i, 10**9 + i, i - 1, None) for i, d in enumerate(evs)]
    with TickWriter(tmp_path, flush_events=1_000, flush_seconds=None, fsync=False) as w:
        w.write_many(evs)
    compact(tmp_path, fsync=False, row_group_rows=1_000)
    (part,) = live_parts(tmp_path, "book_delta")
    pf = pq.ParquetFile(part.path)
    assert [pf.read_row_group(i).column("sz_scale")[0].as_py() for i in range(3)] == [-1_000, 10, -100]
    assert list(TickStore(tmp_path).events(V, S)) == evs
    assert _view_rows(connect(tmp_path), "book_delta") == TickStore(tmp_path).read_table("book_delta").to_pylist()
