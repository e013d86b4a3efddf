"""The L2 order book: per side a dict (price -> size) for O(1) level updates plus a sorted key list.

Design (measured in `kimera bench --only book`): a Python dict gives O(1) updates of an existing level,
which is what most diff levels are; only a new or deleted price touches the sorted list, through C-level
`bisect` and list insert/delete. That list holds `sign·price` (bids: +price, asks: −price) ascending, so
on BOTH sides the best level is the last element: the levels that change most (near the touch) sit at the
end of the list and an insert or delete there moves only a few entries (with asks ascending at the front,
every change near the best ask moved the whole side, ~2,500 entries). This beat
`sortedcontainers.SortedDict` and the `order-book` C package on the real BTCUSDT capture, exact integer keys.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from operator import itemgetter, neg

from kimera.model import BookDelta, BookSnapshot, Instrument, Level


class CrossedBookError(RuntimeError):
    """The book's best bid is at or above its best ask."""


class BookSide:
    """One side of the book, kept on keys k = sign·price (sign +1 for bids, −1 for asks): `sizes` maps key ->
    size and `keys` holds the keys ascending, so on either side `keys[-1]` is the best level and
    `sign * keys[-n]` the n-th best price. Hot readers use `keys`, `sizes` and `sign` directly (read only:
    every change goes through the methods, which keep `size_from`'s running total); everything else uses the
    price-based methods (`size_at`, `best`, `top`, `prices`, ...)."""

    __slots__ = ("_wkey", "_wsum", "is_bid", "keys", "sign", "sizes")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.sign = 1 if is_bid else -1
        self.sizes: dict[int, int] = {}
        self.keys: list[int] = []
        self._wkey: int | None = None  # `size_from`'s key: while set, `update` keeps `_wsum` current
        self._wsum = 0

    def clear(self) -> None:
        """Remove every level."""
        self.sizes.clear()
        self.keys.clear()
        self._wkey = None

    def load(self, levels: Iterable[Level]) -> None:
        """Replace the side with `levels` (size 0 entries ignored)."""
        sign = self.sign
        self._wkey = None
        self.sizes = {sign * p: q for p, q in levels if q > 0}
        self.keys = sorted(self.sizes)

    def update(self, levels: Iterable[Level]) -> int:
        """Apply level updates (size 0 deletes); returns how many were applied."""
        if not isinstance(levels, list | tuple):
            levels = list(levels)
        wk = self._wkey
        if wk is not None:
            return self._update_watched(levels, wk)
        book = self.sizes
        keys = self.keys
        sign = self.sign
        for price, size in levels:
            k = sign * price
            if size:
                if k not in book:
                    insort(keys, k)
                book[k] = size
            elif k in book:
                del book[k]
                del keys[bisect_left(keys, k)]
        return len(levels)

    def _update_watched(self, levels: list[Level] | tuple[Level, ...], lo: int) -> int:
        """`update` while `size_from` is watched: also moves each changed level's size in or out of the running
        total of the levels with key >= the watched key (any error drops the total: the next query re-sums)."""
        book = self.sizes
        keys = self.keys
        sign = self.sign
        total = self._wsum
        try:
            for price, size in levels:
                k = sign * price
                if size:
                    if k >= lo:  # inside the watched range: move the total by the size change
                        old = book.get(k)
                        if old is None:
                            insort(keys, k)
                            total += size
                        else:
                            total += size - old
                    elif k not in book:
                        insort(keys, k)
                    book[k] = size
                elif k in book:
                    if k >= lo:
                        total -= book[k]
                    del book[k]
                    del keys[bisect_left(keys, k)]
        except BaseException:
            self._wkey = None
            raise
        self._wsum = total
        return len(levels)

    def size_from(self, key: int) -> int:
        """Total size of the levels with key >= `key` (sign·price: from the best level down to that price),
        kept incrementally: `update` adjusts it per changed level, and a new `key` only sums the levels
        between it and the previous one (the same exact int sum as adding up every level there)."""
        keys = self.keys
        sizes = self.sizes
        wk = self._wkey
        if wk is None:
            total = _sum_sizes(sizes, keys[bisect_left(keys, key) :])
        elif key > wk:
            total = self._wsum - _sum_sizes(sizes, keys[bisect_left(keys, wk) : bisect_left(keys, key)])
        elif key < wk:
            total = self._wsum + _sum_sizes(sizes, keys[bisect_left(keys, key) : bisect_left(keys, wk)])
        else:
            return self._wsum
        self._wkey = key
        self._wsum = total
        return total

    def size_at(self, price: int) -> int:
        """The size resting at `price` (0 when there is no level)."""
        return self.sizes.get(self.sign * price, 0)

    @property
    def prices(self) -> list[int]:
        """Every price, ascending (a new list: O(n), for tools and tests rather than hot paths)."""
        return list(self.keys) if self.is_bid else [-k for k in reversed(self.keys)]

    def as_dict(self) -> dict[int, int]:
        """price -> size of every level (a new dict: O(n))."""
        sign = self.sign
        return {sign * k: q for k, q in self.sizes.items()}

    def truncate(self, n: int) -> int:
        """Keep only the best `n` levels (venues with a subscribed depth send no deletes beyond it)."""
        keys = self.keys
        extra = len(keys) - n
        if extra <= 0:
            return 0
        gone, self.keys = keys[:extra], keys[extra:]
        self._wkey = None
        sizes = self.sizes
        for k in gone:
            del sizes[k]
        return extra

    def set(self, price: int, size: int) -> None:
        """Set one level (size 0 deletes)."""
        self.update(((price, size),))

    def best_price(self) -> int | None:
        """The best price, or None when the side is empty."""
        return self.sign * self.keys[-1] if self.keys else None

    def best(self) -> Level | None:
        """The best level, or None when the side is empty."""
        if not self.keys:
            return None
        k = self.keys[-1]
        return (self.sign * k, self.sizes[k])

    def top_prices(self, n: int) -> list[int]:
        """The best `n` prices, best first."""
        ks = self.keys[: -n - 1 : -1]
        return ks if self.is_bid else list(map(neg, ks))

    def top(self, n: int) -> list[Level]:
        """The best `n` levels, best first."""
        sz, sign = self.sizes, self.sign
        return [(sign * k, sz[k]) for k in self.keys[: -n - 1 : -1]]

    def rank(self, price: int) -> int:
        """How many levels are better than `price` (0: the best), or −1 when there is no level at `price`."""
        keys = self.keys
        k = self.sign * price
        i = bisect_left(keys, k)
        if i >= len(keys) or keys[i] != k:
            return -1
        return len(keys) - 1 - i

    def within_keys(self, limit: int) -> list[int]:
        """Keys of the levels from the best up to price `limit` inclusive (bids >= limit, asks <= limit),
        worst first: `sum(map(side.sizes.__getitem__, ...))` is the size resting there."""
        keys = self.keys
        return keys[bisect_left(keys, self.sign * limit) :]

    def iter_best(self) -> Iterator[Level]:
        """All levels, best first (a lazy walk for fills and cost)."""
        sz, sign = self.sizes, self.sign
        for k in reversed(self.keys):
            yield (sign * k, sz[k])

    def __len__(self) -> int:
        return len(self.keys)


def _sum_sizes(sizes: dict[int, int], keys: list[int]) -> int:
    """Sum of `sizes[k]` over `keys` (one C call for many keys: a 1-key itemgetter returns a scalar)."""
    if len(keys) > 1:
        return sum(itemgetter(*keys)(sizes))
    return sizes[keys[0]] if keys else 0


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
        b, a = self.bids.keys, self.asks.keys
        if not b or not a:
            return None
        return (b[-1] - a[-1]) / (2 * self.instrument.price_scale)

    def spread(self) -> int | None:
        """Best ask minus best bid in price units (ticks of 10**-decimals), None if a side is empty."""
        b, a = self.bids.keys, self.asks.keys
        if not b or not a:
            return None
        return -a[-1] - b[-1]

    def is_crossed(self) -> bool:
        """True when best bid >= best ask (an impossible book: a sync or data error)."""
        b, a = self.bids.keys, self.asks.keys
        return bool(b and a and b[-1] >= -a[-1])

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
