"""Column transforms of the stored format: exact for any int64 values, empty rows and sliced arrays."""

from __future__ import annotations

import pyarrow as pa
import pytest

from kimera.storage.codec import decode, encode, row_cumsum, row_delta
from kimera.storage.schema import to_table

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def test_row_delta_is_exactly_inverted_by_row_cumsum() -> None:
    rows = [[5, 3, 9], [], [I64_MAX, I64_MIN, 0, I64_MAX], [7], [], [I64_MIN, I64_MAX]]
    arr = pa.array(rows, pa.list_(pa.int64()))
    tails, firsts = row_delta(arr)
    assert firsts.to_pylist() == [5, None, I64_MAX, 7, None, I64_MIN]  # NULL: an empty row
    assert tails.to_pylist() == [[-2, 6], [], [1, I64_MIN, I64_MAX], [], [], [-1]]
    assert row_cumsum(tails, firsts).to_pylist() == rows
    assert row_cumsum(tails, firsts, 3).to_pylist() == [[(x * 3 + 2**63) % 2**64 - 2**63 for x in r] for r in rows]
    sliced = arr.slice(2, 3)  # offsets not starting at 0
    assert row_cumsum(*row_delta(sliced)).to_pylist() == rows[2:5]
    empty = pa.array([[], []], pa.list_(pa.int64()))
    assert row_cumsum(*row_delta(empty)).to_pylist() == [[], []]
    none = pa.array([], pa.list_(pa.int64()))
    assert row_cumsum(*row_delta(none)).to_pylist() == []
    with pytest.raises(ValueError, match="damaged"):  # a non-empty tail needs a first value
        row_cumsum(tails, pa.array([None] * 6, pa.int64()))


def test_encoded_book_rows_decode_to_the_same_levels() -> None:
    from kimera.model import BookDelta

    evs = [BookDelta("V", "S", 1, 2, [(6_000_000, 1_000), (5_999_000, 0)], [], 10, 11, 0, None),
           BookDelta("V", "S", 3, 4, [], [(6_001_000, 3_000), (I64_MAX - 1000, 2_000)], 12, 13, 2, 5),
           BookDelta("V", "S", 5, 5, [], [], 14, 15, 4, None)]
    table = to_table("book_delta", "V", "S", [0, 1, 2], evs)
    stored = encode("book_delta", table)
    assert stored.column("px_scale")[0].as_py() == 1  # I64_MAX - 1000 is odd
    assert decode("book_delta", stored).equals(table)
    stored2 = encode("book_delta", table.slice(0, 1))
    assert stored2.column("px_scale")[0].as_py() == 1_000  # the slice alone
    assert stored2.column("bid_px").to_pylist() == [[-1]] and stored2.column("bid_px_first").to_pylist() == [6_000]
    assert stored2.column("ask_px_first").to_pylist() == [None]
    assert decode("book_delta", stored2).equals(table.slice(0, 1))


def _deltas(n: int, big: bool = False, venue: str = "V", symbol: str = "S") -> list:  # type: ignore[type-arg]
    from kimera.model import BookDelta

    far = 2**40 if big else 7_000_000
    return [BookDelta(venue, symbol, i, i, [(6_000_000 - 1_000 * i, 0), (5_999_000, 3_000 * i)],
                      [(6_001_000, 0), *([(far, 3_000)] if i == n - 2 else [])] if i % 3 else [], 10**6 * i,
                      10**6 * i + 7, i - 1,
                      None) for i in range(n)]


def test_zero_sizes_null_exchange_clock_scaled_and_int32_levels_round_trip() -> None:
    from kimera.storage.codec import NARROW_LEVELS

    evs = _deltas(7)
    table = to_table("book_delta", "V", "S", list(range(7)), evs)
    stored = encode("book_delta", table)
    assert stored.column("ts_scale")[0].as_py() == 10**6
    assert stored.column("exchange_ns").to_pylist() == list(range(7))
    assert stored.schema.field("bid_sz").type == NARROW_LEVELS and stored.schema.field("ask_px").type == NARROW_LEVELS
    assert stored.column("bid_sz")[0].as_py() == [None, None] and stored.column("bid_sz")[2].as_py() == [None, 2]
    assert decode("book_delta", stored).equals(table)
    for a, b in ((0, 3), (2, 5), (4, 7)):  # slices: offsets of lists and of validity bitmaps not at 0
        assert decode("book_delta", encode("book_delta", table.slice(a, b - a))).equals(table.slice(a, b - a))
        assert decode("book_delta", stored.slice(0, b)).equals(table.slice(0, b))  # a stored prefix
    wide = to_table("book_delta", "V", "S", list(range(7)), _deltas(7, big=True))
    stored = encode("book_delta", wide)
    assert stored.schema.field("ask_px").type == pa.list_(pa.int64())  # (2**40 - 6_001_000) / 8 does not fit int32
    assert stored.schema.field("bid_px").type == NARROW_LEVELS
    assert decode("book_delta", stored).equals(wide)


def test_a_row_group_wider_than_the_files_int32_columns_makes_compaction_retry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kimera.storage import TickStore, TickWriter, compact
    from kimera.storage.codec import LevelsTooWide

    evs = _deltas(40, big=True, venue="LOBSTER", symbol="AAPL")
    try:
        encode("book_delta", to_table("book_delta", "V", "S", list(range(40)), _deltas(40, big=True)),
               narrow=["ask_px"])
        raise AssertionError("expected LevelsTooWide")
    except LevelsTooWide:
        pass
    with TickWriter(tmp_path, flush_events=20, flush_seconds=None, fsync=False) as w:
        w.write_many(evs)
    compact(tmp_path, fsync=False, row_group_rows=20)  # first row group fits int32, the last one does not
    assert list(TickStore(tmp_path).events("LOBSTER", "AAPL")) == evs


def test_every_price_size_and_clock_column_has_exactly_one_scale() -> None:
    from kimera.storage.codec import SCALES, TIME_COLUMNS, scale_of
    from kimera.storage.schema import KINDS, PRICE_COLUMNS, SIZE_COLUMNS

    for kind in KINDS:
        scaled = [c for cols in SCALES[kind].values() for c in cols]
        assert sorted(scaled) == sorted({*PRICE_COLUMNS[kind], *SIZE_COLUMNS[kind], *TIME_COLUMNS[kind]}), kind
        assert all(scale_of(kind, c) == "px_scale" for c in PRICE_COLUMNS[kind])
        assert all(scale_of(kind, c) == "ts_scale" for c in TIME_COLUMNS[kind])
        assert scale_of(kind, "recv_ns") is None and scale_of(kind, "seq") is None
