"""OKX v5 public channels: `books` (snapshot/update chained by seqId/prevSeqId, CRC32 checksum), `trades`,
`tickers`, `bbo-tbt`.

Rule: each update's `prevSeqId` is the previous message's `seqId` (`PrevIdRule`; an unchanged book repeats
the seqId). Checksum: the top 25 levels interleaved `bid:size:ask:size:...`, each as OKX writes it (decimal
strings without trailing zeros), CRC32 as a signed 32-bit int.
"""

from __future__ import annotations

from typing import Any

from kimera.book import OrderBook, PrevIdRule
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Level, Quote, Side, Trade
from kimera.venues.common import crc32_signed, price, size, trimmed

VENUE = "OKX"
DECIMALS = 8  # OKX strings are trimmed, so any scale that holds them reproduces them exactly


def instrument(symbol: str) -> Instrument:
    """An OKX instrument (`BTC-USDT`; taker 0.10%, maker 0.08%)."""
    return Instrument(VENUE, symbol, DECIMALS, DECIMALS, taker_fee=0.001, maker_fee=0.0008)


def rule() -> PrevIdRule:
    """prevSeqId == previous seqId."""
    return PrevIdRule()


def checksum_of(bids: list[Level], asks: list[Level], price_decimals: int, size_decimals: int) -> int:
    """OKX checksum of best-first level lists (top 25 each)."""
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts.append(trimmed(bids[i][0], price_decimals))
            parts.append(trimmed(bids[i][1], size_decimals))
        if i < len(asks):
            parts.append(trimmed(asks[i][0], price_decimals))
            parts.append(trimmed(asks[i][1], size_decimals))
    return crc32_signed(":".join(parts))


def checksum(book: OrderBook) -> int:
    """OKX's CRC32 of our book."""
    inst = book.instrument
    return checksum_of(book.bids.top(25), book.asks.top(25), inst.price_decimals, inst.size_decimals)


def _levels(rows: list[Any]) -> list[Level]:
    # [price, size, deprecated liquidated-orders field, order count]
    return [(price(r[0], DECIMALS), size(r[1], DECIMALS)) for r in rows]


class OkxAdapter:
    """Stateless translation of decoded OKX messages into events."""

    venue = VENUE

    def parse(self, msg: Any, recv_ns: int) -> list[Event]:
        """One decoded message -> its events ([] for subscribe acks and pongs)."""
        if msg == "pong":
            return []
        if not isinstance(msg, dict):
            raise ValueError(f"expected a JSON object, got {type(msg).__name__}")
        if "event" in msg:
            if msg["event"] == "error":
                raise ValueError(f"OKX error message: {str(msg)[:160]}")
            return []
        arg = msg.get("arg") or {}
        channel = arg.get("channel")
        inst_id = str(arg.get("instId", ""))
        if channel in ("books", "books5", "books50-l2-tbt", "books-l2-tbt"):
            return [self._book(d, inst_id, msg.get("action"), recv_ns) for d in msg["data"]]
        if channel == "bbo-tbt":
            return [self._bbo(d, inst_id, recv_ns) for d in msg["data"]]
        if channel == "trades":
            return [self._trade(d, recv_ns) for d in msg["data"]]
        if channel == "tickers":
            return [self._ticker(d, recv_ns) for d in msg["data"]]
        raise ValueError(f"unknown OKX message: {str(msg)[:120]}")

    def rest_snapshot(self, body: dict[str, Any], inst_id: str, recv_ns: int) -> BookSnapshot:
        """`GET /api/v5/market/books` response -> snapshot (REST books carry no seqId: id -1)."""
        if str(body.get("code", "0")) != "0":
            raise ValueError(f"OKX REST error {body.get('code')}: {body.get('msg')}")
        d = body["data"][0]
        return BookSnapshot(VENUE, inst_id, int(d.get("seqId", -1)), _levels(d["bids"]), _levels(d["asks"]),
                            int(d["ts"]) * 1_000_000, recv_ns)

    def _book(self, d: dict[str, Any], inst_id: str, action: Any, recv_ns: int) -> Event:
        seq = int(d.get("seqId", -1))
        prev = int(d.get("prevSeqId", -1))
        ts = int(d["ts"]) * 1_000_000
        check = int(d["checksum"]) if d.get("checksum") not in (None, 0) else None  # 0 = deprecated field
        bids, asks = _levels(d["bids"]), _levels(d["asks"])
        if action == "snapshot" or action is None:  # books5 has no action: every message is a snapshot
            return BookSnapshot(VENUE, inst_id, seq, bids, asks, ts, recv_ns, check)
        if action == "update":
            return BookDelta(VENUE, inst_id, seq, seq, bids, asks, ts, recv_ns, prev, check)
        raise ValueError(f"OKX book message of unknown action {action!r}")

    def _bbo(self, d: dict[str, Any], inst_id: str, recv_ns: int) -> Quote:
        b, a = d["bids"][0], d["asks"][0]
        return Quote(VENUE, inst_id, int(d.get("seqId", -1)), price(b[0], DECIMALS), size(b[1], DECIMALS),
                     price(a[0], DECIMALS), size(a[1], DECIMALS), int(d["ts"]) * 1_000_000, recv_ns)

    def _trade(self, d: dict[str, Any], recv_ns: int) -> Trade:
        side = {"buy": Side.BUY, "sell": Side.SELL}[d["side"]]
        return Trade(VENUE, d["instId"], int(d["tradeId"]), price(d["px"], DECIMALS), size(d["sz"], DECIMALS), side,
                     int(d["ts"]) * 1_000_000, recv_ns)

    def _ticker(self, d: dict[str, Any], recv_ns: int) -> Quote:
        return Quote(VENUE, d["instId"], -1, price(d["bidPx"], DECIMALS), size(d["bidSz"], DECIMALS),
                     price(d["askPx"], DECIMALS), size(d["askSz"], DECIMALS), int(d["ts"]) * 1_000_000, recv_ns)
