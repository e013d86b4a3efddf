"""Normalised market events. Every event has `exchange_ns` (the venue's clock) and `recv_ns` (ours).

Prices and sizes are fixed-point integers at the instrument's scale (see `kimera.model.fixed`).
Levels are `(price, size)` tuples; a size of 0 in a delta deletes the level.
"""

from __future__ import annotations

import msgspec

from kimera.model.instrument import Side

Level = tuple[int, int]


class BookSnapshot(msgspec.Struct, gc=False):
    """A full book (both sides, best first) as of `update_id`."""

    venue: str
    symbol: str
    update_id: int
    bids: list[Level]
    asks: list[Level]
    exchange_ns: int
    recv_ns: int
    checksum: int | None = None


class BookDelta(msgspec.Struct, gc=False):
    """Level changes covering update ids `first_update_id..last_update_id`.

    `prev_update_id` is the venue's link to the previous message (`pu` on Binance USD-M, `prevSeqId` on
    OKX); -1 where the venue does not send one. `checksum` is the venue's book checksum, if any.
    """

    venue: str
    symbol: str
    first_update_id: int
    last_update_id: int
    bids: list[Level]
    asks: list[Level]
    exchange_ns: int
    recv_ns: int
    prev_update_id: int = -1
    checksum: int | None = None


class Quote(msgspec.Struct, gc=False):
    """Top of book as published by the venue (e.g. Binance bookTicker), with its update id."""

    venue: str
    symbol: str
    update_id: int
    bid_px: int
    bid_qty: int
    ask_px: int
    ask_qty: int
    exchange_ns: int
    recv_ns: int


class Trade(msgspec.Struct, gc=False):
    """One print; `side` is the aggressor (taker) side."""

    venue: str
    symbol: str
    trade_id: int
    price: int
    size: int
    side: Side
    exchange_ns: int
    recv_ns: int


class Bar(msgspec.Struct, gc=False):
    """OHLCV over [start_ns, end_ns)."""

    venue: str
    symbol: str
    open: int
    high: int
    low: int
    close: int
    volume: int
    start_ns: int
    end_ns: int
    recv_ns: int = 0


Event = BookSnapshot | BookDelta | Quote | Trade | Bar
