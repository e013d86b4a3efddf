"""Kraken spot websockets (v1 arrays and v2 objects): book snapshot/updates with CRC32, trades, ticker.

Kraken sends no sequence ids: the book is checked by the CRC32 of its top 10 levels carried by every
update (`UnorderedRule` + `checksum`). The checksum string is each level's decimal string with the dot and
leading zeros removed, which for a fixed-point int at the venue's own number of decimals is simply
`str(int)`; so each pair's instrument must use exactly the decimals of the venue's strings (`BOOK_DECIMALS`).
As update id we use the newest level timestamp in the message, in µs (informational only).
"""

from __future__ import annotations

from typing import Any

from kimera.book import OrderBook, UnorderedRule
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Level, Quote, Side, Trade
from kimera.venues.common import crc32, iso_ns, price, sec_ns, size

VENUE = "KRAKEN"
DEFAULT_DEPTH = 1000  # the book depth we subscribe to (and truncate at)

# Decimals of the venue's price and volume strings per pair. v1 (XBT/..., book strings) uses more places
# than AssetPairs' pair_decimals; v2 (BTC/..., JSON numbers) uses the instruments channel's precisions.
BOOK_DECIMALS: dict[str, tuple[int, int]] = {
    # ws v1, measured on the shared captures (cryptofeed KRAKEN.ws.50.0) and Kraken's docs
    "ADA/XBT": (9, 8), "XBT/CHF": (5, 8), "OMG/USD": (6, 8), "OCEAN/XBT": (9, 8), "ETH/CHF": (5, 8),
    "SC/EUR": (6, 8), "GRT/ETH": (9, 8), "KSM/XBT": (8, 8), "XMR/USD": (8, 8), "WAVES/EUR": (6, 8),
    "XBT/USD": (5, 8), "XBT/EUR": (5, 8), "ETH/USD": (5, 8), "ETH/XBT": (5, 8),
    # ws v2
    "BTC/USD": (1, 8), "BTC/EUR": (1, 8), "ETH/BTC": (5, 8),
}
DEFAULT_DECIMALS = (8, 8)


def instrument(symbol: str) -> Instrument:
    """The instrument at the decimals of Kraken's own strings for this pair (taker 0.26%, maker 0.16%)."""
    pd, sd = BOOK_DECIMALS.get(symbol, DEFAULT_DECIMALS)
    return Instrument(VENUE, symbol, pd, sd, taker_fee=0.0026, maker_fee=0.0016)


def checksum(book: OrderBook) -> int:
    """Kraken's book CRC32: top 10 asks (low to high) then top 10 bids (high to low), price then volume."""
    parts: list[str] = []
    for p, q in book.asks.top(10):
        parts.append(str(p))
        parts.append(str(q))
    for p, q in book.bids.top(10):
        parts.append(str(p))
        parts.append(str(q))
    return crc32("".join(parts))


def rule() -> UnorderedRule:
    """Kraken has no update ids: every update follows, the checksum guards the book."""
    return UnorderedRule()


class KrakenAdapter:
    """Stateless translation of decoded Kraken messages (v1 or v2) into events."""

    venue = VENUE

    def __init__(self) -> None:
        self._instruments: dict[str, Instrument] = {}

    def instrument(self, symbol: str) -> Instrument:
        """Cached instrument of a pair."""
        inst = self._instruments.get(symbol)
        if inst is None:
            inst = self._instruments[symbol] = instrument(symbol)
        return inst

    def parse(self, msg: Any, recv_ns: int) -> list[Event]:
        """One decoded message -> its events ([] for status, heartbeat and acknowledgements)."""
        if isinstance(msg, list):
            return self._parse_v1(msg, recv_ns)
        if not isinstance(msg, dict):
            raise ValueError(f"expected a JSON array or object, got {type(msg).__name__}")
        if "event" in msg or "method" in msg:  # v1 events / v2 acks: systemStatus, heartbeat, pong, subscribe
            if msg.get("event") == "error" or msg.get("success") is False:
                raise ValueError(f"Kraken error message: {str(msg)[:160]}")
            return []
        channel = msg.get("channel")
        if channel in ("heartbeat", "status", "instrument", "pong"):
            return []
        if channel == "book":
            return [self._book_v2(d, msg.get("type"), recv_ns) for d in msg["data"]]
        if channel == "trade":
            return [self._trade_v2(d, recv_ns) for d in msg["data"]]
        if channel == "ticker":
            return [self._ticker_v2(d, recv_ns) for d in msg["data"]]
        raise ValueError(f"unknown Kraken message: {str(msg)[:120]}")

    def rest_snapshot(self, body: dict[str, Any], symbol: str, recv_ns: int) -> BookSnapshot:
        """`GET /0/public/Depth` response -> snapshot of `symbol` (the instrument whose decimals to use)."""
        if body.get("error"):
            raise ValueError(f"Kraken REST error: {body['error']}")
        (book,) = body["result"].values()
        inst = self.instrument(symbol)
        pd, sd = inst.price_decimals, inst.size_decimals
        bids = [(price(x[0], pd), size(x[1], sd)) for x in book["bids"]]
        asks = [(price(x[0], pd), size(x[1], sd)) for x in book["asks"]]
        ts = max((int(x[2]) for x in book["bids"] + book["asks"]), default=0) * 1_000_000
        return BookSnapshot(VENUE, symbol, ts // 1000, bids, asks, ts, recv_ns)

    # -- v1: [channelID, payload(s)..., channelName, pair] -------------------------------------------
    def _parse_v1(self, msg: list[Any], recv_ns: int) -> list[Event]:
        if len(msg) < 4 or not isinstance(msg[-1], str) or not isinstance(msg[-2], str):
            raise ValueError(f"not a Kraken v1 channel message: {str(msg)[:120]}")
        name, pair = msg[-2], msg[-1]
        payloads = msg[1:-2]
        if name.startswith("book"):
            return [self._book_v1(pair, payloads, recv_ns)]
        if name == "trade":
            return [self._trade_v1(pair, t, recv_ns) for t in payloads[0]]
        if name == "ticker":
            return [self._ticker_v1(pair, payloads[0], recv_ns)]
        if name == "spread":
            return []
        raise ValueError(f"unknown Kraken v1 channel {name!r}")

    def _levels_v1(self, inst: Instrument, entries: list[Any]) -> tuple[list[Level], int]:
        pd, sd = inst.price_decimals, inst.size_decimals
        out: list[Level] = []
        newest = 0
        for e in entries:
            out.append((price(e[0], pd), size(e[1], sd)))
            ts = sec_ns(e[2]) // 1000
            if ts > newest:
                newest = ts
        return out, newest

    def _book_v1(self, pair: str, payloads: list[Any], recv_ns: int) -> Event:
        inst = self.instrument(pair)
        first = payloads[0]
        if "as" in first or "bs" in first:
            snap_asks, ta = self._levels_v1(inst, first.get("as", []))
            snap_bids, tb = self._levels_v1(inst, first.get("bs", []))
            ts = max(ta, tb)
            return BookSnapshot(VENUE, pair, ts, snap_bids, snap_asks, ts * 1000, recv_ns)
        bids: list[Level] = []
        asks: list[Level] = []
        ts = 0
        check: int | None = None
        for part in payloads:
            if "a" in part:
                lv, t = self._levels_v1(inst, part["a"])
                asks.extend(lv)
                ts = max(ts, t)
            if "b" in part:
                lv, t = self._levels_v1(inst, part["b"])
                bids.extend(lv)
                ts = max(ts, t)
            if "c" in part:
                check = int(part["c"])
        return BookDelta(VENUE, pair, ts, ts, bids, asks, ts * 1000, recv_ns, -1, check)

    def _trade_v1(self, pair: str, t: list[Any], recv_ns: int) -> Trade:
        inst = self.instrument(pair)
        side = Side.BUY if t[3] == "b" else Side.SELL
        return Trade(VENUE, pair, -1, price(t[0], inst.price_decimals), size(t[1], inst.size_decimals), side,
                     sec_ns(t[2]), recv_ns)

    def _ticker_v1(self, pair: str, d: dict[str, Any], recv_ns: int) -> Quote:
        inst = self.instrument(pair)
        pd, sd = inst.price_decimals, inst.size_decimals
        return Quote(VENUE, pair, -1, price(d["b"][0], pd), size(d["b"][2], sd), price(d["a"][0], pd),
                     size(d["a"][2], sd), 0, recv_ns)

    # -- v2: {"channel": ..., "type": ..., "data": [...]} -------------------------------------------
    def _book_v2(self, d: dict[str, Any], kind: Any, recv_ns: int) -> Event:
        sym = d["symbol"]
        inst = self.instrument(sym)
        pd, sd = inst.price_decimals, inst.size_decimals
        bids = [(price(x["price"], pd), size(x["qty"], sd)) for x in d.get("bids", [])]
        asks = [(price(x["price"], pd), size(x["qty"], sd)) for x in d.get("asks", [])]
        ts = iso_ns(d["timestamp"]) if "timestamp" in d else 0
        check = int(d["checksum"]) if "checksum" in d else None
        uid = ts // 1000
        if kind == "snapshot":
            return BookSnapshot(VENUE, sym, uid, bids, asks, ts, recv_ns, check)
        if kind == "update":
            return BookDelta(VENUE, sym, uid, uid, bids, asks, ts, recv_ns, -1, check)
        raise ValueError(f"Kraken book message of unknown type {kind!r}")

    def _trade_v2(self, d: dict[str, Any], recv_ns: int) -> Trade:
        inst = self.instrument(d["symbol"])
        side = {"buy": Side.BUY, "sell": Side.SELL}[d["side"]]
        return Trade(VENUE, d["symbol"], int(d["trade_id"]), price(d["price"], inst.price_decimals),
                     size(d["qty"], inst.size_decimals), side, iso_ns(d["timestamp"]), recv_ns)

    def _ticker_v2(self, d: dict[str, Any], recv_ns: int) -> Quote:
        inst = self.instrument(d["symbol"])
        pd, sd = inst.price_decimals, inst.size_decimals
        ts = iso_ns(d["timestamp"]) if "timestamp" in d else 0
        return Quote(VENUE, d["symbol"], -1, price(d["bid"], pd), size(d["bid_qty"], sd), price(d["ask"], pd),
                     size(d["ask_qty"], sd), ts, recv_ns)

