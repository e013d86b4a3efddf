"""The interface every emulated venue protocol implements: routes, and how to publish each kind of event."""

from __future__ import annotations

import asyncio

from aiohttp import web

from kimera.book import OrderBook
from kimera.emulator.hub import Hub
from kimera.model import BookDelta, BookSnapshot, Instrument, Quote, Trade


class VenueProtocol:
    """Base class: a venue's websocket + REST dialect over the shared `Hub`."""

    venue = "abstract"

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.subscribed = asyncio.Event()  # set when a client first subscribes to book data

    def instrument(self, symbol: str) -> Instrument:
        """The venue's instrument (wire decimals) for a symbol."""
        raise NotImplementedError

    def add_routes(self, app: web.Application) -> None:
        """Install the websocket and REST endpoints."""
        raise NotImplementedError

    def before_delta(self, book: OrderBook, d: BookDelta) -> object:
        """State needed from the book before `d` is applied (Kraken: which levels were visible)."""
        return None

    def publish_snapshot(self, snap: BookSnapshot) -> None:
        """A new snapshot in the source (the book was reset)."""

    def publish_delta(self, d: BookDelta, before: object) -> None:
        """A delta applied to the true book."""
        raise NotImplementedError

    def encode_delta(self, d: BookDelta) -> str | None:
        """The delta's payload encoded ahead of time (`Emulator(preencode=True)`), or None where the payload
        depends on the book at send time (then `publish_delta` encodes it)."""
        return None

    def publish_encoded(self, d: BookDelta, text: str) -> None:
        """Publish a delta already applied to the true book, from its `encode_delta` payload."""
        raise NotImplementedError

    def publish_trade(self, t: Trade) -> None:
        """A trade."""

    def publish_quote(self, q: Quote) -> None:
        """A top-of-book quote from the source."""

    def idle(self) -> None:
        """Called about every second: heartbeats for protocols that send them."""
