"""Binance spot and USD-M: translate diff-depth, REST depth snapshot, bookTicker and trade messages.

Spot chains diffs by `U == previous u + 1`; USD-M by `pu == previous u` (see `kimera.book.sync`).
"""

from __future__ import annotations

from operator import itemgetter, methodcaller
from typing import Any

from kimera.book.sync import BinanceFuturesRule, BinanceSpotRule, SequenceRule
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Level, Quote, Side, Trade
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
        if "result" in data or "id" in data:  # subscription acknowledgements
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
        return Quote(
            self.venue, d["s"], int(d["u"]), fx(d["b"], self.pd), fx(d["B"], self.sd), fx(d["a"], self.pd), fx(d["A"], self.sd),
            int(d.get("E", d.get("T", 0))) * 1_000_000, recv_ns,
        )

    def trade(self, d: dict[str, Any], recv_ns: int) -> Trade:
        """`trade`: `m` true means the buyer was the maker, so the aggressor sold."""
        tid = d["t"] if "t" in d else d["a"]
        return Trade(
            self.venue, d["s"], int(tid), fx(d["p"], self.pd), fx(d["q"], self.sd), Side.SELL if d["m"] else Side.BUY,
            int(d.get("T", d["E"])) * 1_000_000, recv_ns,
        )
