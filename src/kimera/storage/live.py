"""The live source of `record`: the venues' `StreamClient`, tapped so that every event it decodes and every
REST snapshot it fetches to (re)sync comes out of an async iterator, in the order the client saw them.

The client keeps doing its job (reconnects, staleness, resyncs); the tap only copies what passes through
the feed's `decode` and the REST client's `depth_snapshot`, so a replay of the recording rebuilds the
same books the client had.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from kimera.model import BookSnapshot, Event


class _TapFeed:
    """A feed that behaves exactly like `feed` and also queues the events it decodes."""

    def __init__(self, feed: Any, queue: asyncio.Queue[Event]) -> None:
        self._feed = feed
        self._queue = queue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._feed, name)

    def decode(self, raw: str | bytes, recv_ns: int) -> list[Event]:
        """Decode as the feed does; queue a copy of the events."""
        events: list[Event] = self._feed.decode(raw, recv_ns)
        for ev in events:
            self._queue.put_nowait(ev)
        return events


class _TapRest:
    """A REST client that behaves like `rest` and also queues the snapshots it fetches."""

    def __init__(self, rest: Any, queue: asyncio.Queue[Event]) -> None:
        self._rest = rest
        self._queue = queue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rest, name)

    async def depth_snapshot(self, symbol: str, limit: int = 5000) -> BookSnapshot:
        """Fetch as the client does; queue a copy of the snapshot."""
        snap: BookSnapshot = await self._rest.depth_snapshot(symbol, limit)
        self._queue.put_nowait(snap)
        return snap


def rest_url_for(ws_url: str | None) -> str | None:
    """The HTTP base of a websocket base URL on the same host (an emulator serves both on one port)."""
    if ws_url is None:
        return None
    for ws, http in (("wss://", "https://"), ("ws://", "http://")):
        if ws_url.startswith(ws):
            return http + ws_url[len(ws):]
    return ws_url


async def live_events(venue: str, symbol: str, url: str | None = None, rest_url: str | None = None,
                      depth: int = 100) -> AsyncIterator[Event]:
    """Every event of a live stream (`venue` as in `kimera stream`: binance, binance-usdm, kraken)."""
    from kimera.venues.feeds import make_feed
    from kimera.venues.rest import RestClient
    from kimera.venues.stream import StreamClient

    queue: asyncio.Queue[Event] = asyncio.Queue()
    feed = make_feed(venue, symbol, depth)
    rest_base = rest_url or rest_url_for(url)
    rest = None if feed.in_band_snapshot else _TapRest(RestClient(feed.name, rest_base or feed.default_rest), queue)
    client = StreamClient(_TapFeed(feed, queue), url, rest_base, rest=rest)  # type: ignore[arg-type]
    running = asyncio.create_task(client.run())
    try:
        while True:
            if queue.empty():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, running}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                yield getter.result()
            else:
                yield queue.get_nowait()
        running.result()  # the client stopped on its own: surface its error, if any
        while not queue.empty():
            yield queue.get_nowait()
    finally:
        client.stop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
        if rest is not None:
            await rest.close()
