"""`Emulator`: a real websocket + HTTP exchange on 127.0.0.1 serving a capture or the simulated market.

    async with Emulator("binance", Source.simulated()) as emu:
        emu.ws_url, emu.http_url   # point clients (and ccxt's urls['api']) here

`stamp=True` prefixes every JSON object sent with `"_ts": <send time, ns>` so a client on the same host
can measure wire-to-book latency (adapters ignore the extra key). The aiohttp application is `emu.app` (its router is open for more endpoints, e.g. REST orders) until
`start()`. The feed starts when a client first subscribes to book data (`autostart`), so a test sees the
whole stream; `start_feed()` starts it by hand. After the source ends, `finished` is set and connections
stay open (heartbeats continue). `preencode=True` reads the whole (finite) source at `start()` and encodes
each delta's payload once, so serving costs only the true book, fan-out and framing (throughput benchmarks);
protocols whose payload depends on the book at send time (Kraken) still encode then.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from aiohttp import web

from kimera.book import OrderBook, SyncedBook, SyncStatus
from kimera.emulator.binance import BinanceProtocol
from kimera.emulator.faults import FaultPlan
from kimera.emulator.hub import Hub, rescale, scale_factors
from kimera.emulator.kraken import KrakenProtocol
from kimera.emulator.protocol import VenueProtocol
from kimera.emulator.source import Source
from kimera.model import BookDelta, BookSnapshot, Event, Quote, Trade

PROTOCOLS = ("binance", "binance-usdm", "kraken")
BACKLOG_LIMIT = 4 << 20  # bytes queued for one client before the feed waits for it
DEFAULT_SYMBOL = {"binance": "BTCUSDT", "binance-usdm": "BTCUSDT", "kraken": "XBT/USD"}


class SourceError(RuntimeError):
    """The served source is itself inconsistent (a gap or bad checksum in the recording)."""


class Emulator:
    """One emulated venue: protocol `venue` ("binance", "binance-usdm" or "kraken") over `source`."""

    def __init__(
        self,
        venue: str = "binance",
        source: Source | None = None,
        *,
        symbols: Sequence[str] | None = None,
        faults: FaultPlan | None = None,
        rate: float | None = None,
        autostart: bool = True,
        stamp: bool = False,
        preencode: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if venue not in PROTOCOLS:
            raise ValueError(f"unknown emulated venue {venue!r}; known: {', '.join(PROTOCOLS)}")
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive (messages per second), got {rate}")
        syms = list(symbols) if symbols else [DEFAULT_SYMBOL[venue]]
        self.venue = venue
        self.source = source or Source.simulated(symbol=syms[0])
        self.hub = Hub(faults, stamp)
        self.protocol: VenueProtocol = (
            KrakenProtocol(self.hub, syms) if venue == "kraken"
            else BinanceProtocol(self.hub, syms, "usdm" if venue == "binance-usdm" else "spot")
        )
        self.rate = rate
        self.preencode = preencode
        self._prepared: list[tuple[Event, str | None]] | None = None
        self.autostart = autostart
        self.host, self._port = host, port
        self.symbols = syms
        self.app = web.Application()
        self.protocol.add_routes(self.app)
        self.finished = asyncio.Event()
        self.error: BaseException | None = None
        self.events_served = 0
        # called with (event, its true book or None) for each applied delta and each trade, in wire units:
        # an attached order desk follows the market with them (resting orders keep working)
        self.listeners: list[Callable[[Event, SyncedBook | None], None]] = []
        self._go = asyncio.Event()
        if autostart:
            self.protocol.subscribed = self._go  # the first book subscription starts the feed
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    # -- lifecycle ----------------------------------------------------------------------------------
    @property
    def router(self) -> web.UrlDispatcher:
        """The HTTP router (add endpoints before `start()`)."""
        return self.app.router

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._runner is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def ws_url(self) -> str:
        """Base websocket URL (`ws://127.0.0.1:PORT`)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        """Base HTTP URL (`http://127.0.0.1:PORT`)."""
        return f"http://{self.host}:{self.port}"

    @property
    def faults(self) -> FaultPlan:
        """The fault plan and its log of injected faults."""
        return self.hub.faults

    async def start(self) -> Emulator:
        """Bind the server and start the feed task (after encoding the source, with `preencode`)."""
        if self.preencode and self._prepared is None:
            enc = self.protocol.encode_delta
            self._prepared = [(ev, enc(ev) if isinstance(ev, BookDelta) else None) for ev, _ in self._rescaled()]
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._tasks = [asyncio.create_task(self._pump(), name="emulator-pump"),
                       asyncio.create_task(self._idle(), name="emulator-idle")]
        return self

    def start_feed(self) -> None:
        """Start publishing now (without waiting for a subscriber)."""
        self._go.set()

    async def stop(self) -> None:
        """Stop the feed, close every client and release the port."""
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # shutting down; errors are in self.error
                await t
        for conn in list(self.hub.connections.values()):
            conn.closed = True
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_finished(self, timeout: float) -> None:
        """Wait until the source is exhausted; re-raise the feed's error if it failed."""
        await asyncio.wait_for(self.finished.wait(), timeout)
        if self.error is not None:
            raise self.error

    def book(self, symbol: str | None = None) -> OrderBook:
        """The exchange's true book of `symbol` (default: the first served symbol)."""
        return self.hub.books[symbol or self.symbols[0]].book

    # -- the feed -----------------------------------------------------------------------------------
    async def _pump(self) -> None:
        try:
            await self._go.wait()
            await self._serve()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # surfaced through wait_finished() and .error
            self.error = exc
        finally:
            self.finished.set()

    def _rescaled(self) -> Iterator[tuple[Event, str | None]]:
        """The source's events in wire units (no payload encoded yet)."""
        proto, hub, src = self.protocol, self.hub, self.source
        factors: dict[str, tuple[int, int]] = {}
        for ev in src.events:
            sym = ev.symbol
            f = factors.get(sym)
            if f is None:
                src_inst = src.instrument(ev.venue, sym)
                hub.source_instruments[sym] = src_inst
                f = factors[sym] = scale_factors(src_inst, proto.instrument(sym))
            yield rescale(ev, *f), None

    async def _serve(self) -> None:
        proto, hub = self.protocol, self.hub
        pending: dict[str, list[tuple[BookDelta, str | None]]] = {}
        t0 = time.monotonic()
        n = 0
        stream: Iterable[tuple[Event, str | None]] = self._prepared if self._prepared is not None else self._rescaled()
        for ev, text in stream:
            sym = ev.symbol
            if isinstance(ev, BookSnapshot):
                sb = hub.truth(sym, ev.venue, proto.instrument(sym))
                sb.on_snapshot(ev)
                if not sb.trusted:
                    raise SourceError(f"{self.source.name}: snapshot rejected: {sb.last_gap}")
                proto.publish_snapshot(ev)
                for d, dt in pending.pop(sym, []):
                    self._delta(sb, d, dt)
            elif isinstance(ev, BookDelta):
                sbook = hub.books.get(sym)
                if sbook is None or not sbook.trusted:
                    pending.setdefault(sym, []).append((ev, text))  # before the first snapshot: no book yet
                    continue
                self._delta(sbook, ev, text)
            elif isinstance(ev, Trade):
                proto.publish_trade(ev)
                for listen in self.listeners:
                    listen(ev, hub.books.get(sym))
            elif isinstance(ev, Quote):
                proto.publish_quote(ev)
            n += 1
            self.events_served = n
            if self.rate is not None:
                delay = t0 + n / self.rate - time.monotonic()
                if delay > 0.0005:
                    hub.flush()
                    await asyncio.sleep(delay)
                    continue
            if n % 64 == 0:
                hub.flush()
                await asyncio.sleep(0)  # let REST requests and subscriptions in
                while hub.backlog() > BACKLOG_LIMIT:  # a reader is behind: wait rather than buffer without bound
                    await asyncio.sleep(0.001)
        hub.flush()

    def _delta(self, sb: SyncedBook, d: BookDelta, text: str | None = None) -> None:
        """Apply `d` to the true book and publish it (`text`: its payload, encoded ahead of time)."""
        before = self.protocol.before_delta(sb.book, d) if text is None else None
        status = sb.on_delta(d)
        if status is SyncStatus.APPLIED:
            if text is None:
                self.protocol.publish_delta(d, before)
            else:
                self.protocol.publish_encoded(d, text)
            for listen in self.listeners:
                listen(d, sb)
        elif status is SyncStatus.GAP:
            raise SourceError(f"{self.source.name}: the recording itself breaks: {sb.last_gap}")

    async def _idle(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.protocol.idle()
