"""Binance spot and USD-M: translate diff-depth, REST depth snapshot, bookTicker and trade messages.

Spot chains diffs by `U == previous u + 1`; USD-M by `pu == previous u` (see `kimera.book.sync`).
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any

import msgspec
import orjson

from kimera.book.sync import BinanceFuturesRule, BinanceSpotRule, SequenceRule
from kimera.model import Bar, BookDelta, BookSnapshot, Event, Instrument, Level, Quote, Side, Trade
from kimera.model.fixed import FixedPointError, parse_fixed

VENUE = "BINANCE"
VENUE_USDM = "BINANCE_USDM"
DECIMALS = 8  # Binance never sends more than 8 decimals for price or quantity


# Decimal places the venue uses in its strings (exchangeInfo pricePrecision / quantityPrecision).
# Spot always sends 8; USD-M sends each symbol's own precision. Unknown symbols get 8/8 (exact, slower path).
_USDM_DECIMALS = {"BTCUSDT": (2, 3), "ETHUSDT": (2, 3)}


def instrument(symbol: str, market: str = "spot") -> Instrument:
    """The instrument for a Binance symbol at the precision the venue's strings use."""
    sym = symbol.upper()
    if market == "spot":
        return Instrument(VENUE, sym, DECIMALS, DECIMALS, taker_fee=0.001, maker_fee=0.001)
    pd, sd = _USDM_DECIMALS.get(sym, (DECIMALS, DECIMALS))
    return Instrument(VENUE_USDM, sym, pd, sd, taker_fee=0.0005, maker_fee=0.0002)


def rule(market: str) -> SequenceRule:
    """The diff-chain rule of the market."""
    return BinanceSpotRule() if market == "spot" else BinanceFuturesRule()


_NODOT = methodcaller("replace", ".", "", 1)


def fx(s: str, decimals: int = DECIMALS) -> int:
    """Fast exact decimal-string -> int; falls back to the strict parser for anything unusual."""
    t = s.replace(".", "", 1)
    if t.isdigit() and t.isascii() and len(s) > decimals and s[-decimals - 1] == ".":
        return int(t)
    return parse_fixed(s, decimals)


def column(strs: list[str], decimals: int) -> list[int]:
    """Many decimal strings -> ints with C-level loops when every one has exactly `decimals` places."""
    if strs:
        joined = "".join(strs)
        if (
            joined.isascii()
            and joined.count(".") == len(strs)
            and joined.replace(".", "").isdigit()
            and min(map(len, strs)) > decimals  # "0.0024" at 8 decimals: strict path, not an IndexError
            and set(map(itemgetter(-decimals - 1), strs)) == {"."}
        ):
            return list(map(int, map(_NODOT, strs)))
    return [parse_fixed(x, decimals) for x in strs]  # strict path: exact, raises on bad input


def levels(pairs: list[Any], price_decimals: int = DECIMALS, size_decimals: int = DECIMALS) -> list[Level]:
    """`[["price", "qty"], ...]` -> `[(price, size), ...]`; negative sizes or prices <= 0 are errors."""
    try:
        px = column(list(map(itemgetter(0), pairs)), price_decimals)
        qty = column(list(map(itemgetter(1), pairs)), size_decimals)
    except IndexError as exc:
        raise FixedPointError(f"levels must be [price, size] pairs: {str(pairs)[:80]}") from exc
    if px and (min(px) <= 0 or min(qty) < 0):
        raise FixedPointError(f"bad level (price <= 0 or negative size) in {str(pairs)[:80]}")
    return list(zip(px, qty, strict=True))


# Well-formed streams we do not turn into events (counted as ignored by loaders).
_UNMODELLED = frozenset({"24hrTicker", "24hrMiniTicker", "markPriceUpdate", "forceOrder", "avgPrice"})


class BinanceAdapter:
    """Stateless translation of Binance JSON messages (already decoded) into events."""

    def __init__(self, market: str = "spot", symbol: str = "BTCUSDT") -> None:
        if market not in ("spot", "usdm"):
            raise ValueError(f"unknown Binance market {market!r}: expected 'spot' or 'usdm'")
        self.market = market
        self.instrument = instrument(symbol, market)
        self.venue = self.instrument.venue
        self.rule = rule(market)
        self.pd = self.instrument.price_decimals
        self.sd = self.instrument.size_decimals

    def parse(self, msg: Any, recv_ns: int) -> Event | None:
        """One decoded message → one event, or None for messages we do not model. Raises on bad shape."""
        if not isinstance(msg, dict):
            raise ValueError(f"expected a JSON object, got {type(msg).__name__}")
        data = msg.get("data", msg)
        if "lastUpdateId" in data:  # REST depth snapshot
            return self.snapshot(data, recv_ns)
        kind = data.get("e")
        if kind == "depthUpdate":
            return self.depth(data, recv_ns)
        if kind == "trade" or kind == "aggTrade":
            return self.trade(data, recv_ns)
        if kind == "bookTicker" or ("u" in data and "b" in data and "a" in data and "B" in data):
            return self.book_ticker(data, recv_ns)
        if kind == "kline":
            return self.kline(data, recv_ns)
        if kind in _UNMODELLED or "result" in data or "id" in data:  # other streams, subscription acks
            return None
        raise ValueError(f"unknown Binance message: {str(msg)[:120]}")

    def levels(self, pairs: list[Any]) -> list[Level]:
        """Level pairs at this instrument's precision."""
        return levels(pairs, self.pd, self.sd)

    def snapshot(self, d: dict[str, Any], recv_ns: int) -> BookSnapshot:
        """REST `GET /api/v3/depth` (or /fapi/v1/depth) response."""
        return BookSnapshot(
            self.venue, self.instrument.symbol, int(d["lastUpdateId"]), self.levels(d["bids"]), self.levels(d["asks"]),
            int(d.get("E", 0)) * 1_000_000, recv_ns,
        )

    def depth(self, d: dict[str, Any], recv_ns: int) -> BookDelta:
        """`depthUpdate` diff; USD-M carries `pu`."""
        return BookDelta(
            self.venue, d["s"], int(d["U"]), int(d["u"]), self.levels(d["b"]), self.levels(d["a"]),
            int(d["E"]) * 1_000_000, recv_ns, int(d.get("pu", -1)),
        )

    def book_ticker(self, d: dict[str, Any], recv_ns: int) -> Quote:
        """`bookTicker`: the venue's own best bid/ask with the update id it reflects."""
        q = Quote(
            self.venue, d["s"], int(d["u"]), fx(d["b"], self.pd), fx(d["B"], self.sd), fx(d["a"], self.pd), fx(d["A"], self.sd),
            int(d.get("E", d.get("T", 0))) * 1_000_000, recv_ns,
        )
        if min(q.bid_px, q.bid_qty, q.ask_px, q.ask_qty) < 0:
            raise FixedPointError(f"bookTicker with a negative price or size: {str(d)[:120]}")
        return q

    def kline(self, d: dict[str, Any], recv_ns: int) -> Bar | None:
        """`kline`: a Bar once the candle is closed (`x` true); an open candle is not an event yet."""
        k = d["k"]
        if not k["x"]:
            return None
        return Bar(
            self.venue, d["s"], fx(k["o"], self.pd), fx(k["h"], self.pd), fx(k["l"], self.pd), fx(k["c"], self.pd),
            fx(k["v"], self.sd), int(k["t"]) * 1_000_000, (int(k["T"]) + 1) * 1_000_000, recv_ns,
        )

    def trade(self, d: dict[str, Any], recv_ns: int) -> Trade:
        """`trade`: `m` true means the buyer was the maker, so the aggressor sold."""
        tid = d["t"] if "t" in d else d["a"]
        t = Trade(
            self.venue, d["s"], int(tid), fx(d["p"], self.pd), fx(d["q"], self.sd), Side.SELL if d["m"] else Side.BUY,
            int(d.get("T", d["E"])) * 1_000_000, recv_ns,
        )
        if t.price <= 0 or t.size < 0:
            raise FixedPointError(f"trade with price <= 0 or a negative size: {str(d)[:120]}")
        return t


def _typed_decoders() -> tuple[Any, Any, Any]:
    """msgspec decoders for the three hot streams (strings kept as str; formats are checked after)."""
    ticker = msgspec.defstruct("Ticker", [("u", int), ("s", str), ("b", str), ("B", str), ("a", str), ("A", str),
                                          ("E", int, 0), ("T", int, 0)])
    depth = msgspec.defstruct("Depth", [("E", int), ("s", str), ("U", int), ("u", int),
                                        ("b", list[tuple[str, str]]), ("a", list[tuple[str, str]]), ("pu", int, -1)])
    trade = msgspec.defstruct("TradeMsg", [("E", int), ("s", str), ("t", int), ("p", str), ("q", str), ("m", bool),
                                           ("T", int, 0)])

    def wrap(t: Any) -> Any:
        return msgspec.json.Decoder(msgspec.defstruct("Wrapped", [("stream", str), ("data", t)]))

    return wrap(ticker), wrap(depth), wrap(trade)


class _Unusual(Exception):
    """A string not in the venue's usual fixed-decimal format: use the strict path."""


def _dots(strs: list[str], decimals: int) -> None:
    """Every string has its dot exactly `decimals` from the end (C-level loop), else `_Unusual`."""
    try:
        ok = set(map(itemgetter(-decimals - 1), strs)) <= {"."}
    except IndexError:
        ok = False
    if not ok:
        raise _Unusual


def _level_ints(levels: list[tuple[str, str]], pd: int, sd: int) -> list[Level]:
    flat = list(chain.from_iterable(levels))
    if pd == sd:
        _dots(flat, pd)
    else:
        _dots(flat[0::2], pd)
        _dots(flat[1::2], sd)
    v = list(map(int, map(_NODOT, flat)))
    px = v[0::2]
    if px and min(px) <= 0:  # a price of 0: the strict path names the bad level
        raise _Unusual
    return list(zip(px, v[1::2], strict=True))


class FastBinanceDecoder:
    """Raw bytes → event through typed msgspec decoding for bookTicker, depth and trade lines, checking the
    decimal format in bulk; anything else (or any string not in the venue's usual format) goes through the
    strict `BinanceAdapter.parse`, which raises clear errors. Both paths give identical events (tested)."""

    def __init__(self, adapter: BinanceAdapter) -> None:
        self.ad = adapter
        self.ticker, self.depth, self.trade = _typed_decoders()
        self.fallbacks = 0

    def decode(self, raw: bytes, recv_ns: int) -> Event | None:
        """Decode one message (bytes after the timestamp)."""
        head = raw[:48]
        venue, pd, sd = self.ad.venue, self.ad.pd, self.ad.sd
        try:
            # nothing `int()` accepts but a decimal must not: underscores, signs, blanks in quotes, non-ASCII
            if not raw.isascii() or b"_" in raw or b"+" in raw or b'"-' in raw or b' "' in raw or b'" ' in raw:
                raise _Unusual
            if b"@bookTicker" in head:
                t = self.ticker.decode(raw).data
                p1, s1 = -pd - 1, -sd - 1
                if t.b[p1] != "." or t.a[p1] != "." or t.B[s1] != "." or t.A[s1] != ".":
                    raise _Unusual
                return Quote(venue, t.s, t.u, int(t.b.replace(".", "", 1)), int(t.B.replace(".", "", 1)),
                             int(t.a.replace(".", "", 1)), int(t.A.replace(".", "", 1)),
                             (t.E or t.T) * 1_000_000, recv_ns)
            if b"@depth" in head:
                d = self.depth.decode(raw).data
                return BookDelta(venue, d.s, d.U, d.u, _level_ints(d.b, pd, sd), _level_ints(d.a, pd, sd),
                                 d.E * 1_000_000, recv_ns, d.pu)
            if b"@trade" in head:
                t = self.trade.decode(raw).data
                if t.p[-pd - 1] != "." or t.q[-sd - 1] != "." or not t.p.strip("0."):
                    raise _Unusual  # another format, or a price of 0 (the strict path raises on it)
                return Trade(venue, t.s, t.t, int(t.p.replace(".", "", 1)), int(t.q.replace(".", "", 1)),
                             Side.SELL if t.m else Side.BUY, (t.T or t.E) * 1_000_000, recv_ns)
        except (msgspec.ValidationError, msgspec.DecodeError, _Unusual, ValueError, IndexError):
            self.fallbacks += 1
        return self.ad.parse(orjson.loads(raw), recv_ns)
