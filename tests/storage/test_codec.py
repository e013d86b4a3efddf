"""Column transforms of the stored format: exact for any int64 values, empty rows and sliced arrays."""

from __future__ import annotations

import pyarrow as pa

from kimera.storage.codec import decode, encode, row_cumsum, row_delta
from kimera.storage.schema import to_table

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def test_row_delta_is_exactly_inverted_by_row_cumsum() -> None:
    rows = [[5, 3, 9], [], [I64_MAX, I64_MIN, 0, I64_MAX], [7], [], [I64_MIN, I64_MAX]]
    arr = pa.array(rows, pa.list_(pa.int64()))
    d = row_delta(arr)
    assert d.to_pylist()[0] == [5, -2, 6] and d.to_pylist()[3] == [7]
    assert row_cumsum(d).to_pylist() == rows
    sliced = arr.slice(2, 3)  # offsets not starting at 0
    assert row_cumsum(row_delta(sliced)).to_pylist() == rows[2:5]
    empty = pa.array([[], []], pa.list_(pa.int64()))
    assert row_cumsum(row_delta(empty)).to_pylist() == [[], []]


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
    assert stored2.column("bid_px").to_pylist() == [[6_000, -1]]
    assert decode("book_delta", stored2).equals(table.slice(0, 1))
