"""The streaming client: one venue, one symbol, kept exact over a websocket that may misbehave.

- connect, subscribe, websocket pings (automatic) plus the venue's app-level ping;
- reconnect with exponential backoff and jitter when the connection drops or cannot open;
- staleness: silence for `stale_after_s` -> the book is untrusted and the stream resubscribed; silence
  again -> the connection is dropped and reopened;
- a gap or a checksum failure (found by `SyncedBook`) marks the book untrusted; the client then fetches a
  REST snapshot (Binance, through ccxt) or resubscribes (Kraken: the snapshot comes in-band) and resyncs.

The book is `SyncedBook` (the same state machine as replays); trusted updates go to `on_book` and, as
`BookUpdate`, to an optional bus; trades and quotes go to the bus too.

Transport (`StreamConfig.transport`): `picows` (frames handed to the client straight from the protocol's
`data_received`, about a third of websockets' receive cost per frame) when it is installed, else
`websockets`; both give the same behaviour (pings, close handshake, reconnects, staleness).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from kimera.book import SyncedBook, SyncStatus
from kimera.engine.books import BookUpdate
from kimera.engine.bus import MessageBus
from kimera.model import BookDelta, BookSnapshot
from kimera.venues.feeds import Feed
from kimera.venues.rest import RestClient, RestError


class Backoff:
    """Exponential backoff with "equal jitter": the n-th delay is uniform in [d/2, d], d = min(cap, base*2**n)."""

    def __init__(self, base_s: float = 0.1, cap_s: float = 10.0, rng: random.Random | None = None) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError(f"need 0 < base_s <= cap_s, got {base_s}, {cap_s}")
        self.base_s, self.cap_s = base_s, cap_s
        self.rng = rng or random.Random()
        self.attempt = 0

    def next(self) -> float:
        """The next delay in seconds (and count the attempt)."""
        d = min(self.cap_s, self.base_s * 2**self.attempt)
        self.attempt += 1
        return d / 2 + self.rng.uniform(0, d / 2)

    def reset(self) -> None:
        """After a success: start again from the base delay."""
        self.attempt = 0


@dataclass
class StreamConfig:
    """Timing knobs of the client."""

    stale_after_s: float = 10.0  # silence that counts as a stale stream
    resync_timeout_s: float = 5.0  # untrusted for this long despite a resync request: ask again
    ping_interval_s: float = 20.0  # websocket ping frames (and the venue's app ping, where it has one)
    open_timeout_s: float = 10.0
    snapshot_limit: int = 5000  # REST snapshot depth (Binance's maximum)
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 10.0
    transport: str = "auto"  # "picows", "websockets", or "auto" (picows when installed)


def picows_available() -> bool:
    """Whether the optional picows transport can be used."""
    try:
        import picows  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_transport(name: str) -> str:
    """The transport a `StreamConfig.transport` value stands for ("auto" -> picows if installed)."""
    if name == "auto":
        return "picows" if picows_available() else "websockets"
    if name not in ("picows", "websockets"):
        raise ValueError(f"unknown transport {name!r}: expected 'auto', 'picows' or 'websockets'")
    if name == "picows" and not picows_available():
        raise ValueError("transport 'picows' requested but picows is not installed")
    return name


class _PicowsConnection:
    """The two calls the client makes on a connection (`send`, `close`), over a picows transport."""

    def __init__(self, transport: Any, text: Any, close_code: Any) -> None:
        self.transport, self._text, self._close_code = transport, text, close_code

    async def send(self, message: str) -> None:
        t = self.transport
        if not t.is_disconnected:
            t.send(self._text, message.encode())

    async def close(self) -> None:
        t = self.transport
        if not t.is_disconnected:
            if not t.is_close_frame_sent:
                t.send_close(self._close_code)
            t.disconnect()
        await t.wait_disconnected()


@dataclass(frozen=True)
class Incident:
    """Something the client detected: a sequence gap, a checksum failure, a lost connection, a stale stream."""

    kind: str  # "gap", "checksum", "disconnect", "stale", "decode"
    update_id: int  # the offending delta's last update id (gap/checksum), else the book's at the time
    mono: float


@dataclass
class VenueHealth:
    """What the client knows about the venue's stream, for display and for tests."""

    state: str = "idle"  # idle, connecting, syncing, live, stale, backoff, stopped
    connected: bool = False
    trusted: bool = False
    connects: int = 0
    reconnects: int = 0
    disconnects: int = 0
    messages: int = 0
    book_updates: int = 0
    stale_events: int = 0
    resubscribes: int = 0
    snapshot_requests: int = 0
    decode_errors: int = 0
    last_message_mono: float = 0.0
    last_error: str | None = None
    log: list[str] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Keep the last 50 notable events (reconnects, gaps, stale) for display."""
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")
        del self.log[:-50]

    def age_s(self) -> float:
        """Seconds since the last message (inf before the first)."""
        return time.monotonic() - self.last_message_mono if self.last_message_mono else float("inf")


class StreamClient:
    """Keeps `book` (a `SyncedBook`) exact from a venue's websocket; see the module docstring."""

    def __init__(
        self,
        feed: Feed,
        ws_url: str | None = None,
        rest_url: str | None = None,
        *,
        config: StreamConfig | None = None,
        bus: MessageBus | None = None,
        on_book: Callable[[SyncedBook, int], None] | None = None,
        rest: RestClient | None = None,
        latency: Any = None,
        wire_latency: Any = None,
        rng: random.Random | None = None,
    ) -> None:
        self.feed = feed
        self.cfg = config or StreamConfig()
        self.url = feed.ws_url(ws_url or feed.default_ws)
        spec = feed.spec
        depth = getattr(feed, "depth", None) if feed.in_band_snapshot else None
        self.book = SyncedBook(feed.instrument, spec.rule(), spec.checksum, max_depth=depth)
        self.health = VenueHealth()
        self.bus = bus
        self.on_book = on_book
        self.latency = latency  # an HdrHistogram: receive -> book applied, in ns
        self.wire_latency = wire_latency  # an HdrHistogram: emulator send (`_ts` stamp) -> book applied, in ns
        self._sent_ns = 0
        self._own_rest = rest is None and not feed.in_band_snapshot
        self.rest = rest if rest is not None or feed.in_band_snapshot else RestClient(feed.name, rest_url or feed.default_rest)
        self.backoff = Backoff(self.cfg.backoff_base_s, self.cfg.backoff_cap_s, rng)
        self._snap_backoff = Backoff(0.05, 2.0, rng)
        self._stop = asyncio.Event()
        self._ws: Any = None
        self._fetch: asyncio.Task[None] | None = None
        self._resync_asked = 0.0  # monotonic time of the last resync request (0: none pending)
        self._stale_strikes = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.transport = resolve_transport(self.cfg.transport)
        fatal: list[type[BaseException]] = [InvalidURI]
        network: list[type[BaseException]] = [ConnectionClosed, OSError, InvalidHandshake, TimeoutError]
        if self.transport == "picows":
            import picows

            fatal.append(picows.WSInvalidURL)
            network.append(picows.WSError)
        self._fatal, self._network = tuple(fatal), tuple(network)

    # -- lifecycle ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask `run()` to return (closing the connection now, so it does not wait for a message)."""
        self._stop.set()
        ws = self._ws
        if ws is not None:
            t = asyncio.get_running_loop().create_task(ws.close())
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def run(self, duration_s: float | None = None) -> None:
        """Stream until `stop()` (or for `duration_s`), reconnecting as needed."""
        self._stop.clear()
        timer = asyncio.get_running_loop().call_later(duration_s, self.stop) if duration_s else None
        try:
            while not self._stop.is_set():
                try:
                    await (self._session_picows() if self.transport == "picows" else self._session())
                except self._fatal:
                    raise
                except self._network as exc:
                    self.health.last_error = f"{type(exc).__name__}: {exc}"
                self.health.connected = False
                if self._stop.is_set():
                    break
                self.health.disconnects += 1
                self._incident("disconnect", self.book.book.last_update_id)
                self._untrust("connection lost")
                delay = self.backoff.next()
                self.health.state = "backoff"
                self.health.note(f"reconnect in {delay:.2f}s ({self.health.last_error or 'closed'})")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                self.health.reconnects += 1
        finally:
            if timer is not None:
                timer.cancel()
            await self._cancel_tasks()
            self.health.state = "stopped"
            self.health.connected = False
            if self._own_rest and self.rest is not None:
                await self.rest.close()

    async def _cancel_tasks(self) -> None:
        tasks = [t for t in (self._fetch, *self._tasks) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._fetch = None
        self._tasks.clear()

    async def _session(self) -> None:
        self.health.state = "connecting"
        async with websockets.connect(self.url, ping_interval=self.cfg.ping_interval_s, ping_timeout=self.cfg.ping_interval_s,
                                      open_timeout=self.cfg.open_timeout_s, max_size=None, compression=None,
                                      close_timeout=1.0) as ws:
            watchdog = await self._opened(ws)
            try:
                async for raw in ws:
                    self.handle_message(raw)
                    if self._stop.is_set():
                        break
            finally:
                await self._closed(watchdog)

    async def _opened(self, ws: Any) -> asyncio.Task[None]:
        """A connection is up: count it, subscribe, ask for a snapshot, start the watchdog."""
        self._ws = ws
        self.health.connected = True
        self.health.connects += 1
        self.health.state = "syncing"
        self.health.last_message_mono = time.monotonic()
        self._stale_strikes = 0
        for m in self.feed.subscribe():
            await ws.send(m)
        if self.feed.in_band_snapshot:
            self._resync_asked = time.monotonic()  # the snapshot follows the subscription
        else:
            self._request_resync("connected")
        return asyncio.create_task(self._watchdog(ws))

    async def _closed(self, watchdog: asyncio.Task[None]) -> None:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog
        self._ws = None

    async def _session_picows(self) -> None:
        """The same session over picows: each frame is handled inside the protocol callback (no queue)."""
        from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

        client = self
        data_types = (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION)

        class Listener(WSListener):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                self.parts: list[bytes] = []
                self.error: BaseException | None = None

            def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
                mt = frame.msg_type
                if mt in data_types:
                    if frame.fin and not self.parts:
                        raw = frame.get_payload_as_bytes()
                    else:  # a fragmented message: assemble it
                        self.parts.append(frame.get_payload_as_bytes())
                        if not frame.fin:
                            return
                        raw = b"".join(self.parts)
                        self.parts.clear()
                    try:
                        client.handle_message(raw)
                    except Exception as exc:  # re-raised by the session, as the websockets loop would
                        self.error = exc
                        transport.disconnect()
                        return
                    if client._stop.is_set():
                        transport.disconnect()
                elif mt is WSMsgType.CLOSE:
                    transport.send_close(frame.get_close_code())
                    transport.disconnect()

        self.health.state = "connecting"
        cfg = self.cfg
        transport, listener = await asyncio.wait_for(
            ws_connect(Listener, self.url, websocket_handshake_timeout=cfg.open_timeout_s, enable_auto_ping=True,
                       auto_ping_idle_timeout=cfg.ping_interval_s, auto_ping_reply_timeout=cfg.ping_interval_s,
                       max_frame_size=1 << 30),
            cfg.open_timeout_s)
        try:
            watchdog = await self._opened(_PicowsConnection(transport, WSMsgType.TEXT, WSCloseCode.OK))
            try:
                await transport.wait_disconnected()
            finally:
                await self._closed(watchdog)
        finally:
            transport.disconnect()
        assert isinstance(listener, Listener)
        if listener.error is not None:
            raise listener.error

    # -- messages -------------------------------------------------------------------------------------
    def handle_message(self, raw: str | bytes) -> None:
        """Process one websocket frame: decode, apply to the synced book, publish; flag gaps and resync."""
        t0 = time.perf_counter_ns()
        h = self.health
        h.messages += 1
        h.last_message_mono = time.monotonic()
        self._stale_strikes = 0
        if self.wire_latency is not None and isinstance(raw, bytes):
            raw = raw.decode()
        if self.wire_latency is not None and isinstance(raw, str) and raw.startswith('{"_ts":'):
            cut = raw.index(",")
            self._sent_ns = int(raw[7:cut])
            raw = "{" + raw[cut + 1:]
        try:
            events = self.feed.decode(raw, time.time_ns())
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            h.decode_errors += 1
            h.last_error = f"decode: {type(exc).__name__}: {exc}"
            h.note(h.last_error)
            self._incident("decode", self.book.book.last_update_id)
            self._untrust(f"undecodable message: {exc}")
            return
        sb = self.book
        for ev in events:
            if isinstance(ev, BookDelta):
                failures = sb.checksum_failures
                status = sb.on_delta(ev)
                if status is SyncStatus.APPLIED:
                    self._applied(ev.recv_ns, t0)
                elif status is SyncStatus.GAP:
                    self._incident("checksum" if sb.checksum_failures > failures else "gap", ev.last_update_id)
                    h.note(f"gap: {sb.last_gap}")
                    self._request_resync("gap")
                elif not sb.trusted:
                    self._request_resync("untrusted")
            elif isinstance(ev, BookSnapshot):
                sb.on_snapshot(ev)
                self._after_snapshot()
                if sb.trusted:
                    self._applied(ev.recv_ns, t0)
            elif self.bus is not None:
                self.bus.publish(ev)

    def _applied(self, recv_ns: int, t0: int) -> None:
        h = self.health
        h.book_updates += 1
        if not h.trusted:
            h.trusted = True
            h.state = "live"
            self.backoff.reset()
            self._snap_backoff.reset()
            self._resync_asked = 0.0
        if self.latency is not None:
            self.latency.record_value(max(1, time.perf_counter_ns() - t0))
        if self._sent_ns:
            self.wire_latency.record_value(max(1, time.time_ns() - self._sent_ns))
            self._sent_ns = 0
        if self.on_book is not None:
            self.on_book(self.book, recv_ns)
        if self.bus is not None:
            self.bus.publish(BookUpdate(self.book.book, recv_ns, self.book.book.last_update_id))

    def _after_snapshot(self) -> None:
        self.health.note(f"snapshot {self.book.snapshot_id} -> {'trusted' if self.book.trusted else 'gap'}")
        if not self.book.trusted:
            self._request_resync("snapshot did not chain")

    # -- resync -------------------------------------------------------------------------------------
    def _incident(self, kind: str, update_id: int) -> None:
        self.health.incidents.append(Incident(kind, update_id, time.monotonic()))

    def _untrust(self, why: str) -> None:
        if self.book.trusted:
            self.book.invalidate(why)
        self.health.trusted = False
        if self.health.state == "live":
            self.health.state = "syncing"

    def _request_resync(self, why: str) -> None:
        """Make sure a snapshot is on its way: a REST fetch, or a resubscribe for in-band venues."""
        self.health.trusted = False
        if self.health.state == "live":
            self.health.state = "syncing"
        if self.feed.in_band_snapshot:
            if self._resync_asked and time.monotonic() - self._resync_asked < self.cfg.resync_timeout_s:
                return
            self._resync_asked = time.monotonic()
            self.health.resubscribes += 1
            self._send(self.feed.resubscribe())
            return
        if self._fetch is None or self._fetch.done():
            self._resync_asked = time.monotonic()
            self._fetch = asyncio.create_task(self._fetch_snapshot(why))

    def _send(self, messages: list[str]) -> None:
        ws = self._ws
        if ws is None or not messages:
            return

        async def send_all() -> None:
            with contextlib.suppress(ConnectionClosed):
                for m in messages:
                    await ws.send(m)

        t = asyncio.create_task(send_all())
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def _fetch_snapshot(self, why: str) -> None:
        assert self.rest is not None
        first = True
        while not self._stop.is_set() and not self.book.trusted and self._ws is not None:
            if not first:
                await asyncio.sleep(self._snap_backoff.next())
            first = False
            self.health.snapshot_requests += 1
            try:
                snap = await self.rest.depth_snapshot(self.feed.symbol, self.cfg.snapshot_limit)
            except RestError as exc:
                self.health.last_error = str(exc)
                self.health.note(f"{why}: {exc}")
                continue
            if self._ws is None:
                return  # the connection went while we waited: the next session fetches again
            t0 = time.perf_counter_ns()
            self.book.on_snapshot(snap)
            self.health.note(f"snapshot {snap.update_id} ({why}) -> {'trusted' if self.book.trusted else 'gap'}")
            if self.book.trusted:
                self._applied(snap.recv_ns, t0)

    async def _watchdog(self, ws: Any) -> None:
        cfg = self.cfg
        tick = min(cfg.stale_after_s / 4, 0.25)
        last_ping = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            h = self.health
            if now - h.last_message_mono > cfg.stale_after_s:
                h.last_message_mono = now
                if self._stale_strikes == 0:
                    self._stale_strikes = 1
                    h.stale_events += 1
                    self._incident("stale", self.book.book.last_update_id)
                    h.state = "stale"
                    h.note(f"stale: no message for {cfg.stale_after_s:.1f}s, resubscribing")
                    self._untrust("stale stream")
                    self._resync_asked = 0.0
                    h.resubscribes += 1
                    self._send(self.feed.resubscribe())
                    if not self.feed.in_band_snapshot:
                        self._request_resync("stale")
                    else:
                        self._resync_asked = now
                else:
                    h.note("still stale after resubscribing: reconnecting")
                    await ws.close()
                    return
            elif not self.book.trusted and self._resync_asked and now - self._resync_asked > cfg.resync_timeout_s:
                self._resync_asked = 0.0
                self._request_resync("resync timeout")
            if now - last_ping >= cfg.ping_interval_s:
                last_ping = now
                p = self.feed.ping()
                if p is not None:
                    self._send([p])

    async def wait_trusted(self, timeout: float) -> None:
        """Wait until the book is trusted (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        while not self.book.trusted:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.feed.venue}:{self.feed.symbol} not trusted after {timeout}s "
                                   f"(last: {self.book.last_gap or self.health.last_error})")
            await asyncio.sleep(0.01)
