"""The L2 order book: per side a dict (price -> size) for O(1) level updates plus a sorted price list.

Design (measured in `kimera bench --only book`): a Python dict gives O(1) updates of an existing level,
which is what most diff levels are; only a new or deleted price touches the sorted list, through C-level
`bisect` and list insert/delete (a memmove of at most a few KB). This beat `sortedcontainers.SortedDict`
and the `order-book` C package on the real BTCUSDT capture, with exact integer keys.
Bids are kept ascending like asks, so the best bid is the last element.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from kimera.model import BookDelta, BookSnapshot, Instrument, Level


class CrossedBookError(RuntimeError):
    """The book's best bid is at or above its best ask."""


class BookSide:
    """One side of the book: levels keyed by integer price; `prices` ascending."""

    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, int] = {}
        self.prices: list[int] = []

    def clear(self) -> None:
        """Remove every level."""
        self.levels.clear()
        self.prices.clear()

    def load(self, levels: Iterable[Level]) -> None:
        """Replace the side with `levels` (size 0 entries ignored)."""
        self.levels = {p: q for p, q in levels if q > 0}
        self.prices = sorted(self.levels)

    def update(self, levels: Iterable[Level]) -> int:
        """Apply level updates (size 0 deletes); returns how many were applied."""
        book = self.levels
        prices = self.prices
        n = 0
        for price, size in levels:
            n += 1
            if size:
                if price not in book:
                    insort(prices, price)
                book[price] = size
            elif price in book:
                del book[price]
                del prices[bisect_left(prices, price)]
        return n

    def truncate(self, n: int) -> int:
        """Keep only the best `n` levels (venues with a subscribed depth send no deletes beyond it)."""
        extra = len(self.prices) - n
        if extra <= 0:
            return 0
        if self.is_bid:
            gone, self.prices = self.prices[:extra], self.prices[extra:]
        else:
            gone, self.prices = self.prices[n:], self.prices[:n]
        for p in gone:
            del self.levels[p]
        return extra

    def set(self, price: int, size: int) -> None:
        """Set one level (size 0 deletes)."""
        self.update(((price, size),))

    def best(self) -> Level | None:
        """The best level, or None when the side is empty."""
        if not self.prices:
            return None
        p = self.prices[-1] if self.is_bid else self.prices[0]
        return (p, self.levels[p])

    def top(self, n: int) -> list[Level]:
        """The best `n` levels, best first."""
        prices = self.prices[: -n - 1 : -1] if self.is_bid else self.prices[:n]
        lv = self.levels
        return [(p, lv[p]) for p in prices]

    def iter_best(self) -> Iterable[Level]:
        """All levels, best first (a lazy walk for fills and cost)."""
        lv = self.levels
        it = reversed(self.prices) if self.is_bid else iter(self.prices)
        for p in it:
            yield (p, lv[p])

    def __len__(self) -> int:
        return len(self.prices)


class OrderBook:
    """An exact L2 book for one instrument. Prices and sizes are fixed-point ints (see `Instrument`)."""

    __slots__ = ("asks", "bids", "instrument", "last_update_id", "updates_applied")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.bids = BookSide(True)
        self.asks = BookSide(False)
        self.last_update_id = -1
        self.updates_applied = 0

    # -- mutation -------------------------------------------------------------------------------
    def apply_snapshot(self, snap: BookSnapshot) -> None:
        """Replace the whole book with a snapshot."""
        self.bids.load(snap.bids)
        self.asks.load(snap.asks)
        self.last_update_id = snap.update_id

    def apply_delta(self, delta: BookDelta) -> None:
        """Apply a delta's levels (no sequence checks: `SyncedBook` does those)."""
        self.updates_applied += self.bids.update(delta.bids) + self.asks.update(delta.asks)
        self.last_update_id = delta.last_update_id

    def truncate(self, depth: int) -> None:
        """Keep only the best `depth` levels per side."""
        self.bids.truncate(depth)
        self.asks.truncate(depth)

    def clear(self) -> None:
        """Empty the book."""
        self.bids.clear()
        self.asks.clear()
        self.last_update_id = -1

    # -- queries --------------------------------------------------------------------------------
    def best_bid(self) -> Level | None:
        """Best bid `(price, size)` or None."""
        return self.bids.best()

    def best_ask(self) -> Level | None:
        """Best ask `(price, size)` or None."""
        return self.asks.best()

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """Top-n bids and asks, best first."""
        return self.bids.top(n), self.asks.top(n)

    def mid(self) -> float | None:
        """Mid price as float, None unless both sides have a level."""
        b, a = self.bids.prices, self.asks.prices
        if not b or not a:
            return None
        return (b[-1] + a[0]) / (2 * self.instrument.price_scale)

    def spread(self) -> int | None:
        """Best ask minus best bid in price units (ticks of 10**-decimals), None if a side is empty."""
        b, a = self.bids.prices, self.asks.prices
        if not b or not a:
            return None
        return a[0] - b[-1]

    def is_crossed(self) -> bool:
        """True when best bid >= best ask (an impossible book: a sync or data error)."""
        b, a = self.bids.prices, self.asks.prices
        return bool(b and a and b[-1] >= a[0])

    def imbalance(self, n: int = 1) -> float:
        """(bid size - ask size) / (bid size + ask size) over the top-n levels, in [-1, 1]; 0 if empty."""
        bq = sum(q for _, q in self.bids.top(n))
        aq = sum(q for _, q in self.asks.top(n))
        tot = bq + aq
        return (bq - aq) / tot if tot else 0.0

    def cost_to_fill(self, buy: bool, size: int) -> tuple[int, int]:
        """Walk the opposite side for `size`: returns (notional in price*size units, size filled).

        `buy=True` walks the asks. The notional is exact (int); divide by both scales for money.
        """
        if size < 0:
            raise ValueError(f"size must be non-negative, got {size}")
        side = self.asks if buy else self.bids
        left = size
        notional = 0
        for p, q in side.iter_best():
            take = q if q < left else left
            notional += take * p
            left -= take
            if not left:
                break
        return notional, size - left

    def vwap(self, buy: bool, size: int) -> float | None:
        """Volume-weighted price to fill `size` (float); None if the side cannot fill all of it."""
        notional, filled = self.cost_to_fill(buy, size)
        if filled < size or size == 0:
            return None
        return notional / filled / self.instrument.price_scale

    def check_not_crossed(self) -> None:
        """Raise `CrossedBookError` if the book is crossed."""
        if self.is_crossed():
            bb, ba = self.best_bid(), self.best_ask()
            raise CrossedBookError(f"{self.instrument.key} crossed: bid {bb} >= ask {ba}")

    def __repr__(self) -> str:
        return f"OrderBook({self.instrument.key}, bid={self.best_bid()}, ask={self.best_ask()}, u={self.last_update_id})"
