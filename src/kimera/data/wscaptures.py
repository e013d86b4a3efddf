"""Loader for cryptofeed's raw websocket/REST recordings (../shared/data/cryptofeed-ws-captures-a).

Line forms: `<url> <-> <ts>` (connection opened), `<url> <- <ts>: <json>` (we sent), `<url> -> <ts>: <json>`
(REST response), `<ts>: <payload>` (received), `configuration: {...}`; `<ts>` is seconds since the epoch.
The exchange comes from the file name (`KRAKEN.ws.50.0.gz`); Binance, Coinbase, Kraken and Bybit are
translated by their venue adapters, several files are merged by receive time into one source.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson

from kimera.data.errors import LoadStats
from kimera.data.lines import read_bytes
from kimera.model import Event
from kimera.venues.binance import BinanceAdapter
from kimera.venues.bybit import BybitAdapter
from kimera.venues.coinbase import CoinbaseAdapter
from kimera.venues.common import sec_ns
from kimera.venues.kraken import KrakenAdapter

SUPPORTED = ("BINANCE", "BYBIT", "COINBASE", "KRAKEN")

# (parse received message, parse REST response for a URL); each returns events or None = not modelled
Parser = Callable[[Any, int], list[Event]]
RestParser = Callable[[str, Any, int], list[Event] | None]


def exchange_of(path: str | Path) -> str:
    """The exchange a capture file belongs to (its name's first dotted part)."""
    return Path(path).name.split(".", 1)[0].upper()


def is_cryptofeed(path: str | Path) -> bool:
    """True if the file looks like a cryptofeed recording (name `EXCH.<...>` and a recognised first line)."""
    if exchange_of(path) not in (*SUPPORTED, "BITMEX", "BITSTAMP", "GEMINI"):
        return False
    head = read_bytes(path)[:8192].split(b"\n", 1)[0]
    return b" <-> " in head or b" -> " in head or head.startswith(b"configuration: ") or _ts_prefix(head) is not None


def _ts_prefix(line: bytes) -> tuple[int, bytes] | None:
    head, sep, rest = line.partition(b": ")
    if not sep or not head.replace(b".", b"", 1).isdigit():
        return None
    return sec_ns(head.decode()), rest


class _Binance:
    """Binance spot/USD-M: one adapter per symbol (REST snapshots name theirs only in the URL)."""

    def __init__(self, market: str = "spot") -> None:
        self.adapters: dict[tuple[str, str], BinanceAdapter] = {}
        self.market = market

    def adapter(self, symbol: str) -> BinanceAdapter:
        key = (self.market, symbol)
        ad = self.adapters.get(key)
        if ad is None:
            ad = self.adapters[key] = BinanceAdapter(self.market, symbol)
        return ad

    def ws(self, msg: Any, recv_ns: int) -> list[Event]:
        data = msg.get("data", msg) if isinstance(msg, dict) else msg
        sym = data.get("s") if isinstance(data, dict) else None
        ev = self.adapter(sym or "BTCUSDT").parse(msg, recv_ns)
        return [] if ev is None else [ev]

    def rest(self, url: str, body: Any, recv_ns: int) -> list[Event] | None:
        u = urlparse(url)
        if "fapi" in u.netloc or "/fapi/" in u.path:
            self.market = "usdm"
        if u.path.endswith("/depth"):
            sym = parse_qs(u.query)["symbol"][0]
            return [self.adapter(sym).snapshot(body, recv_ns)]
        return None  # exchangeInfo and other metadata


def _parsers(exchange: str, head: bytes = b"") -> tuple[Parser, RestParser]:
    if exchange == "BINANCE":
        b = _Binance("usdm" if b"fstream" in head or b"/fapi/" in head else "spot")
        return b.ws, b.rest
    if exchange == "KRAKEN":
        return KrakenAdapter().parse, lambda url, body, ns: None
    if exchange == "COINBASE":
        return CoinbaseAdapter().parse, lambda url, body, ns: None
    if exchange == "BYBIT":
        return BybitAdapter().parse, lambda url, body, ns: None
    raise ValueError(f"cryptofeed capture of {exchange}: not supported (supported: {', '.join(SUPPORTED)})")


def _load_one(path: Path, skip_bad: bool, st: LoadStats) -> Iterator[Event]:
    raw = read_bytes(path)
    ws, rest = _parsers(exchange_of(path), raw[:400])
    loads = orjson.loads

    def parse(line: bytes) -> list[Event] | None:
        if line.startswith(b"configuration: ") or b" <-> " in line[:400] or b" <- " in line[:400]:
            return None  # recorder metadata, connection opened, or a message we sent
        if b" -> " in line[:400]:
            url, _, rest_part = line.partition(b" -> ")
            parsed = _ts_prefix(rest_part)
            if parsed is None:
                raise ValueError("REST line without '<ts>: <body>'")
            return rest(url.decode(), loads(parsed[1]), parsed[0])
        parsed = _ts_prefix(line)
        if parsed is None:
            raise ValueError("line does not start with '<seconds>: '")
        return ws(loads(parsed[1]), parsed[0])

    yield from st.decode_lines(str(path), raw, parse, skip_bad)


def load_cryptofeed(
    paths: Iterable[str | Path],
    skip_bad: bool = False,
    stats: LoadStats | None = None,
) -> Iterator[Event]:
    """Events of one or more cryptofeed recordings, merged by receive time (stable: ties keep file order).

    A malformed line raises `MalformedInputError(file, line, reason)`; with `skip_bad=True` it is counted
    in `stats` instead. Files of unsupported exchanges are a `ValueError` naming the supported ones.
    """
    ps = [Path(p) for p in paths]
    st = stats if stats is not None else LoadStats()
    for p in ps:
        _parsers(exchange_of(p))  # fail fast, before any event, on an unsupported exchange
    its = [_load_one(p, skip_bad, st) for p in ps]
    if len(its) == 1:
        return its[0]
    return heapq.merge(*its, key=lambda e: e.recv_ns)
