"""L2 order books: the book itself, and the sequence-number sync that keeps it exact."""

from kimera.book.orderbook import CrossedBookError, OrderBook
from kimera.book.sync import (
    BinanceFuturesRule,
    BinanceSpotRule,
    ContiguousRule,
    PrevIdRule,
    SequenceRule,
    SyncedBook,
    SyncStatus,
    UnorderedRule,
)

__all__ = [
    "BinanceFuturesRule",
    "BinanceSpotRule",
    "ContiguousRule",
    "CrossedBookError",
    "OrderBook",
    "PrevIdRule",
    "SequenceRule",
    "SyncStatus",
    "SyncedBook",
    "UnorderedRule",
]
