"""Bybit: v5 public streams (`orderbook.N` snapshot/delta chained by `u`, `publicTrade`, `tickers`) and the
legacy v1 `orderBookL2_25` (id-keyed levels, no usable sequence) found in the 2021 captures.

v5 rule: each delta's `u` is the previous `u` + 1 (`ContiguousRule`); a new snapshot resets the book.
v1 is a separate venue (`BYBIT_V1`, `UnorderedRule`): its `cross_seq` is shared across symbols.
"""

from __future__ import annotations

from typing import Any

from kimera.book import ContiguousRule, UnorderedRule
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Level, Quote, Side, Trade
from kimera.venues.common import price, size

VENUE = "BYBIT"
VENUE_V1 = "BYBIT_V1"
DECIMALS = 8  # Bybit writes at most 8 decimals; no checksum to reproduce, so one scale fits every symbol


def instrument(symbol: str) -> Instrument:
    """A Bybit v5 linear instrument (taker 0.055%, maker 0.02%)."""
    return Instrument(VENUE, symbol, DECIMALS, DECIMALS, taker_fee=0.00055, maker_fee=0.0002)


def instrument_v1(symbol: str) -> Instrument:
    """A legacy v1 instrument (same precision)."""
    return Instrument(VENUE_V1, symbol, DECIMALS, DECIMALS, taker_fee=0.00075, maker_fee=-0.00025)


def rule() -> ContiguousRule:
    """v5 `u` grows by exactly one per delta."""
    return ContiguousRule()


def rule_v1() -> UnorderedRule:
    """v1 has no per-book sequence."""
    return UnorderedRule()


def _pairs(pairs: list[Any]) -> list[Level]:
    return [(price(p, DECIMALS), size(q, DECIMALS)) for p, q in pairs]


def _trade_id(v: Any) -> int:
    s = str(v)
    return int(s) if s.isdigit() else -1  # linear trade ids are UUIDs: no integer id


class BybitAdapter:
    """Stateless translation of decoded Bybit messages into events."""

    venue = VENUE

    def parse(self, msg: Any, recv_ns: int) -> list[Event]:
        """One decoded message -> its events ([] for acknowledgements and pongs)."""
        if not isinstance(msg, dict):
            raise ValueError(f"expected a JSON object, got {type(msg).__name__}")
        topic = msg.get("topic")
        if topic is None:
            if "success" in msg or "op" in msg or "ret_msg" in msg:
                if msg.get("success") is False:
                    raise ValueError(f"Bybit error message: {str(msg)[:160]}")
                return []
            raise ValueError(f"unknown Bybit message: {str(msg)[:120]}")
        head = topic.split(".", 1)[0]
        if head == "orderbook":
            return [self._book_v5(msg, recv_ns)]
        if head == "orderBookL2_25" or head == "orderBookL2_200":
            return [self._book_v1(msg, recv_ns)]
        if head in ("publicTrade", "trade"):
            return [self._trade(t, recv_ns) for t in msg["data"]]
        if head == "tickers":
            q = self._ticker(msg, recv_ns)
            return [q] if q is not None else []
        if head in ("kline", "liquidation", "allLiquidation", "instrument_info"):
            return []
        raise ValueError(f"unknown Bybit topic {topic!r}")

    def rest_snapshot(self, body: dict[str, Any], recv_ns: int) -> BookSnapshot:
        """`GET /v5/market/orderbook` response -> snapshot at its `u`."""
        if body.get("retCode", 0) != 0:
            raise ValueError(f"Bybit REST error {body.get('retCode')}: {body.get('retMsg')}")
        r = body["result"]
        return BookSnapshot(VENUE, r["s"], int(r["u"]), _pairs(r["b"]), _pairs(r["a"]), int(r["ts"]) * 1_000_000, recv_ns)

    def _book_v5(self, msg: dict[str, Any], recv_ns: int) -> Event:
        d = msg["data"]
        u = int(d["u"])
        ts = int(msg["ts"]) * 1_000_000
        bids, asks = _pairs(d["b"]), _pairs(d["a"])
        kind = msg.get("type")
        if kind == "snapshot":
            return BookSnapshot(VENUE, d["s"], u, bids, asks, ts, recv_ns)
        if kind == "delta":
            return BookDelta(VENUE, d["s"], u, u, bids, asks, ts, recv_ns)
        raise ValueError(f"Bybit orderbook message of unknown type {kind!r}")

    def _book_v1(self, msg: dict[str, Any], recv_ns: int) -> Event:
        sym = msg["topic"].split(".", 1)[1]
        ts = int(msg.get("timestamp_e6", 0)) * 1000
        seq = int(msg.get("cross_seq", 0))
        data = msg["data"]
        if msg.get("type") == "snapshot":
            rows = data["order_book"] if isinstance(data, dict) else data
            bids = [(price(r["price"], DECIMALS), size(r["size"], DECIMALS)) for r in rows if r["side"] == "Buy"]
            asks = [(price(r["price"], DECIMALS), size(r["size"], DECIMALS)) for r in rows if r["side"] == "Sell"]
            return BookSnapshot(VENUE_V1, sym, seq, bids, asks, ts, recv_ns)
        if msg.get("type") != "delta":
            raise ValueError(f"Bybit v1 book message of unknown type {msg.get('type')!r}")
        bids = []
        asks = []
        for key in ("delete", "update", "insert"):  # this order: a price can be deleted then re-inserted
            for r in data.get(key, []):
                q = 0 if key == "delete" else size(r["size"], DECIMALS)
                (bids if r["side"] == "Buy" else asks).append((price(r["price"], DECIMALS), q))
        return BookDelta(VENUE_V1, sym, seq, seq, bids, asks, ts, recv_ns)

    def _trade(self, t: dict[str, Any], recv_ns: int) -> Trade:
        if "trade_time_ms" in t:  # v1
            venue, ts = VENUE_V1, int(t["trade_time_ms"]) * 1_000_000
            px, qty = t["price"], t["size"]
        else:
            venue, ts = VENUE, int(t["T"]) * 1_000_000
            px, qty = t["p"], t["v"]
        side = {"Buy": Side.BUY, "Sell": Side.SELL}[str(t.get("S", t.get("side")))]
        sym = str(t["s"] if "s" in t else t["symbol"])
        return Trade(venue, sym, _trade_id(t.get("i", t.get("trade_id"))), price(px, DECIMALS), size(qty, DECIMALS),
                     side, ts, recv_ns)

    def _ticker(self, msg: dict[str, Any], recv_ns: int) -> Quote | None:
        d = msg["data"]
        if not all(k in d for k in ("bid1Price", "bid1Size", "ask1Price", "ask1Size")):
            return None  # a delta without top-of-book fields
        return Quote(VENUE, d["symbol"], int(msg.get("cs", -1)), price(d["bid1Price"], DECIMALS),
                     size(d["bid1Size"], DECIMALS), price(d["ask1Price"], DECIMALS), size(d["ask1Size"], DECIMALS),
                     int(msg.get("ts", 0)) * 1_000_000, recv_ns)
