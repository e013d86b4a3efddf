"""The emulated exchange's state: the true book per symbol, client connections, and fault-aware delivery.

Every protocol (Binance, Kraken) publishes through `Hub.deliver`, so faults behave the same on all of them.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from kimera.book import SyncedBook
from kimera.emulator.faults import FaultKind, FaultPlan
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Quote, Trade
from kimera.venues.registry import venue_spec

_conn_ids = itertools.count(1)


def ws_frame(text: str) -> bytes:
    """One unmasked server-to-client websocket text frame (RFC 6455 section 5.2)."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


@dataclass
class Connection:
    """One client websocket: its subscriptions (protocol-specific), and the faults in effect on it.

    Outgoing frames are queued and written to the socket in batches (`flush`): one system call for many
    messages, which is what lets one emulator process push well over 50,000 messages a second.
    """

    ws: web.WebSocketResponse
    transport: asyncio.Transport | None = None
    id: int = field(default_factory=lambda: next(_conn_ids))
    stalled_until: float = 0.0
    held: str | None = None  # a reordered message waiting for the next book message
    closed: bool = False
    sent: int = 0
    last_send: float = field(default_factory=time.monotonic)
    stamp: bool = False  # prefix JSON objects with `"_ts": <send time ns>` (latency benchmarks)
    out: list[bytes] = field(default_factory=list)

    def send(self, text: str) -> None:
        """Queue one text frame (unless closed or stalled); `flush()` writes the queue."""
        if self.closed or self.stalled_until > time.monotonic():
            return
        if self.stamp and text.startswith("{"):
            text = f'{{"_ts":{time.time_ns()},{text[1:]}'
        self.out.append(ws_frame(text))

    def flush(self) -> None:
        """Write the queued frames in one go; a vanished peer marks the connection closed."""
        if not self.out:
            return
        t = self.transport
        if self.closed or t is None or t.is_closing():
            self.closed = True
            self.out.clear()
            return
        t.write(b"".join(self.out))
        self.sent += len(self.out)
        self.out.clear()
        self.last_send = time.monotonic()

    def backlog(self) -> int:
        """Bytes written but not yet taken by the kernel (a slow reader's queue)."""
        t = self.transport
        return 0 if t is None or t.is_closing() else t.get_write_buffer_size()


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

    def __init__(self, faults: FaultPlan | None = None, stamp: bool = False) -> None:
        self.faults = faults or FaultPlan()
        self.stamp = stamp
        self.books: dict[str, SyncedBook] = {}
        self.source_instruments: dict[str, Instrument] = {}
        self.connections: dict[int, Connection] = {}
        self.book_seq = 0  # book messages published so far (the fault plan's clock)
        self._reached = -1  # the latest book message handed to a live subscriber
        self.published = 0  # every market-data message published
        self._closing: set[asyncio.Task[bool]] = set()

    def truth(self, symbol: str, source_venue: str, wire: Instrument) -> SyncedBook:
        """The true book of `symbol`, checked by the source venue's own rule (and checksum, if any)."""
        sb = self.books.get(symbol)
        if sb is None:
            spec = venue_spec(source_venue)
            sb = self.books[symbol] = SyncedBook(wire, spec.rule(), spec.checksum)
        return sb

    def add(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None) -> Connection:
        """Register a new client connection (its transport is where frames are written)."""
        assert transport is None or isinstance(transport, asyncio.Transport)
        conn = Connection(ws, transport, stamp=self.stamp)
        self.connections[conn.id] = conn
        return conn

    def remove(self, conn: Connection) -> None:
        """Forget a connection."""
        conn.closed = True
        self.connections.pop(conn.id, None)

    def next_book_seq(self) -> int:
        """Number the next published book message. A fault planned at the previous message that no live
        subscriber received (nobody connected, or a client still reconnecting) moves to this one: a plan
        describes what a client sees, whatever the emulator's pace against the client's reconnects."""
        s = self.book_seq
        self.book_seq += 1
        if s and self._reached != s - 1:
            self.faults.defer(s - 1, s)
        return s

    def deliver(self, conn: Connection, text: str, seq: int | None = None, update_id: int = -1,
                corrupt: Callable[[str], str] | None = None) -> None:
        """Queue `text` for `conn`, applying the fault planned for book message `seq` (None: not a book message)."""
        if conn.closed:
            return
        if seq is not None:
            self._reached = seq
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
                conn.flush()
                conn.closed = True  # close in the background: the feed does not wait for the client's reply
                task = asyncio.get_running_loop().create_task(conn.ws.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                return
            if kind is FaultKind.STALL:
                conn.stalled_until = time.monotonic() + fault.duration_s
                conn.out.clear()  # what was not yet written is lost with the stall
                return
            if kind is FaultKind.DUPLICATE:
                conn.send(text)
            elif kind is FaultKind.CORRUPT_CHECKSUM and corrupt is not None:
                text = corrupt(text)
        conn.send(text)
        if seq is not None and conn.held is not None:
            held, conn.held = conn.held, None
            conn.send(held)

    def flush(self) -> None:
        """Write every connection's queued frames."""
        for conn in self.connections.values():
            if conn.out:
                conn.flush()

    def backlog(self) -> int:
        """The largest unsent byte count over connections (the feed waits when a reader falls behind)."""
        return max((c.backlog() for c in self.connections.values()), default=0)
