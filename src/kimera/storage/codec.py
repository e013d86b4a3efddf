"""Lossless column transforms and Parquet encodings chosen per column (measured: see docs/storage.md).

Prices and sizes are divided by their greatest common divisor before encoding (Binance spot prices at
8 decimals are all multiples of 10**6; the division removes ~20 useless bits per value) and the divisor
is kept in the row as a scale column (a constant column: dictionary + RLE, a few bytes per file), so every
Parquet reader, DuckDB included, can restore the exact value as `stored * scale` (`px_scale`, `sz_scale`).
Format 4: book level sizes with no negative value that are, but for at most 0.1% of them, multiples of a
larger g * 10**k are divided by that; the few others are stored raw and negated, and `sz_scale` is stored
negative to say so (Binance spot BTCUSDT: 7 of 155,653 non-zero level sizes are not multiples of 10**3, and
made the GCD 10**2: ~3 wasted bits on every other size).

Book level prices (`bid_px`, `ask_px` lists) are then stored as differences within their row: each further
level minus the level before it (messages list levels in price order, so these are small tick counts),
and each row's first level in a column of its own (`bid_px_first`, `ask_px_first`; NULL for an empty row;
format 4: out of the lists, the big first prices no longer disturb the byte streams of the small
differences, and PLAIN + zstd finds their repeats). The level order is kept exactly; int64 arithmetic wraps
identically both ways, so the round trip is exact for any values.

Exchange clocks (`exchange_ns`; bars: `start_ns`, `end_ns`) are divided by their GCD in the same way and
the divisor kept as `ts_scale` (Binance stamps milliseconds: 20 bits of zeros per value otherwise).

Zero level sizes (deletions: about half of all levels on Binance spot) are stored as NULL list elements:
the Parquet definition levels then say "zero" in one bit, instead of every byte stream of BYTE_STREAM_SPLIT
repeating it. Readers restore 0 (`coalesce(x, 0)` in SQL).

Format 4 adds cross-row prediction, never across files or row groups: a value that the row before it (in
the same encoded table: a flush file or one row group of a compacted file) predicts exactly is stored as
NULL. Quote sizes equal to the previous quote's are NULL (half of them); a book
delta's `first_update_id` equal to the previous delta's `last_update_id + 1` (Binance spot: always) and its
`prev_update_id` equal to the previous `last_update_id` (Binance USD-M `pu`: always) are NULL. The first
row of every encoded table is never NULL, so a reader restores the values by a forward fill (or one shifted
column) over the whole file, whatever the row groups or batches; a file is decoded whole (or from its
first row on), never from a row in its middle.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pyarrow as pa

from kimera.storage.schema import SCHEMAS

# Exchange-clock columns, divided by their GCD (`ts_scale`); receive times are local ns clocks: left as is.
TIME_COLUMNS: dict[str, tuple[str, ...]] = {"book_snapshot": ("exchange_ns",), "book_delta": ("exchange_ns",),
                                            "quote": ("exchange_ns",), "trade": ("exchange_ns",),
                                            "bar": ("start_ns", "end_ns")}
_BOOK_SCALES = {"px_scale": ("bid_px", "ask_px"), "sz_scale": ("bid_sz", "ask_sz"), "ts_scale": ("exchange_ns",)}
# Scale columns of each kind (in stored column order) -> the value columns each one divides.
SCALES: dict[str, dict[str, tuple[str, ...]]] = {
    "book_snapshot": _BOOK_SCALES,
    "book_delta": _BOOK_SCALES,
    "quote": {"px_scale": ("bid_px", "ask_px"), "sz_scale": ("bid_qty", "ask_qty"), "ts_scale": ("exchange_ns",)},
    "trade": {"px_scale": ("price",), "sz_scale": ("size",), "ts_scale": ("exchange_ns",)},
    "bar": {"px_scale": ("open", "high", "low", "close"), "sz_scale": ("volume",), "ts_scale": ("start_ns", "end_ns")},
}
# Columns stored as NULL where they equal the previous row's value (format 4).
REPEAT_COLUMNS: dict[str, tuple[str, ...]] = {"quote": ("bid_qty", "ask_qty")}
# Columns stored as NULL where they equal the previous row's `source` plus `step` (format 4): column ->
# (source, step). Binance spot chains `U` = previous `u` + 1, USD-M `pu` = previous `u`.
CHAINED_COLUMNS: dict[str, dict[str, tuple[str, int]]] = {
    "book_delta": {"first_update_id": ("last_update_id", 1), "prev_update_id": ("last_update_id", 0)}}
_I64_MAX = np.iinfo(np.int64).max


def scale_columns(kind: str) -> tuple[str, ...]:
    """The scale columns a file of this kind ends with."""
    return tuple(SCALES[kind])


def scale_of(kind: str, column: str) -> str | None:
    """The scale column that divides `column`, or None."""
    return next((s for s, cols in SCALES[kind].items() if column in cols), None)


def predicted_columns(kind: str) -> tuple[str, ...]:
    """Columns that a file stores as NULL where the previous row predicts them."""
    return (*REPEAT_COLUMNS.get(kind, ()), *CHAINED_COLUMNS.get(kind, {}))


# Level-size list columns whose zeros are stored as NULL elements (and whose rare odd sizes may be stored raw).
NULL_ZERO_COLUMNS: dict[str, tuple[str, ...]] = {"book_snapshot": ("bid_sz", "ask_sz"),
                                                 "book_delta": ("bid_sz", "ask_sz")}
# Book level lists stored as list<int32> when every stored value of the file (or row group) fits: half the
# bytes for Parquet to decompress and un-split (the reader widens them in the pass it makes anyway).
NARROW_COLUMNS: dict[str, tuple[str, ...]] = {"book_snapshot": ("bid_px", "bid_sz", "ask_px", "ask_sz"),
                                              "book_delta": ("bid_px", "bid_sz", "ask_px", "ask_sz")}
NARROW_LEVELS = pa.list_(pa.int32())
_I32 = np.iinfo(np.int32)


class LevelsTooWide(OverflowError):
    """A level column required as int32 (to match a file's schema) holds a value beyond int32."""


# One data page per column chunk (up to this size): zstd then sees a whole column at once.
DATA_PAGE_BYTES = 64 << 20

# Per-column encodings, chosen column by column on the real Binance spot and USD-M captures (table in
# docs/storage.md): counters and clocks (seq, times, update and trade ids) -> DELTA_BINARY_PACKED;
# prices and sizes, level lists included (GCD-scaled, noisy low bytes) -> BYTE_STREAM_SPLIT under zstd;
# names, trade side and scales -> dictionary.
_DELTA = ("seq", "recv_ns", "exchange_ns", "start_ns", "end_ns", "update_id", "first_update_id",
          "last_update_id", "prev_update_id", "trade_id", "checksum")
_SPLIT = ("bid_px", "ask_px", "price", "open", "high", "low", "close", "bid_qty", "ask_qty", "size", "volume")
_DICT = ("venue", "symbol", "side", *{s for k in SCALES.values() for s in k})
# List columns stored as within-row differences (see the module docstring), each row's first value in a
# column of its own (format 4): list column -> first-value column.
ROW_DELTA_COLUMNS: dict[str, dict[str, str]] = {"book_snapshot": {"bid_px": "bid_px_first", "ask_px": "ask_px_first"},
                                                "book_delta": {"bid_px": "bid_px_first", "ask_px": "ask_px_first"}}


def stored_schema(kind: str, narrow: Collection[str] = ()) -> pa.Schema:
    """The schema of a file of this kind: the decoded schema (the `narrow` level columns as list<int32>, the
    predicted columns nullable), the first-level price columns, then the kind's scale columns."""
    pred = predicted_columns(kind)
    schema = pa.schema([pa.field(f.name, NARROW_LEVELS, f.nullable) if f.name in narrow
                        else pa.field(f.name, f.type, True) if f.name in pred else f for f in SCHEMAS[kind]])
    for name in ROW_DELTA_COLUMNS.get(kind, {}).values():
        schema = schema.append(pa.field(name, pa.int64(), nullable=True))
    for name in scale_columns(kind):
        schema = schema.append(pa.field(name, pa.int64(), nullable=False))
    return schema


def write_options(kind: str) -> dict[str, Any]:
    """`pyarrow.parquet.write_table` keyword arguments (encodings) for a file of this kind."""
    enc: dict[str, str] = {}
    for f in SCHEMAS[kind]:
        if pa.types.is_list(f.type):
            enc[f"{f.name}.list.element"] = "BYTE_STREAM_SPLIT"
        elif f.name in _DELTA:
            enc[f.name] = "DELTA_BINARY_PACKED"
        elif f.name in _SPLIT:
            enc[f.name] = "BYTE_STREAM_SPLIT"
    for name in ROW_DELTA_COLUMNS.get(kind, {}).values():  # first levels: PLAIN measured best (repeats for zstd)
        enc[name] = "PLAIN"
    return {"use_dictionary": list(_DICT), "column_encoding": enc, "compression": "zstd", "write_statistics": True,
            "data_page_size": DATA_PAGE_BYTES}


def _values(arr: pa.Array) -> pa.Array:
    return arr.flatten() if isinstance(arr, pa.ListArray) else arr  # flatten: only this (sliced) array's values


def _with_values(arr: pa.Array, values: np.ndarray) -> pa.Array:
    if isinstance(arr, pa.ListArray):
        offs = arr.offsets.to_numpy()
        return pa.ListArray.from_arrays(pa.array(offs - offs[0]), pa.array(values, pa.int64()))
    return pa.array(values, pa.int64())


def _flat(arr: pa.ListArray) -> tuple[np.ndarray, np.ndarray]:
    """A list array's values (respecting its offset) and its offsets rebased to 0."""
    offs = arr.offsets.to_numpy()
    return arr.flatten().to_numpy(), offs - offs[0]


def row_delta(arr: pa.ListArray) -> tuple[pa.ListArray, pa.Array]:
    """A list column as (tails, firsts): each row's first value in `firsts` (NULL for an empty row), every
    further value minus the one before it in the same row in `tails` (one element fewer per non-empty row)."""
    v, offs = _flat(arr)
    nonempty = offs[:-1] < offs[1:]
    starts = offs[:-1][nonempty]
    keep = np.ones(len(v), bool)
    keep[starts] = False
    tails = (v[1:] - v[:-1])[keep[1:]]  # int64 wraps: exactly undone by the running sum
    firsts = np.zeros(len(nonempty), np.int64)
    firsts[nonempty] = v[starts]
    tail_offs = offs - np.concatenate(([0], np.cumsum(nonempty)))
    return (pa.ListArray.from_arrays(pa.array(tail_offs.astype(np.int32)), pa.array(tails, pa.int64())),
            pa.array(firsts, pa.int64(), mask=~nonempty))


def row_cumsum(tails: pa.ListArray, firsts: pa.Array, scale: int = 1) -> pa.ListArray:
    """Inverse of `row_delta` (each row: its first value, then a running sum of its tail), times `scale`: one
    pass (numba) writing the decoded values."""
    from kimera.storage.kernels import first_then_cumsum  # numba: imported by readers only, not by recorders

    d, offs = _flat(tails)
    if firsts.type != pa.int64() or len(firsts) != len(offs) - 1:
        raise ValueError("level list and first-level column do not match: the file is damaged")
    if firsts.null_count == len(firsts) and not len(d):  # every row empty
        return pa.ListArray.from_arrays(pa.array(offs.astype(np.int32)), pa.array([], pa.int64()))
    e, out_offs = first_then_cumsum(d, offs, firsts, scale)
    return pa.ListArray.from_arrays(pa.array(out_offs.astype(np.int32)), pa.array(e, pa.int64()))


def null_zeros(arr: pa.ListArray) -> pa.ListArray:
    """The same lists with every 0 element made NULL (inverse: `_filled`)."""
    v, offs = _flat(arr)
    return pa.ListArray.from_arrays(pa.array(offs.astype(np.int32)), pa.array(v, arr.type.value_type, mask=v == 0))


def narrowed(arr: pa.ListArray) -> pa.ListArray | None:
    """The same lists as list<int32>, or None if a value does not fit."""
    values = _values(arr)
    if len(values) and values.null_count < len(values):
        v = _filled(values)
        if v.min() < _I32.min or v.max() > _I32.max:
            return None
    offs = arr.offsets.to_numpy()
    return pa.ListArray.from_arrays(pa.array(offs - offs[0]), values.cast(pa.int32()))


def _filled(values: pa.Array, scale: int = 1) -> np.ndarray:
    """An int64 or int32 array's values as int64 times `scale`, NULL read as 0: one new writable array."""
    if not values.null_count:
        v = values.to_numpy()
        return v.astype(np.int64) if scale == 1 else np.multiply(v, scale, dtype=np.int64)
    n, off = len(values), values.offset
    bitmap, data = values.buffers()
    dtype = np.int32 if values.type == pa.int32() else np.int64
    raw = np.frombuffer(data, dtype, n + off)[off:]  # slots under NULL hold arbitrary values: masked out
    valid = np.unpackbits(np.frombuffer(bitmap, np.uint8), count=n + off, bitorder="little")[off:].view(bool)
    out = np.multiply(raw, valid, dtype=np.int64)  # one pass (faster than np.where); garbage * 0 == 0
    if scale != 1:
        out *= scale
    return out


def _outlier_gcd(arrays: list[pa.Array], g: int) -> int:
    """The largest g * 10**k (k >= 1) dividing all but at most 0.1% of the non-zero values of level-size
    columns with no negative value, else `g`: those few outliers are stored raw and negated (Binance spot
    BTCUSDT: 7 of 155,653 non-zero level sizes are not multiples of 10**3, the rest would pay ~3 bits each)."""
    v = np.concatenate([_values(a).to_numpy() for a in arrays])
    v = v[v != 0]
    if not len(v) or v.min() < 0:
        return g
    best, m, limit = g, g * 10, len(v) // 1000
    while m <= _I64_MAX // 10 and np.count_nonzero(v % m) <= limit:
        best, m = m, m * 10
    return best


def _gcd(arrays: list[pa.Array]) -> int:
    g = 0
    for a in arrays:
        v = _values(a).to_numpy()
        if len(v):
            g = int(np.gcd(g, np.gcd.reduce(v)))
    return g or 1


def predict_nulls(kind: str, cols: dict[str, pa.Array]) -> None:
    """In place: the predicted columns (`REPEAT_COLUMNS`, `CHAINED_COLUMNS`) with every value that the row
    before predicts made NULL; the first row is always kept."""
    for c in REPEAT_COLUMNS.get(kind, ()):
        v = cols[c].to_numpy()
        same = np.zeros(len(v), bool)
        same[1:] = v[1:] == v[:-1]
        cols[c] = pa.array(v, pa.int64(), mask=same)
    for c, (src, step) in CHAINED_COLUMNS.get(kind, {}).items():
        v, last = cols[c].to_numpy(), cols[src].to_numpy()
        same = np.zeros(len(v), bool)
        # never predicted across an int64 overflow (SQL would raise on `lag(...) + 1`)
        same[1:] = (v[1:] == last[:-1] + step) & (last[:-1] <= _I64_MAX - step)
        cols[c] = pa.array(v, pa.int64(), mask=same)


def encode(kind: str, table: pa.Table, narrow: Collection[str] | None = None) -> pa.Table:
    """Decoded table -> stored table: prices, sizes and exchange clocks divided (exactly) by their GCD, level
    prices as within-row differences, zero level sizes NULL, predicted values NULL, scales appended. Level
    columns are stored as list<int32> where they fit (`narrow=None`) or exactly for the names in `narrow` (a
    row group appended to a file whose schema is fixed); `LevelsTooWide` if one of those does not fit."""
    table = table.combine_chunks()
    n = table.num_rows
    cols = {name: table.column(name).chunk(0) if table.column(name).num_chunks else
            pa.array([], table.schema.field(name).type) for name in table.column_names}
    scales: dict[str, int] = {}
    for scale_name, names in SCALES[kind].items():
        g = _gcd([cols[c] for c in names]) if n else 1
        if n and set(names) <= set(NULL_ZERO_COLUMNS.get(kind, ())):
            wide = _outlier_gcd([cols[c] for c in names], g)
            if wide != g:  # the scale stored negative says: negative stored values are raw outliers
                for c in names:
                    v = _values(cols[c]).to_numpy()
                    cols[c] = _with_values(cols[c], np.where(v % wide != 0, -v, v // wide))
                scales[scale_name] = -wide
                continue
        scales[scale_name] = g
        if g != 1:
            for c in names:
                cols[c] = _with_values(cols[c], _values(cols[c]).to_numpy() // g)
    predict_nulls(kind, cols)
    for c, first in ROW_DELTA_COLUMNS.get(kind, {}).items():
        cols[c], cols[first] = row_delta(cols[c])
    for c in NULL_ZERO_COLUMNS.get(kind, ()):
        cols[c] = null_zeros(cols[c])
    chosen = []
    for c in NARROW_COLUMNS.get(kind, ()):
        if narrow is None or c in narrow:
            small = narrowed(cols[c])
            if small is not None:
                cols[c] = small
                chosen.append(c)
            elif narrow is not None:
                raise LevelsTooWide(f"{kind} column {c!r} does not fit int32 in this row group")
    out = [cols[f.name] for f in SCHEMAS[kind]]
    out += [cols[first] for first in ROW_DELTA_COLUMNS.get(kind, {}).values()]
    out += [pa.array(np.full(n, scales[s], np.int64)) for s in scale_columns(kind)]
    return pa.Table.from_arrays(out, schema=stored_schema(kind, chosen))


def _scaled(arr: pa.Array, scale: np.ndarray) -> pa.Array:
    """Values times their row's scale (NULL elements, i.e. stored zeros, become 0)."""
    values = _values(arr)
    if not len(scale) or not len(values):
        return arr
    lo, hi = int(scale.min()), int(scale.max())
    if lo == hi:
        if lo == 1 and not values.null_count and values.type == pa.int64():
            return arr
        return _with_values(arr, _filled(values, lo))
    if isinstance(arr, pa.ListArray):  # rows with different scales (a compacted file): repeat per level
        lens = arr.value_lengths().to_numpy(zero_copy_only=False)
        flat = _filled(values)
        flat *= np.repeat(scale, lens)
        offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.int64()))
    return pa.array(arr.to_numpy() * scale, pa.int64())


def _without_bitmap(arr: pa.Array) -> pa.Array:
    """An int64 array without NULLs, minus the all-valid bitmap Parquet gives optional columns (zero-copy)."""
    if arr.buffers()[0] is None:
        return arr
    return pa.Array.from_buffers(pa.int64(), len(arr), [None, arr.buffers()[1]], 0, arr.offset)


def decode_batch(kind: str, batch: pa.RecordBatch, carry: dict[str, int] | None = None) -> pa.RecordBatch:
    """Stored batch -> decoded batch (true fixed-point values, NULL level sizes as 0, predicted NULLs restored,
    scale columns dropped). `carry` holds, between the batches of one file in order, what the next batch's
    first row may be predicted from (empty for a file's first batch); it is updated in place."""
    from kimera.storage.kernels import fill_chained, fill_forward, level_sizes  # numba: readers only

    carry = {} if carry is None else carry
    scales = {s: batch.column(s).to_numpy() for s in scale_columns(kind)}
    px = scales["px_scale"]
    deltas = ROW_DELTA_COLUMNS.get(kind, {})
    repeat, chained = REPEAT_COLUMNS.get(kind, ()), CHAINED_COLUMNS.get(kind, {})
    n = batch.num_rows
    arrays = []
    for f in SCHEMAS[kind]:
        a = batch.column(f.name)
        s = scale_of(kind, f.name)
        if f.name in repeat and a.null_count:  # NULL: the previous row's stored value; filled and scaled
            v, carry[f.name] = fill_forward(a, scales[s] if s else np.ones(n, np.int64), carry.get(f.name))
            a = pa.array(v, pa.int64())
        elif f.name in repeat:
            if n:
                carry[f.name] = int(a[n - 1].as_py())
            a = _without_bitmap(a)
            a = _scaled(a, scales[s]) if s else a
        elif f.name in chained:  # NULL: the previous row's source plus step
            src, step = chained[f.name]
            source = batch.column(src).to_numpy()
            a = pa.array(fill_chained(a, source, step, carry.get(src)), pa.int64()) if a.null_count else \
                _without_bitmap(a)
        elif f.name in deltas:
            one = bool(len(px)) and bool(px.min() == px.max())
            # a constant scale is applied in the same pass
            a = row_cumsum(a, batch.column(deltas[f.name]), int(px[0]) if one else 1)
            if not one:
                a = _scaled(a, px)
        elif f.name in NULL_ZERO_COLUMNS.get(kind, ()):
            a = level_sizes(a, scales[s or ""])
        elif s is not None:
            a = _scaled(a, scales[s])
        arrays.append(a)
    for src in {src for src, _ in chained.values()}:
        if n:
            carry[src] = int(batch.column(src)[n - 1].as_py())
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMAS[kind])


def decode(kind: str, table: pa.Table) -> pa.Table:
    """Stored table (a whole file, or whole row groups of one in order) -> decoded table, batch by batch in
    order (predictions carried across batches; no copy of the columns that need no scaling)."""
    carry: dict[str, int] = {}
    batches = [decode_batch(kind, b, carry) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=SCHEMAS[kind])
