"""Coinbase level2: the legacy Exchange feed (`snapshot`/`l2update`, `ticker`, `match`) and Advanced Trade
(`l2_data`, `ticker`, `market_trades`).

Neither level2 channel carries a per-book sequence or a checksum, so the rule is `UnorderedRule`; the
venue's own ticker (best bid/ask) is the oracle. Update ids are the message time in µs (informational).
Legacy `match.side` is the maker's side (the aggressor is the other one); Advanced `side` is the taker's.
"""

from __future__ import annotations

from typing import Any

from kimera.book import UnorderedRule
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Level, Quote, Side, Trade
from kimera.venues.common import iso_ns, price, size

VENUE = "COINBASE"
DECIMALS = 8  # Coinbase never writes more than 8 decimals for a price or a size


def instrument(symbol: str) -> Instrument:
    """A Coinbase product at 8/8 decimals (no checksum to match, so a common scale is exact enough)."""
    return Instrument(VENUE, symbol, DECIMALS, DECIMALS, taker_fee=0.006, maker_fee=0.004)


def rule() -> UnorderedRule:
    """No per-book sequence ids on Coinbase level2."""
    return UnorderedRule()


def _pairs(pairs: list[Any]) -> list[Level]:
    return [(price(p, DECIMALS), size(q, DECIMALS)) for p, q in pairs]


class CoinbaseAdapter:
    """Stateless translation of decoded Coinbase messages into events."""

    venue = VENUE

    def parse(self, msg: Any, recv_ns: int) -> list[Event]:
        """One decoded message -> its events ([] for subscriptions and heartbeats)."""
        if not isinstance(msg, dict):
            raise ValueError(f"expected a JSON object, got {type(msg).__name__}")
        if "channel" in msg and "events" in msg:
            return self._advanced(msg, recv_ns)
        kind = msg.get("type")
        if kind == "l2update":
            return [self._l2update(msg, recv_ns)]
        if kind == "snapshot":
            t = iso_ns(msg["time"]) if "time" in msg else 0
            return [BookSnapshot(VENUE, msg["product_id"], t // 1000, _pairs(msg["bids"]), _pairs(msg["asks"]), t,
                                 recv_ns)]
        if kind == "ticker":
            return [self._ticker_legacy(msg, recv_ns)]
        if kind in ("match", "last_match"):
            maker = msg["side"]
            aggressor = Side.SELL if maker == "buy" else Side.BUY
            return [Trade(VENUE, msg["product_id"], int(msg["trade_id"]), price(msg["price"], DECIMALS),
                          size(msg["size"], DECIMALS), aggressor, iso_ns(msg["time"]), recv_ns)]
        if kind in ("subscriptions", "heartbeat"):
            return []
        if kind == "error":
            raise ValueError(f"Coinbase error message: {str(msg)[:160]}")
        raise ValueError(f"unknown Coinbase message: {str(msg)[:120]}")

    def rest_snapshot(self, body: dict[str, Any], recv_ns: int) -> BookSnapshot:
        """Advanced Trade `GET /product_book` response -> snapshot (id: its time in µs)."""
        pb = body["pricebook"]
        t = iso_ns(pb["time"]) if "time" in pb else 0
        bids = [(price(x["price"], DECIMALS), size(x["size"], DECIMALS)) for x in pb["bids"]]
        asks = [(price(x["price"], DECIMALS), size(x["size"], DECIMALS)) for x in pb["asks"]]
        return BookSnapshot(VENUE, pb["product_id"], t // 1000, bids, asks, t, recv_ns)

    def _l2update(self, msg: dict[str, Any], recv_ns: int) -> BookDelta:
        bids: list[Level] = []
        asks: list[Level] = []
        for side, p, q in msg["changes"]:
            lv = (price(p, DECIMALS), size(q, DECIMALS))
            if side == "buy":
                bids.append(lv)
            elif side == "sell":
                asks.append(lv)
            else:
                raise ValueError(f"l2update side must be buy or sell, got {side!r}")
        t = iso_ns(msg["time"])
        return BookDelta(VENUE, msg["product_id"], t // 1000, t // 1000, bids, asks, t, recv_ns)

    def _ticker_legacy(self, msg: dict[str, Any], recv_ns: int) -> Quote:
        # the 2021 feed sends no sizes with best_bid/best_ask: 0 means "not sent"
        bq = size(msg["best_bid_size"], DECIMALS) if "best_bid_size" in msg else 0
        aq = size(msg["best_ask_size"], DECIMALS) if "best_ask_size" in msg else 0
        t = iso_ns(msg["time"]) if "time" in msg else 0
        return Quote(VENUE, msg["product_id"], -1, price(msg["best_bid"], DECIMALS), bq,
                     price(msg["best_ask"], DECIMALS), aq, t, recv_ns)

    def _advanced(self, msg: dict[str, Any], recv_ns: int) -> list[Event]:
        channel = msg["channel"]
        t = iso_ns(msg["timestamp"]) if "timestamp" in msg else 0
        out: list[Event] = []
        for ev in msg["events"]:
            if channel == "l2_data":
                bids: list[Level] = []
                asks: list[Level] = []
                for u in ev["updates"]:
                    lv = (price(u["price_level"], DECIMALS), size(u["new_quantity"], DECIMALS))
                    (bids if u["side"] == "bid" else asks).append(lv)
                sym = ev["product_id"]
                if ev["type"] == "snapshot":
                    out.append(BookSnapshot(VENUE, sym, t // 1000, bids, asks, t, recv_ns))
                else:
                    out.append(BookDelta(VENUE, sym, t // 1000, t // 1000, bids, asks, t, recv_ns))
            elif channel == "ticker":
                for k in ev["tickers"]:
                    out.append(Quote(VENUE, k["product_id"], -1, price(k["best_bid"], DECIMALS),
                                     size(k.get("best_bid_quantity", "0"), DECIMALS), price(k["best_ask"], DECIMALS),
                                     size(k.get("best_ask_quantity", "0"), DECIMALS), t, recv_ns))
            elif channel == "market_trades":
                for tr in ev["trades"]:
                    side = Side.BUY if tr["side"] == "BUY" else Side.SELL
                    out.append(Trade(VENUE, tr["product_id"], int(tr["trade_id"]), price(tr["price"], DECIMALS),
                                     size(tr["size"], DECIMALS), side, iso_ns(tr["time"]), recv_ns))
            elif channel in ("subscriptions", "heartbeats", "candles", "user", "status"):
                continue
            else:
                raise ValueError(f"unknown Coinbase Advanced channel {channel!r}")
        return out
