"""Keeps one synced book per instrument from the bus's snapshots and deltas; publishes `BookUpdate`s."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from kimera.book import OrderBook, SyncedBook, SyncStatus
from kimera.engine.bus import MessageBus
from kimera.model import BookDelta, BookSnapshot, Instrument, Quote
from kimera.venues.registry import venue_spec


class BookUpdate(msgspec.Struct, gc=False):
    """Published after every applied snapshot or delta: the (trusted) book and the event's time."""

    book: OrderBook
    recv_ns: int
    update_id: int


class BookManager:
    """Routes book events to a `SyncedBook` per `VENUE:SYMBOL` and counts what happened."""

    def __init__(
        self,
        bus: MessageBus,
        instruments: Callable[[str, str], Instrument],
        check_crossed: bool = True,
    ) -> None:
        self.bus = bus
        self.instrument_for = instruments
        self.books: dict[str, SyncedBook] = {}  # by "VENUE:SYMBOL"
        self._by_pair: dict[tuple[str, str], SyncedBook] = {}  # same books, keyed without building a string
        self.check_crossed = check_crossed
        self.crossed = 0
        self.bbo_matches = 0
        self.bbo_mismatches = 0
        self.mismatch_examples: list[str] = []
        bus.subscribe(BookSnapshot, self.on_snapshot)
        bus.subscribe(BookDelta, self.on_delta)
        bus.subscribe(Quote, self.on_quote)

    def synced(self, venue: str, symbol: str) -> SyncedBook:
        """The synced book for an instrument, created on first use with the venue's rule and checksum."""
        sb = self._by_pair.get((venue, symbol))
        if sb is None:
            spec = venue_spec(venue)
            sb = SyncedBook(self.instrument_for(venue, symbol), spec.rule(), spec.checksum, max_depth=spec.max_depth)
            self.books[f"{venue}:{symbol}"] = sb
            self._by_pair[(venue, symbol)] = sb
        return sb

    def on_snapshot(self, s: BookSnapshot) -> None:
        """Load a snapshot (and the buffered deltas after it)."""
        sb = self.synced(s.venue, s.symbol)
        sb.on_snapshot(s)
        self._after(sb, s.recv_ns)

    def on_delta(self, d: BookDelta) -> None:
        """Apply one delta through the venue's sync rule."""
        sb = self.synced(d.venue, d.symbol)
        if sb.on_delta(d) is SyncStatus.APPLIED:
            self._after(sb, d.recv_ns)

    def _after(self, sb: SyncedBook, recv_ns: int) -> None:
        if not sb.trusted:
            return
        if self.check_crossed and sb.book.is_crossed():
            self.crossed += 1
        self.bus.publish(BookUpdate(sb.book, recv_ns, sb.book.last_update_id))

    def on_quote(self, q: Quote) -> None:
        """Oracle check: where the venue's top-of-book has our last update id, price AND size must match."""
        sb = self._by_pair.get((q.venue, q.symbol))
        if sb is None or not sb.trusted or q.update_id != sb.book.last_update_id:
            return
        if sb.book.best_bid() == (q.bid_px, q.bid_qty) and sb.book.best_ask() == (q.ask_px, q.ask_qty):
            self.bbo_matches += 1
        else:
            self.bbo_mismatches += 1
            if len(self.mismatch_examples) < 5:
                self.mismatch_examples.append(
                    f"u={q.update_id}: ours {sb.book.best_bid()}/{sb.book.best_ask()} venue "
                    f"{(q.bid_px, q.bid_qty)}/{(q.ask_px, q.ask_qty)}"
                )
