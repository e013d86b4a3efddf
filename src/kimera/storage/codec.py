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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from kimera.storage.schema import PRICE_COLUMNS, SCHEMAS, SIZE_COLUMNS

SCALE_COLUMNS = ("px_scale", "sz_scale")

# Per-column encodings, chosen column by column on the real Binance spot and USD-M captures (table in
# docs/storage.md): counters and clocks (seq, times, update and trade ids) -> DELTA_BINARY_PACKED;
# prices and sizes, level lists included (GCD-scaled, noisy low bytes) -> BYTE_STREAM_SPLIT under zstd;
# names, trade side and scales -> dictionary.
_DELTA = ("seq", "recv_ns", "exchange_ns", "start_ns", "end_ns", "update_id", "first_update_id",
          "last_update_id", "prev_update_id", "trade_id", "checksum")
_SPLIT = ("bid_px", "ask_px", "price", "open", "high", "low", "close", "bid_qty", "ask_qty", "size", "volume")
_DICT = ("venue", "symbol", "side", "px_scale", "sz_scale")
# List columns stored as within-row differences (see the module docstring).
ROW_DELTA_COLUMNS: dict[str, tuple[str, ...]] = {"book_snapshot": ("bid_px", "ask_px"),
                                                 "book_delta": ("bid_px", "ask_px")}


def stored_schema(kind: str) -> pa.Schema:
    """The schema of a file of this kind: the decoded schema plus the two scale columns."""
    return SCHEMAS[kind].append(pa.field("px_scale", pa.int64(), nullable=False)).append(
        pa.field("sz_scale", pa.int64(), nullable=False))


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
    return {"use_dictionary": list(_DICT), "column_encoding": enc, "compression": "zstd", "write_statistics": True}


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
        return arr
    e = d.copy()
    starts = _row_starts(offs)
    with np.errstate(over="ignore"):
        if len(starts) > 1:  # cancel, at each row's first value, the sum carried over from the row before
            e[starts[1:]] -= np.add.reduceat(d, starts)[:-1]
        np.cumsum(e, out=e)
        if scale != 1:
            e *= scale
    return pa.ListArray.from_arrays(pa.array(offs.astype(np.int32)), pa.array(e, pa.int64()))


def _gcd(arrays: list[pa.Array]) -> int:
    g = 0
    for a in arrays:
        v = _values(a).to_numpy()
        if len(v):
            g = int(np.gcd(g, np.gcd.reduce(v)))
    return g or 1


def encode(kind: str, table: pa.Table) -> pa.Table:
    """Decoded table -> stored table: prices and sizes divided (exactly) by their GCD, scales appended."""
    table = table.combine_chunks()
    n = table.num_rows
    cols = {name: table.column(name).chunk(0) if table.column(name).num_chunks else table.column(name)
            for name in table.column_names}
    scales: dict[str, int] = {}
    for scale_name, names in (("px_scale", PRICE_COLUMNS[kind]), ("sz_scale", SIZE_COLUMNS[kind])):
        g = _gcd([cols[c] for c in names]) if n else 1
        scales[scale_name] = g
        if g != 1:
            for c in names:
                cols[c] = _with_values(cols[c], _values(cols[c]).to_numpy() // g)
    for c in ROW_DELTA_COLUMNS.get(kind, ()):
        cols[c] = row_delta(cols[c])
    out = [cols[f.name] for f in SCHEMAS[kind]]
    out += [pa.array(np.full(n, scales["px_scale"], np.int64)), pa.array(np.full(n, scales["sz_scale"], np.int64))]
    return pa.Table.from_arrays(out, schema=stored_schema(kind))


def _scaled(arr: pa.Array, scale: np.ndarray) -> pa.Array:
    if not len(scale):
        return arr
    lo, hi = int(scale.min()), int(scale.max())
    if lo == hi:
        return arr if lo == 1 else _with_values(arr, _values(arr).to_numpy() * lo)
    if isinstance(arr, pa.ListArray):  # rows with different scales (a compacted file): repeat per level
        lens = arr.value_lengths().to_numpy(zero_copy_only=False)
        flat = arr.flatten().to_numpy() * np.repeat(scale, lens)
        offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.int64()))
    return pa.array(arr.to_numpy() * scale, pa.int64())


def decode_batch(kind: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Stored batch -> decoded batch (true fixed-point values, scale columns dropped)."""
    px = batch.column("px_scale").to_numpy()
    sz = batch.column("sz_scale").to_numpy()
    prices, sizes, deltas = PRICE_COLUMNS[kind], SIZE_COLUMNS[kind], ROW_DELTA_COLUMNS.get(kind, ())
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
        arrays.append(a)
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMAS[kind])


def decode(kind: str, table: pa.Table) -> pa.Table:
    """Stored table -> decoded table, batch by batch (no copy of the columns that need no scaling)."""
    batches = [decode_batch(kind, b) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=SCHEMAS[kind])
