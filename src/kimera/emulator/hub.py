"""The emulated exchange's state: the true book per symbol, client connections, and fault-aware delivery.

Every protocol (Binance, Kraken) publishes through `Hub.deliver`, so faults behave the same on all of them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from kimera.book import SyncedBook
from kimera.emulator.faults import FaultKind, FaultPlan
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Quote, Trade
from kimera.venues.registry import venue_spec

_conn_ids = itertools.count(1)


@dataclass
class Connection:
    """One client websocket: its subscriptions (protocol-specific), and the faults in effect on it."""

    ws: web.WebSocketResponse
    id: int = field(default_factory=lambda: next(_conn_ids))
    subs: dict[str, object] = field(default_factory=dict)
    stalled_until: float = 0.0
    held: str | None = None  # a reordered message waiting for the next book message
    closed: bool = False
    sent: int = 0
    last_send: float = field(default_factory=time.monotonic)

    async def send(self, text: str) -> None:
        """Send one text frame now (unless closed or stalled); a vanished peer marks the connection closed."""
        if self.closed or self.stalled_until > time.monotonic():
            return
        try:
            await self.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            self.closed = True
            return
        self.sent += 1
        self.last_send = time.monotonic()


def rescale(e: Event, fp: int, fq: int) -> Event:
    """The same event with prices x `fp` and sizes x `fq` (exact: the wire scale is a multiple)."""
    if fp == 1 and fq == 1:
        return e
    if isinstance(e, BookSnapshot):
        return BookSnapshot(e.venue, e.symbol, e.update_id, [(p * fp, q * fq) for p, q in e.bids],
                            [(p * fp, q * fq) for p, q in e.asks], e.exchange_ns, e.recv_ns, e.checksum)
    if isinstance(e, BookDelta):
        return BookDelta(e.venue, e.symbol, e.first_update_id, e.last_update_id, [(p * fp, q * fq) for p, q in e.bids],
                         [(p * fp, q * fq) for p, q in e.asks], e.exchange_ns, e.recv_ns, e.prev_update_id, e.checksum)
    if isinstance(e, Trade):
        return Trade(e.venue, e.symbol, e.trade_id, e.price * fp, e.size * fq, e.side, e.exchange_ns, e.recv_ns)
    if isinstance(e, Quote):
        return Quote(e.venue, e.symbol, e.update_id, e.bid_px * fp, e.bid_qty * fq, e.ask_px * fp, e.ask_qty * fq,
                     e.exchange_ns, e.recv_ns)
    return e


def scale_factors(src: Instrument, wire: Instrument) -> tuple[int, int]:
    """Multipliers from the source's integer scale to the wire's; the wire must be at least as fine."""
    dp, ds = wire.price_decimals - src.price_decimals, wire.size_decimals - src.size_decimals
    if dp < 0 or ds < 0:
        raise ValueError(f"{src.key} has finer decimals ({src.price_decimals}/{src.size_decimals}) than the "
                         f"venue's wire format for {wire.key} ({wire.price_decimals}/{wire.size_decimals})")
    return 10**dp, 10**ds


class Hub:
    """True books (one `SyncedBook` per symbol, in wire units), connections, and the fault plan."""

    def __init__(self, faults: FaultPlan | None = None) -> None:
        self.faults = faults or FaultPlan()
        self.books: dict[str, SyncedBook] = {}
        self.source_instruments: dict[str, Instrument] = {}
        self.connections: dict[int, Connection] = {}
        self.book_seq = 0  # book messages published so far (the fault plan's clock)
        self.published = 0  # every market-data message published
        self._closing: set[asyncio.Task[bool]] = set()

    def truth(self, symbol: str, source_venue: str, wire: Instrument) -> SyncedBook:
        """The true book of `symbol`, checked by the source venue's own rule (and checksum, if any)."""
        sb = self.books.get(symbol)
        if sb is None:
            spec = venue_spec(source_venue)
            sb = self.books[symbol] = SyncedBook(wire, spec.rule(), spec.checksum)
        return sb

    def add(self, ws: web.WebSocketResponse) -> Connection:
        """Register a new client connection."""
        conn = Connection(ws)
        self.connections[conn.id] = conn
        return conn

    def remove(self, conn: Connection) -> None:
        """Forget a connection."""
        conn.closed = True
        self.connections.pop(conn.id, None)

    def next_book_seq(self) -> int:
        """Number the next published book message."""
        s = self.book_seq
        self.book_seq += 1
        return s

    async def deliver(self, conn: Connection, text: str, seq: int | None = None, update_id: int = -1,
                      corrupt: Callable[[str], str] | None = None) -> None:
        """Send `text` to `conn`, applying the fault planned for book message `seq` (None: not a book message)."""
        if conn.closed:
            return
        fault = self.faults.at(seq) if seq is not None else None
        if fault is not None and conn.stalled_until <= time.monotonic():
            kind = fault.kind
            if kind is FaultKind.CORRUPT_CHECKSUM and corrupt is None:
                raise ValueError("CORRUPT_CHECKSUM planned on a protocol without checksums")
            self.faults.record(fault, conn.id, update_id)
            if kind is FaultKind.DROP:
                return
            if kind is FaultKind.REORDER:
                conn.held = text
                return
            if kind is FaultKind.CLOSE:
                conn.closed = True  # close in the background: the feed does not wait for the client's reply
                task = asyncio.get_running_loop().create_task(conn.ws.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                return
            if kind is FaultKind.STALL:
                conn.stalled_until = time.monotonic() + fault.duration_s
                return
            if kind is FaultKind.DUPLICATE:
                await conn.send(text)
            elif kind is FaultKind.CORRUPT_CHECKSUM and corrupt is not None:
                text = corrupt(text)
        await conn.send(text)
        if seq is not None and conn.held is not None:
            held, conn.held = conn.held, None
            await conn.send(held)
