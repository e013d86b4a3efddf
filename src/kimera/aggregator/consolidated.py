"""The consolidated book: every venue's book of one instrument, queried from memory as one market.

Venues keep their own integer scales; the consolidated view works on one common integer scale
(`price_decimals`/`size_decimals`, at least as fine as every venue's, so the conversion is exact) and
reports money as floats. A venue is left out of every answer, and named in `excluded`, while its book is
untrusted, empty on the side asked, or stale (no update for `stale_after_s`). No query touches the network.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from kimera.book import OrderBook, SyncedBook
from kimera.model import Level


class VenueLevel(NamedTuple):
    """A price level of one venue, on the common scale (ints) with float views."""

    venue: str
    price: int
    size: int
    price_scale: int
    size_scale: int

    @property
    def px(self) -> float:
        """Price as a float."""
        return self.price / self.price_scale

    @property
    def qty(self) -> float:
        """Size as a float."""
        return self.size / self.size_scale


@dataclass
class Top:
    """Best bid and ask across healthy venues, with the venues left out and why."""

    bid: VenueLevel | None
    ask: VenueLevel | None
    excluded: dict[str, str] = field(default_factory=dict)


@dataclass
class LadderRow:
    """One price of the merged ladder: total size and each venue's share (common scale)."""

    price: int
    size: int
    by_venue: dict[str, int]


@dataclass
class Fill:
    """Walking the merged book for a size: what fills, at what cost, where, and the taker fees."""

    buy: bool
    requested: float
    filled: float
    notional: float  # before fees
    fees: float
    legs: dict[str, tuple[float, float]]  # venue -> (size, notional)
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def avg_price(self) -> float | None:
        """Volume-weighted price (before fees), None if nothing filled."""
        return self.notional / self.filled if self.filled else None

    @property
    def complete(self) -> bool:
        """True when the whole size filled."""
        return self.filled >= self.requested


@dataclass
class Arbitrage:
    """Buy on `buy_venue` at its asks, sell on `sell_venue` at its bids, while it pays net of both taker fees."""

    buy_venue: str
    sell_venue: str
    size: float
    buy_notional: float
    sell_notional: float
    fees: float
    top_edge: float  # per unit at the top of book: bid*(1-fee_sell) - ask*(1+fee_buy)

    @property
    def gross(self) -> float:
        """Sell proceeds minus buy cost, before fees."""
        return self.sell_notional - self.buy_notional

    @property
    def net(self) -> float:
        """Profit after both taker fees."""
        return self.gross - self.fees


@dataclass
class _Venue:
    name: str
    synced: SyncedBook | None
    book: OrderBook
    fp: int  # price multiplier to the common scale
    fq: int
    taker_fee: float
    freshness: Callable[[], float] | None
    touched: float = 0.0


class ConsolidatedBook:
    """Books of one instrument across venues; every query answers from memory."""

    def __init__(self, symbol: str, price_decimals: int = 8, size_decimals: int = 8, stale_after_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.symbol = symbol
        self.price_decimals, self.size_decimals = price_decimals, size_decimals
        self.price_scale, self.size_scale = 10**price_decimals, 10**size_decimals
        self.stale_after_s = stale_after_s
        self.clock = clock
        self.venues: dict[str, _Venue] = {}

    def add_venue(self, name: str, book: SyncedBook | OrderBook, taker_fee: float | None = None,
                  freshness: Callable[[], float] | None = None) -> None:
        """Add a venue's book. `freshness()` returns the clock time of its last update (default: `touch()`)."""
        if name in self.venues:
            raise ValueError(f"venue {name!r} already in the consolidated book of {self.symbol}")
        synced = book if isinstance(book, SyncedBook) else None
        ob = book.book if isinstance(book, SyncedBook) else book
        inst = ob.instrument
        dp, ds = self.price_decimals - inst.price_decimals, self.size_decimals - inst.size_decimals
        if dp < 0 or ds < 0:
            raise ValueError(f"{inst.key} uses {inst.price_decimals}/{inst.size_decimals} decimals, finer than the "
                             f"consolidated scale {self.price_decimals}/{self.size_decimals}: raise the latter")
        fee = inst.taker_fee if taker_fee is None else taker_fee
        if not 0 <= fee < 1:
            raise ValueError(f"taker fee of {name} must be in [0, 1), got {fee}")
        self.venues[name] = _Venue(name, synced, ob, 10**dp, 10**ds, fee, freshness, self.clock())

    def add_stream(self, name: str, client: object) -> None:
        """Add a `StreamClient`: its synced book, its instrument's taker fee, its last-message time as freshness."""
        from kimera.venues.stream import StreamClient

        if not isinstance(client, StreamClient):
            raise TypeError(f"expected a StreamClient, got {type(client).__name__}")
        health = client.health
        self.add_venue(name, client.book, freshness=lambda: health.last_message_mono)

    def touch(self, venue: str, when: float | None = None) -> None:
        """Record that `venue` just updated (for venues added without a freshness function)."""
        self.venues[venue].touched = self.clock() if when is None else when

    # -- health ---------------------------------------------------------------------------------------
    def problem(self, v: _Venue, now: float) -> str | None:
        """Why a venue is excluded right now (None when healthy)."""
        if v.synced is not None and not v.synced.trusted:
            return "untrusted"
        last = v.freshness() if v.freshness is not None else v.touched
        if now - last > self.stale_after_s:
            return f"stale ({now - last:.1f}s)"
        return None

    def healthy(self) -> tuple[list[_Venue], dict[str, str]]:
        """The venues usable now, and the others with the reason."""
        now = self.clock()
        ok: list[_Venue] = []
        bad: dict[str, str] = {}
        for v in self.venues.values():
            why = self.problem(v, now)
            if why is None:
                ok.append(v)
            else:
                bad[v.name] = why
        return ok, bad

    # -- top of book ------------------------------------------------------------------------------------
    def top(self) -> Top:
        """Best bid and ask across healthy venues (ties: the first venue added); the hot path, kept flat."""
        now = self.clock()
        limit = self.stale_after_s
        bad: dict[str, str] = {}
        bid_p = ask_p = 0
        vb: _Venue | None = None
        va: _Venue | None = None
        for v in self.venues.values():
            sb = v.synced
            if sb is not None and not sb.trusted:
                bad[v.name] = "untrusted"
                continue
            age = now - (v.freshness() if v.freshness is not None else v.touched)
            if age > limit:
                bad[v.name] = f"stale ({age:.1f}s)"
                continue
            b = v.book.bids.keys  # sign·price ascending: the best level last (ask keys are −price)
            if b and (vb is None or b[-1] * v.fp > bid_p):
                bid_p, vb = b[-1] * v.fp, v
            a = v.book.asks.keys
            if a and (va is None or -a[-1] * v.fp < ask_p):
                ask_p, va = -a[-1] * v.fp, v
        ps, qs = self.price_scale, self.size_scale
        bid = None if vb is None else VenueLevel(
            vb.name, bid_p, vb.book.bids.sizes[vb.book.bids.keys[-1]] * vb.fq, ps, qs)
        ask = None if va is None else VenueLevel(
            va.name, ask_p, va.book.asks.sizes[va.book.asks.keys[-1]] * va.fq, ps, qs)
        return Top(bid, ask, bad)

    def best_bid(self) -> VenueLevel | None:
        """The highest bid across healthy venues."""
        return self.top().bid

    def best_ask(self) -> VenueLevel | None:
        """The lowest ask across healthy venues."""
        return self.top().ask

    # -- depth --------------------------------------------------------------------------------------------
    def _walk(self, v: _Venue, bids: bool) -> Iterator[Level]:
        side = v.book.bids if bids else v.book.asks
        fp, fq = v.fp, v.fq
        for p, q in side.iter_best():
            yield p * fp, q * fq

    def _merged(self, venues: list[_Venue], bids: bool) -> Iterator[tuple[int, int, str]]:
        """All healthy levels of one side, best first: (price, size, venue) on the common scale."""
        def keyed(rank: int, v: _Venue) -> Iterator[tuple[int, int, int, str]]:
            for p, q in self._walk(v, bids):
                yield (-p if bids else p), rank, q, v.name  # equal prices: the venue added first first

        for k, _, q, name in heapq.merge(*(keyed(r, v) for r, v in enumerate(venues))):
            yield (-k if bids else k), q, name

    def depth(self, n: int) -> tuple[list[LadderRow], list[LadderRow]]:
        """The merged ladder: top `n` prices per side, each with its total size and per-venue sizes."""
        ok, _ = self.healthy()
        out: list[list[LadderRow]] = []
        for bids in (True, False):
            rows: list[LadderRow] = []
            for p, q, name in self._merged(ok, bids):
                if rows and rows[-1].price == p:
                    row = rows[-1]
                    row.size += q
                    row.by_venue[name] = row.by_venue.get(name, 0) + q
                    continue
                if len(rows) == n:
                    break
                rows.append(LadderRow(p, q, {name: q}))
            out.append(rows)
        return out[0], out[1]

    # -- fills and arbitrage ------------------------------------------------------------------------------
    def cost_to_fill(self, buy: bool, size: float) -> Fill:
        """Take `size` (base units) from the best prices across healthy venues, with each venue's taker fee."""
        if size < 0:
            raise ValueError(f"size must be non-negative, got {size}")
        ok, bad = self.healthy()
        fees = {v.name: v.taker_fee for v in ok}
        left = round(size * self.size_scale)
        want = left
        notional = 0
        fee_total = 0.0
        legs: dict[str, list[int]] = {}
        for p, q, name in self._merged(ok, not buy):
            if left <= 0:
                break
            take = q if q < left else left
            left -= take
            notional += take * p
            leg = legs.setdefault(name, [0, 0])
            leg[0] += take
            leg[1] += take * p
            fee_total += take * p * fees[name]
        money = self.price_scale * self.size_scale
        return Fill(buy, size, (want - left) / self.size_scale, notional / money, fee_total / money,
                    {k: (s / self.size_scale, n / money) for k, (s, n) in legs.items()}, bad)

    def arbitrage(self, max_size: float | None = None) -> list[Arbitrage]:
        """Every pair of healthy venues where buying one's asks and selling the other's bids pays after both
        taker fees, walked level by level while the marginal unit still pays; best net first."""
        ok, _ = self.healthy()
        money = self.price_scale * self.size_scale
        cap = round(max_size * self.size_scale) if max_size is not None else None
        found: list[Arbitrage] = []
        for a in ok:
            for b in ok:
                if a is b or not a.book.asks.keys or not b.book.bids.keys:
                    continue
                fa, fb = a.taker_fee, b.taker_fee
                ask0 = -a.book.asks.keys[-1] * a.fp
                bid0 = b.book.bids.keys[-1] * b.fp
                edge = (bid0 * (1 - fb) - ask0 * (1 + fa)) / self.price_scale
                if edge <= 0:
                    continue
                asks, bids = self._walk(a, False), self._walk(b, True)
                (ap, aq), (bp, bq) = next(asks), next(bids)
                filled = buy_n = sell_n = 0
                fees = 0.0
                while bp * (1 - fb) > ap * (1 + fa) and (cap is None or filled < cap):
                    take = min(aq, bq) if cap is None else min(aq, bq, cap - filled)
                    filled += take
                    buy_n += take * ap
                    sell_n += take * bp
                    fees += take * (ap * fa + bp * fb)
                    aq -= take
                    bq -= take
                    try:
                        if not aq:
                            ap, aq = next(asks)
                        if not bq:
                            bp, bq = next(bids)
                    except StopIteration:
                        break
                found.append(Arbitrage(a.name, b.name, filled / self.size_scale, buy_n / money, sell_n / money,
                                       fees / money, edge))
        found.sort(key=lambda x: x.net, reverse=True)
        return found
