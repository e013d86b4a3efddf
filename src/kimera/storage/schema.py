"""Table kinds of the store: one Arrow schema per event type, and exact conversion events <-> columns.

A book event is ONE row with its levels as list columns (`bid_px`, `bid_sz`, `ask_px`, `ask_sz`, in the
event's own level order); `seq` is the event's position in its (venue, symbol) stream, so events of all
kinds can be put back in their original order. Prices and sizes are the events' fixed-point integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate, pairwise
from typing import Any

import numpy as np
import pyarrow as pa

from kimera.model import Bar, BookDelta, BookSnapshot, Event, Quote, Side, Trade

KIND_OF: dict[type, str] = {
    BookSnapshot: "book_snapshot",
    BookDelta: "book_delta",
    Quote: "quote",
    Trade: "trade",
    Bar: "bar",
}
KINDS: tuple[str, ...] = tuple(KIND_OF.values())

I64 = pa.int64()
NAME = pa.dictionary(pa.int32(), pa.string())
LEVELS = pa.list_(pa.int64())
SIDE = pa.dictionary(pa.int8(), pa.string())
SIDE_NAMES = ("BUY", "SELL")


def _f(name: str, typ: pa.DataType, nullable: bool = False) -> pa.Field:
    return pa.field(name, typ, nullable=nullable)


_HEAD = [_f("venue", NAME), _f("symbol", NAME), _f("seq", I64), _f("recv_ns", I64)]
_BOOK = [_f("bid_px", LEVELS), _f("bid_sz", LEVELS), _f("ask_px", LEVELS), _f("ask_sz", LEVELS)]

SCHEMAS: dict[str, pa.Schema] = {
    "book_snapshot": pa.schema([*_HEAD, _f("exchange_ns", I64), _f("update_id", I64),
                                _f("checksum", I64, True), *_BOOK]),
    "book_delta": pa.schema([*_HEAD, _f("exchange_ns", I64), _f("first_update_id", I64),
                             _f("last_update_id", I64), _f("prev_update_id", I64), _f("checksum", I64, True), *_BOOK]),
    "quote": pa.schema([*_HEAD, _f("exchange_ns", I64), _f("update_id", I64), _f("bid_px", I64),
                        _f("bid_qty", I64), _f("ask_px", I64), _f("ask_qty", I64)]),
    "trade": pa.schema([*_HEAD, _f("exchange_ns", I64), _f("trade_id", I64), _f("price", I64),
                        _f("size", I64), _f("side", SIDE)]),
    "bar": pa.schema([*_HEAD, _f("start_ns", I64), _f("end_ns", I64), _f("open", I64), _f("high", I64),
                      _f("low", I64), _f("close", I64), _f("volume", I64)]),
}
"""Decoded schemas: what readers return (true fixed-point values)."""

PRICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "book_snapshot": ("bid_px", "ask_px"),
    "book_delta": ("bid_px", "ask_px"),
    "quote": ("bid_px", "ask_px"),
    "trade": ("price",),
    "bar": ("open", "high", "low", "close"),
}
SIZE_COLUMNS: dict[str, tuple[str, ...]] = {
    "book_snapshot": ("bid_sz", "ask_sz"),
    "book_delta": ("bid_sz", "ask_sz"),
    "quote": ("bid_qty", "ask_qty"),
    "trade": ("size",),
    "bar": ("volume",),
}


def kind_of(ev: Any) -> str:
    """The table kind of an event; anything that is not a normalised event is a clear error."""
    try:
        return KIND_OF[type(ev)]
    except KeyError:
        raise TypeError(f"cannot store {type(ev).__name__}: expected one of {[t.__name__ for t in KIND_OF]}") from None


def _names(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value]))


def _i64(values: Sequence[int | None], name: str) -> pa.Array:
    try:
        return pa.array(values, I64)
    except (OverflowError, pa.ArrowInvalid) as exc:
        raise ValueError(f"column {name!r}: value does not fit a signed 64-bit integer ({exc})") from exc


def _levels(sides: list[list[tuple[int, int]]], name: str) -> tuple[pa.ListArray, pa.ListArray]:
    offsets = pa.array([0, *accumulate(map(len, sides))], pa.int32())
    px = _i64([p for lv in sides for p, _ in lv], name + "_px")
    sz = _i64([q for lv in sides for _, q in lv], name + "_sz")
    return pa.ListArray.from_arrays(offsets, px), pa.ListArray.from_arrays(offsets, sz)


def to_table(kind: str, venue: str, symbol: str, seqs: Sequence[int], events: Sequence[Any]) -> pa.Table:
    """Columns of one stream's events of one kind (all with this venue and symbol), in the given order."""
    n = len(events)
    if len(seqs) != n:
        raise ValueError(f"{len(seqs)} seqs for {n} events")
    cols: dict[str, Any] = {"venue": _names(venue, n), "symbol": _names(symbol, n), "seq": _i64(seqs, "seq"),
                            "recv_ns": _i64([e.recv_ns for e in events], "recv_ns")}

    def ints(*names: str) -> None:
        for a in names:
            cols[a] = _i64([getattr(e, a) for e in events], a)

    if kind == "book_snapshot" or kind == "book_delta":
        if kind == "book_snapshot":
            ints("exchange_ns", "update_id", "checksum")
        else:
            ints("exchange_ns", "first_update_id", "last_update_id", "prev_update_id", "checksum")
        cols["bid_px"], cols["bid_sz"] = _levels([e.bids for e in events], "bid")
        cols["ask_px"], cols["ask_sz"] = _levels([e.asks for e in events], "ask")
    elif kind == "quote":
        ints("exchange_ns", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty")
    elif kind == "trade":
        ints("exchange_ns", "trade_id", "price", "size")
        idx = pa.array([0 if e.side == Side.BUY else 1 for e in events], pa.int8())
        cols["side"] = pa.DictionaryArray.from_arrays(idx, pa.array(SIDE_NAMES))
    elif kind == "bar":
        ints("start_ns", "end_ns", "open", "high", "low", "close", "volume")
    else:
        raise ValueError(f"unknown table kind {kind!r}; known: {KINDS}")
    return pa.Table.from_pydict(cols, schema=SCHEMAS[kind])


def _py(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist()


def _strings(col: pa.ChunkedArray) -> list[str]:
    """A dictionary column as Python strings, sharing one str object per distinct value."""
    out: list[str] = []
    for chunk in col.chunks:
        if isinstance(chunk, pa.DictionaryArray):
            words = chunk.dictionary.to_pylist()
            out.extend([words[i] for i in chunk.indices.to_numpy(zero_copy_only=False).tolist()])
        else:
            out.extend(chunk.to_pylist())
    return out


def _level_lists(table: pa.Table, px_name: str, sz_name: str) -> list[list[tuple[int, int]]]:
    px = table.column(px_name).combine_chunks()
    sz = table.column(sz_name).combine_chunks()
    p = px.flatten().to_numpy().tolist()
    q = sz.flatten().to_numpy().tolist()
    offs = px.offsets.to_numpy()
    offs = (offs - offs[0]).tolist()
    return [list(zip(p[a:b], q[a:b], strict=True)) for a, b in pairwise(offs)]


def from_table(kind: str, table: pa.Table) -> list[Event]:
    """The events of a decoded table, row by row (exact inverse of `to_table`)."""
    n = table.num_rows
    if n == 0:
        return []
    venue = _strings(table.column("venue"))
    symbol = _strings(table.column("symbol"))
    recv = _py(table, "recv_ns")
    if kind == "book_delta":
        bids = _level_lists(table, "bid_px", "bid_sz")
        asks = _level_lists(table, "ask_px", "ask_sz")
        return list(map(BookDelta, venue, symbol, _py(table, "first_update_id"), _py(table, "last_update_id"),
                        bids, asks, _py(table, "exchange_ns"), recv, _py(table, "prev_update_id"),
                        _py(table, "checksum")))
    if kind == "book_snapshot":
        bids = _level_lists(table, "bid_px", "bid_sz")
        asks = _level_lists(table, "ask_px", "ask_sz")
        return list(map(BookSnapshot, venue, symbol, _py(table, "update_id"), bids, asks,
                        _py(table, "exchange_ns"), recv, _py(table, "checksum")))
    if kind == "quote":
        return list(map(Quote, venue, symbol, _py(table, "update_id"), _py(table, "bid_px"), _py(table, "bid_qty"),
                        _py(table, "ask_px"), _py(table, "ask_qty"), _py(table, "exchange_ns"), recv))
    if kind == "trade":
        sides = [Side.BUY if s == "BUY" else Side.SELL for s in _strings(table.column("side"))]
        return list(map(Trade, venue, symbol, _py(table, "trade_id"), _py(table, "price"), _py(table, "size"),
                        sides, _py(table, "exchange_ns"), recv))
    if kind == "bar":
        return list(map(Bar, venue, symbol, _py(table, "open"), _py(table, "high"), _py(table, "low"),
                        _py(table, "close"), _py(table, "volume"), _py(table, "start_ns"), _py(table, "end_ns"), recv))
    raise ValueError(f"unknown table kind {kind!r}; known: {KINDS}")
