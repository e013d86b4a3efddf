"""Lossless column transforms and Parquet encodings chosen per column (measured: see docs/storage.md).

Prices and sizes are divided by their greatest common divisor before encoding (Binance spot prices at
8 decimals are all multiples of 10**6; the division removes ~20 useless bits per value) and the divisor
is kept in the row as `px_scale` / `sz_scale` (a constant column: dictionary + RLE, a few bytes per file),
so every Parquet reader, DuckDB included, can restore the exact value as `stored * scale`.

Book level prices (`bid_px`, `ask_px` lists) are then stored as differences within their row: the first
level as is, each further level minus the level before it (messages list levels in price order, so these
are small tick counts; measured 10-20% smaller than the prices themselves). The level order is kept
exactly: a row's values are restored by a running sum that restarts at each row, and int64 arithmetic
wraps identically both ways, so the round trip is exact for any values.

Exchange clocks (`exchange_ns`; bars: `start_ns`, `end_ns`) are divided by their GCD in the same way and
the divisor kept as `ts_scale` (Binance stamps milliseconds: 20 bits of zeros per value otherwise).

Zero level sizes (deletions: about half of all levels on Binance spot) are stored as NULL list elements:
the Parquet definition levels then say "zero" in one bit, instead of every byte stream of BYTE_STREAM_SPLIT
repeating it. Readers restore 0 (`coalesce(x, 0)` in SQL). Every transform is row-local: a row decodes
from its own values and its file's scales, whatever the row group or batch.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pyarrow as pa

from kimera.storage.schema import PRICE_COLUMNS, SCHEMAS, SIZE_COLUMNS

SCALE_COLUMNS = ("px_scale", "sz_scale", "ts_scale")
# Exchange-clock columns, divided by their GCD (`ts_scale`); receive times are local ns clocks: left as is.
TIME_COLUMNS: dict[str, tuple[str, ...]] = {"book_snapshot": ("exchange_ns",), "book_delta": ("exchange_ns",),
                                            "quote": ("exchange_ns",), "trade": ("exchange_ns",),
                                            "bar": ("start_ns", "end_ns")}
# Level-size list columns whose zeros are stored as NULL elements.
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
_DICT = ("venue", "symbol", "side", *SCALE_COLUMNS)
# List columns stored as within-row differences (see the module docstring).
ROW_DELTA_COLUMNS: dict[str, tuple[str, ...]] = {"book_snapshot": ("bid_px", "ask_px"),
                                                 "book_delta": ("bid_px", "ask_px")}


def stored_schema(kind: str, narrow: Collection[str] = ()) -> pa.Schema:
    """The schema of a file of this kind: the decoded schema (the `narrow` level columns as list<int32>) plus
    the three scale columns."""
    schema = pa.schema([pa.field(f.name, NARROW_LEVELS, f.nullable) if f.name in narrow else f for f in SCHEMAS[kind]])
    for name in SCALE_COLUMNS:
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


def _row_starts(offs: np.ndarray) -> np.ndarray:
    return offs[:-1][offs[:-1] < offs[1:]]


def row_delta(arr: pa.ListArray) -> pa.ListArray:
    """Each row's first value kept, every further value minus the one before it in the same row."""
    v, offs = _flat(arr)
    d = v.copy()
    with np.errstate(over="ignore"):
        d[1:] -= v[:-1]
    starts = _row_starts(offs)
    d[starts] = v[starts]
    return pa.ListArray.from_arrays(pa.array(offs.astype(np.int32)), pa.array(d, pa.int64()))


def row_cumsum(arr: pa.ListArray, scale: int = 1) -> pa.ListArray:
    """Inverse of `row_delta` (a running sum restarting at each row), times `scale`: one pass in place."""
    d, offs = _flat(arr)
    if not len(d):
        return arr if arr.type.value_type == pa.int64() else arr.cast(pa.list_(pa.int64()))
    e = d.astype(np.int64)  # a copy, widened from int32 if stored narrow
    starts = _row_starts(offs)
    with np.errstate(over="ignore"):
        if len(starts) > 1:  # cancel, at each row's first value, the sum carried over from the row before
            e[starts[1:]] -= np.add.reduceat(d, starts)[:-1]
        np.cumsum(e, out=e)
        if scale != 1:
            e *= scale
    return pa.ListArray.from_arrays(pa.array(offs.astype(np.int32)), pa.array(e, pa.int64()))


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


def _gcd(arrays: list[pa.Array]) -> int:
    g = 0
    for a in arrays:
        v = _values(a).to_numpy()
        if len(v):
            g = int(np.gcd(g, np.gcd.reduce(v)))
    return g or 1


def encode(kind: str, table: pa.Table, narrow: Collection[str] | None = None) -> pa.Table:
    """Decoded table -> stored table: prices, sizes and exchange clocks divided (exactly) by their GCD, level
    prices as within-row differences, zero level sizes NULL, scales appended. Level columns are stored as
    list<int32> where they fit (`narrow=None`) or exactly for the names in `narrow` (a row group appended to
    a file whose schema is fixed); `LevelsTooWide` if one of those does not fit."""
    table = table.combine_chunks()
    n = table.num_rows
    cols = {name: table.column(name).chunk(0) if table.column(name).num_chunks else table.column(name)
            for name in table.column_names}
    scales: dict[str, int] = {}
    for scale_name, names in (("px_scale", PRICE_COLUMNS[kind]), ("sz_scale", SIZE_COLUMNS[kind]),
                              ("ts_scale", TIME_COLUMNS[kind])):
        g = _gcd([cols[c] for c in names]) if n else 1
        scales[scale_name] = g
        if g != 1:
            for c in names:
                cols[c] = _with_values(cols[c], _values(cols[c]).to_numpy() // g)
    for c in ROW_DELTA_COLUMNS.get(kind, ()):
        cols[c] = row_delta(cols[c])
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
    out += [pa.array(np.full(n, scales[s], np.int64)) for s in SCALE_COLUMNS]
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


def decode_batch(kind: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Stored batch -> decoded batch (true fixed-point values, NULL level sizes as 0, scale columns dropped)."""
    px, sz, ts = (batch.column(s).to_numpy() for s in SCALE_COLUMNS)
    prices, sizes, times = PRICE_COLUMNS[kind], SIZE_COLUMNS[kind], TIME_COLUMNS[kind]
    deltas = ROW_DELTA_COLUMNS.get(kind, ())
    arrays = []
    for f in SCHEMAS[kind]:
        a = batch.column(f.name)
        if f.name in deltas:
            one = bool(len(px)) and bool(px.min() == px.max())
            a = row_cumsum(a, int(px[0]) if one else 1)  # a constant scale is applied in the same pass
            if not one:
                a = _scaled(a, px)
        elif f.name in prices:
            a = _scaled(a, px)
        elif f.name in sizes:
            a = _scaled(a, sz)
        elif f.name in times:
            a = _scaled(a, ts)
        arrays.append(a)
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMAS[kind])


def decode(kind: str, table: pa.Table) -> pa.Table:
    """Stored table -> decoded table, batch by batch (no copy of the columns that need no scaling)."""
    batches = [decode_batch(kind, b) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=SCHEMAS[kind])
