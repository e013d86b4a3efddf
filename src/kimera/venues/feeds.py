"""Live feed dialects: for each venue, the websocket URL, subscribe/resubscribe messages, app-level ping,
message decoding, and how the book is resynced (REST snapshot on Binance, resubscribe on Kraken).

A feed only describes the protocol; `kimera.venues.stream.StreamClient` runs it and the book logic is
`kimera.book.SyncedBook`'s, the same as in replays.
"""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import orjson

from kimera.model import BookDelta, Event, Instrument, Level
from kimera.model.fixed import FixedPointError
from kimera.venues import binance, kraken
from kimera.venues.registry import VenueSpec, venue_spec


class _Depth(msgspec.Struct):
    """The fields of a Binance `depthUpdate` the book needs (others are skipped by the decoder)."""

    E: int
    s: str
    U: int
    u: int
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    pu: int = -1


class _Wrapped(msgspec.Struct):
    data: _Depth


_DEPTH = msgspec.json.Decoder(_Wrapped)


class Feed:
    """Base class of a venue's live dialect."""

    name = "abstract"
    venue = "abstract"
    default_ws = ""
    default_rest = ""
    in_band_snapshot = False  # True: the snapshot arrives on the websocket after (re)subscribing

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.spec: VenueSpec = venue_spec(self.venue)
        self.instrument: Instrument = self.spec.instrument(symbol)

    def ws_url(self, base: str) -> str:
        """The URL to connect to, from a base (`ws://127.0.0.1:PORT` or the venue's default)."""
        raise NotImplementedError

    def subscribe(self) -> list[str]:
        """Messages to send right after connecting."""
        return []

    def resubscribe(self) -> list[str]:
        """Messages that restart the book stream on the same connection."""
        return []

    def ping(self) -> str | None:
        """An application-level ping, for venues that want one (websocket pings are automatic)."""
        return None

    def decode(self, raw: str | bytes, recv_ns: int) -> list[Event]:
        """One websocket frame -> events."""
        raise NotImplementedError


class BinanceFeed(Feed):
    """Binance spot (`market="spot"`) or USD-M: combined stream of diff depth and trades; REST resync."""

    default_rest = "https://api.binance.com"

    def __init__(self, symbol: str = "BTCUSDT", market: str = "spot") -> None:
        self.market = market
        self.venue = binance.VENUE if market == "spot" else binance.VENUE_USDM
        self.name = "binance" if market == "spot" else "binance-usdm"
        self.default_ws = "wss://stream.binance.com:9443" if market == "spot" else "wss://fstream.binance.com"
        if market != "spot":
            self.default_rest = "https://fapi.binance.com"
        super().__init__(symbol.upper())
        s = self.symbol.lower()
        self.streams = [f"{s}@depth@100ms" if market == "spot" else f"{s}@depth@0ms", f"{s}@trade"]
        self.adapter = binance.BinanceAdapter(market, self.symbol)
        self.pd, self.sd = self.instrument.price_decimals, self.instrument.size_decimals
        self._ids = itertools.count(1)

    def ws_url(self, base: str) -> str:
        return f"{base.rstrip('/')}/stream?streams={'/'.join(self.streams)}"

    def resubscribe(self) -> list[str]:
        return [orjson.dumps({"method": m, "params": self.streams, "id": next(self._ids)}).decode()
                for m in ("UNSUBSCRIBE", "SUBSCRIBE")]

    def _levels(self, pairs: list[tuple[str, str]]) -> list[Level]:
        if len(pairs) > 8:
            return self.adapter.levels(pairs)  # C-level column conversion pays off on long lists
        pd, sd = self.pd, self.sd
        out = []
        for p, q in pairs:
            tp, tq = p.replace(".", "", 1), q.replace(".", "", 1)
            # inlined `binance.fx` for the usual strings (digits, the dot exactly at the decimals); else strict
            if (tp.isdigit() and tq.isdigit() and tp.isascii() and tq.isascii() and len(p) > pd and len(q) > sd
                    and p[-pd - 1] == "." and q[-sd - 1] == "."):
                px = int(tp)
                if px > 0:
                    out.append((px, int(tq)))
                    continue
            px, qty = binance.fx(p, pd), binance.fx(q, sd)
            if px <= 0 or qty < 0:  # as `binance.levels` (the adapter) rejects them
                raise FixedPointError(f"bad level (price <= 0 or negative size) in {pairs!r}")
            out.append((px, qty))
        return out

    def decode(self, raw: str | bytes, recv_ns: int) -> list[Event]:
        """Combined-stream frames; diff depth takes a typed path (same events as `BinanceAdapter.parse`)."""
        head = raw[:40]
        if ("@depth" in head) if isinstance(head, str) else (b"@depth" in head):
            try:
                d = _DEPTH.decode(raw).data
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise ValueError(f"bad Binance depth message: {exc}: {str(raw)[:120]}") from exc
            return [BookDelta(self.venue, d.s, d.U, d.u, self._levels(d.b), self._levels(d.a), d.E * 1_000_000,
                              recv_ns, d.pu)]
        ev = self.adapter.parse(orjson.loads(raw), recv_ns)
        return [] if ev is None else [ev]


class KrakenFeed(Feed):
    """Kraken spot ws v1: `book` (checksummed) and `trade` channels; resync = unsubscribe + subscribe."""

    name = "kraken"
    venue = kraken.VENUE
    default_ws = "wss://ws.kraken.com"
    default_rest = "https://api.kraken.com"
    in_band_snapshot = True

    def __init__(self, symbol: str = "XBT/USD", depth: int = 100) -> None:
        super().__init__(symbol)
        self.depth = depth
        self.adapter = kraken.KrakenAdapter()
        self._ids = itertools.count(1)

    def _book(self, event: str) -> str:
        return orjson.dumps({"event": event, "pair": [self.symbol], "reqid": next(self._ids),
                             "subscription": {"name": "book", "depth": self.depth}}).decode()

    def ws_url(self, base: str) -> str:
        return base

    def subscribe(self) -> list[str]:
        trade = orjson.dumps({"event": "subscribe", "pair": [self.symbol], "subscription": {"name": "trade"}}).decode()
        return [self._book("subscribe"), trade]

    def resubscribe(self) -> list[str]:
        return [self._book("unsubscribe"), self._book("subscribe")]

    def ping(self) -> str | None:
        return orjson.dumps({"event": "ping", "reqid": next(self._ids)}).decode()

    def decode(self, raw: str | bytes, recv_ns: int) -> list[Event]:
        msg: Any = orjson.loads(raw)
        if isinstance(msg, dict) and msg.get("status") == "error":
            if "already" in str(msg.get("errorMessage", "")).lower():
                return []  # a resubscribe raced with an existing subscription: harmless
            raise ValueError(f"Kraken subscription error: {msg.get('errorMessage')}")
        return self.adapter.parse(msg, recv_ns)


FEEDS = ("binance", "binance-usdm", "kraken")


def make_feed(venue: str, symbol: str, depth: int = 100) -> Feed:
    """The feed for a CLI venue name."""
    v = venue.lower()
    if v == "binance":
        return BinanceFeed(symbol, "spot")
    if v == "binance-usdm":
        return BinanceFeed(symbol, "usdm")
    if v == "kraken":
        return KrakenFeed(symbol, depth)
    raise ValueError(f"no live feed for venue {venue!r}; known: {', '.join(FEEDS)}")
