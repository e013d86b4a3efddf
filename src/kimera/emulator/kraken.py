"""Kraken spot websockets v1 dialect: systemStatus, ping/pong, heartbeat, subscribe/unsubscribe to `book`
(depth 10/25/100/500/1000) and `trade`, book snapshot then updates carrying the CRC32 checksum; plus the
REST endpoints ccxt needs (Assets, AssetPairs, Depth, Time).

Updates are what Kraken sends for a subscribed depth N: changed levels inside the top N, deletions of
visible levels, and the levels that enter the top N when visible ones go; nothing for levels pushed
beyond N (the client truncates). Resync on Kraken = unsubscribe + subscribe (a fresh snapshot).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from kimera.book import OrderBook
from kimera.book.orderbook import BookSide
from kimera.emulator.hub import Connection, Hub
from kimera.emulator.protocol import VenueProtocol
from kimera.model import BookDelta, BookSnapshot, Instrument, Level, Trade
from kimera.model.fixed import format_fixed
from kimera.venues import kraken

DEPTHS = (10, 25, 100, 500, 1000)

# before-state of one side for one depth: the old N-th price (None if the side had < N levels) and
# whether each changed price was visible
_SidePre = tuple[int | None, dict[int, bool]]


def _visible(side: BookSide, price: int, depth: int) -> bool:
    return 0 <= side.rank(price) < depth


def _boundary(side: BookSide, depth: int) -> int | None:
    keys = side.keys
    if len(keys) < depth:
        return None
    return side.sign * keys[-depth]


def side_pre(side: BookSide, changed: list[Level], depth: int) -> _SidePre:
    """What a side looked like at depth N before a delta touching `changed`."""
    return _boundary(side, depth), {p: _visible(side, p, depth) for p, _ in changed}


def side_updates(side: BookSide, pre: _SidePre, depth: int) -> list[Level]:
    """The levels Kraken publishes for one side after the delta (size 0 = delete)."""
    boundary, was_visible = pre
    out: list[Level] = []
    for p, visible_before in was_visible.items():
        if _visible(side, p, depth):
            out.append((p, side.size_at(p)))
        elif visible_before and not side.size_at(p):
            out.append((p, 0))
    if boundary is not None:  # levels now in the top `depth` that were below the old N-th: best first
        keys, sign = side.keys, side.sign
        n = len(keys)
        entering = [sign * k for k in reversed(keys[max(n - depth, 0): bisect_left(keys, sign * boundary)])]
        out.extend((p, side.size_at(p)) for p in entering if p not in was_visible)
    return out


def _ts(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns // 1000 % 1_000_000:06d}"


class KrakenProtocol(VenueProtocol):
    """Kraken spot ws v1 for the given pairs (`XBT/USD` style names)."""

    venue = kraken.VENUE

    def __init__(self, hub: Hub, symbols: list[str]) -> None:
        super().__init__(hub)
        self.symbols = set(symbols)
        self.channel_ids: dict[tuple[str, str], int] = {}
        self.book_subs: dict[int, dict[str, int]] = {}  # conn id -> pair -> depth
        self.trade_subs: dict[int, set[str]] = {}
        self._instruments: dict[str, Instrument] = {}
        self.last_ns: dict[str, int] = {}  # exchange time of the last update per pair (snapshot timestamps)

    def instrument(self, symbol: str) -> Instrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            inst = self._instruments[symbol] = kraken.instrument(symbol)
        return inst

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/", self.ws_handler)
        r.add_get("/ws", self.ws_handler)
        r.add_get("/0/public/Time", self.time_handler)
        r.add_get("/0/public/Assets", self.assets_handler)
        r.add_get("/0/public/AssetPairs", self.asset_pairs_handler)
        r.add_get("/0/public/Depth", self.depth_handler)

    def _chan(self, name: str, pair: str) -> int:
        key = (name, pair)
        cid = self.channel_ids.get(key)
        if cid is None:
            cid = self.channel_ids[key] = 100 + len(self.channel_ids)
        return cid

    # -- websocket --------------------------------------------------------------------------------
    async def ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        """One client: systemStatus, then subscription events until it leaves."""
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = self.hub.add(ws, request.transport)
        conn.send(orjson.dumps({"connectionID": conn.id, "event": "systemStatus", "status": "online",
                                "version": "1.9.0"}).decode())
        conn.flush()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._event(conn, msg.data)
                    conn.flush()
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self.hub.remove(conn)
            self.book_subs.pop(conn.id, None)
            self.trade_subs.pop(conn.id, None)
        return ws

    def _event(self, conn: Connection, text: str) -> None:
        try:
            req = orjson.loads(text)
            event = req["event"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.send(orjson.dumps({"event": "error", "errorMessage": "Malformed request"}).decode())
            return
        if event == "ping":
            conn.send(orjson.dumps({"event": "pong", "reqid": req.get("reqid")}).decode())
            return
        if event not in ("subscribe", "unsubscribe"):
            conn.send(orjson.dumps({"event": "error", "errorMessage": f"Unsupported event {event}"}).decode())
            return
        sub = req.get("subscription") or {}
        name = str(sub.get("name"))
        depth = int(sub.get("depth", 10))
        for pair in req.get("pair", []):
            status: dict[str, Any] = {"event": "subscriptionStatus", "pair": pair, "subscription": sub}
            if "reqid" in req:
                status["reqid"] = req["reqid"]
            error = None
            if pair not in self.symbols:
                error = f"Currency pair not supported {pair}"
            elif name not in ("book", "trade"):
                error = f"Subscription name invalid {name}"
            elif name == "book" and depth not in DEPTHS:
                error = "Subscription depth not supported"
            if error is not None:
                status.update(status="error", errorMessage=error)
                conn.send(orjson.dumps(status).decode())
                continue
            chan_name = f"book-{depth}" if name == "book" else "trade"
            status.update(channelID=self._chan(chan_name, pair), channelName=chan_name)
            if event == "subscribe":
                self._subscribe(conn, name, pair, depth, status)
            else:
                if name == "book":
                    self.book_subs.get(conn.id, {}).pop(pair, None)
                else:
                    self.trade_subs.get(conn.id, set()).discard(pair)
                status["status"] = "unsubscribed"
                conn.send(orjson.dumps(status).decode())

    def _subscribe(self, conn: Connection, name: str, pair: str, depth: int, status: dict[str, Any]) -> None:
        already = pair in self.book_subs.get(conn.id, {}) if name == "book" else pair in self.trade_subs.get(conn.id, set())
        if already:
            status.update(status="error", errorMessage="Subscription already exists")  # as Kraken answers
            conn.send(orjson.dumps(status).decode())
            return
        status["status"] = "subscribed"
        conn.send(orjson.dumps(status).decode())
        if name == "trade":
            self.trade_subs.setdefault(conn.id, set()).add(pair)
            return
        self.book_subs.setdefault(conn.id, {})[pair] = depth
        sb = self.hub.books.get(pair)
        if sb is not None and sb.trusted:
            conn.send(self.snapshot_message(sb.book, pair, depth))
        self.subscribed.set()

    def snapshot_message(self, book: OrderBook, pair: str, depth: int) -> str:
        """`[chan, {"as": [...], "bs": [...]}, "book-N", pair]` of the top N levels."""
        inst = self.instrument(pair)
        pd, sd = inst.price_decimals, inst.size_decimals
        ts = _ts(self.last_ns.get(pair) or time.time_ns())
        bids, asks = book.depth(depth)
        body = {"as": [[format_fixed(p, pd), format_fixed(q, sd), ts] for p, q in asks],
                "bs": [[format_fixed(p, pd), format_fixed(q, sd), ts] for p, q in bids]}
        name = f"book-{depth}"
        return orjson.dumps([self._chan(name, pair), body, name, pair]).decode()

    # -- publishing --------------------------------------------------------------------------------
    def _depths(self, pair: str) -> set[int]:
        return {subs[pair] for subs in self.book_subs.values() if pair in subs}

    def before_delta(self, book: OrderBook, d: BookDelta) -> object:
        return {n: (side_pre(book.bids, d.bids, n), side_pre(book.asks, d.asks, n)) for n in self._depths(d.symbol)}

    def publish_snapshot(self, snap: BookSnapshot) -> None:
        self.last_ns[snap.symbol] = snap.exchange_ns
        sb = self.hub.books[snap.symbol]
        for conn in list(self.hub.connections.values()):
            depth = self.book_subs.get(conn.id, {}).get(snap.symbol)
            if depth is not None:
                self.hub.deliver(conn, self.snapshot_message(sb.book, snap.symbol, depth))

    def publish_delta(self, d: BookDelta, before: object) -> None:
        assert isinstance(before, dict)
        sb = self.hub.books[d.symbol]
        book = sb.book
        inst = self.instrument(d.symbol)
        pd, sd = inst.price_decimals, inst.size_decimals
        check = str(kraken.checksum(book))
        ts = _ts(d.exchange_ns)
        self.last_ns[d.symbol] = d.exchange_ns
        texts: dict[int, str] = {}
        for depth, (pre_b, pre_a) in before.items():
            asks = side_updates(book.asks, pre_a, depth)
            bids = side_updates(book.bids, pre_b, depth)
            if not asks and not bids:
                continue
            name = f"book-{depth}"
            parts: list[Any] = [self._chan(name, d.symbol)]
            if asks:
                parts.append({"a": [[format_fixed(p, pd), format_fixed(q, sd), ts] for p, q in asks]})
            if bids:
                parts.append({"b": [[format_fixed(p, pd), format_fixed(q, sd), ts] for p, q in bids]})
            parts[-1]["c"] = check
            parts += [name, d.symbol]
            texts[depth] = orjson.dumps(parts).decode()
        if not texts:
            return
        self.hub.published += 1
        seq = self.hub.next_book_seq()
        bad = str((int(check) + 1) % (1 << 32))

        def corrupt(text: str) -> str:
            return text.replace(f'"c":"{check}"', f'"c":"{bad}"')

        for conn in list(self.hub.connections.values()):
            depth = self.book_subs.get(conn.id, {}).get(d.symbol)
            if depth is not None and depth in texts:
                self.hub.deliver(conn, texts[depth], seq, d.last_update_id, corrupt)

    def publish_trade(self, t: Trade) -> None:
        inst = self.instrument(t.symbol)
        row = [format_fixed(t.price, inst.price_decimals), format_fixed(t.size, inst.size_decimals), _ts(t.exchange_ns),
               "b" if t.side > 0 else "s", "l", ""]
        text = orjson.dumps([self._chan("trade", t.symbol), [row], "trade", t.symbol]).decode()
        self.hub.published += 1
        for conn in list(self.hub.connections.values()):
            if t.symbol in self.trade_subs.get(conn.id, set()):
                self.hub.deliver(conn, text)

    def idle(self) -> None:
        now = time.monotonic()
        for conn in list(self.hub.connections.values()):
            if now - conn.last_send >= 1.0:
                self.hub.deliver(conn, '{"event":"heartbeat"}')
                conn.flush()

    # -- REST -------------------------------------------------------------------------------------
    def _pair_by_rest_name(self, name: str) -> str | None:
        for p in self.symbols:
            if name in (p.replace("/", ""), _rest_id(p)):
                return p
        return None

    async def time_handler(self, request: web.Request) -> web.Response:
        """`GET /0/public/Time`."""
        now = time.time()
        return web.json_response({"error": [], "result": {"unixtime": int(now), "rfc1123": time.strftime(
            "%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}})

    async def assets_handler(self, request: web.Request) -> web.Response:
        """`GET /0/public/Assets`: the currencies of the served pairs."""
        result: dict[str, Any] = {}
        for p in self.symbols:
            inst = self.instrument(p)
            for code in p.split("/"):
                result[_asset_id(code)] = {"aclass": "currency", "altname": code, "decimals": inst.size_decimals,
                                           "display_decimals": 5, "status": "enabled"}
        return web.json_response({"error": [], "result": result})

    async def asset_pairs_handler(self, request: web.Request) -> web.Response:
        """`GET /0/public/AssetPairs`: served pairs with tick (pair_decimals) and lot (lot_decimals)."""
        result: dict[str, Any] = {}
        for p in sorted(self.symbols):
            inst = self.instrument(p)
            src = self.hub.source_instruments.get(p, inst)
            base, quote = p.split("/")
            tick_dec = _decimals_of(src.tick_size, src.price_decimals)
            lot_dec = _decimals_of(src.lot_size, src.size_decimals)
            result[_rest_id(p)] = {
                "altname": p.replace("/", ""), "wsname": p, "aclass_base": "currency", "base": _asset_id(base),
                "aclass_quote": "currency", "quote": _asset_id(quote), "lot": "unit", "cost_decimals": 5,
                "pair_decimals": tick_dec, "lot_decimals": lot_dec, "lot_multiplier": 1, "leverage_buy": [],
                "leverage_sell": [], "fees": [[0, inst.taker_fee * 100]], "fees_maker": [[0, inst.maker_fee * 100]],
                "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
                "ordermin": format_fixed(src.lot_size, src.size_decimals), "costmin": "0.5",
                "tick_size": format_fixed(src.tick_size, src.price_decimals), "status": "online",
            }
        return web.json_response({"error": [], "result": result})

    async def depth_handler(self, request: web.Request) -> web.Response:
        """`GET /0/public/Depth?pair=&count=`: the true book's top levels."""
        pair = self._pair_by_rest_name(request.query.get("pair", ""))
        sb = self.hub.books.get(pair) if pair is not None else None
        if pair is None or sb is None or not sb.trusted:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        count = int(request.query.get("count", "100"))
        inst = self.instrument(pair)
        bids, asks = sb.book.depth(max(1, min(count, 500)))
        ts = (self.last_ns.get(pair) or time.time_ns()) // 1_000_000_000
        body = {"asks": [[format_fixed(p, inst.price_decimals), format_fixed(q, inst.size_decimals), ts] for p, q in asks],
                "bids": [[format_fixed(p, inst.price_decimals), format_fixed(q, inst.size_decimals), ts] for p, q in bids]}
        return web.Response(body=orjson.dumps({"error": [], "result": {_rest_id(pair): body}}),
                            content_type="application/json")


_ASSET_IDS = {"XBT": "XXBT", "ETH": "XETH", "USD": "ZUSD", "EUR": "ZEUR", "GBP": "ZGBP", "CHF": "CHF", "XMR": "XXMR"}


def _decimals_of(units: int, decimals: int) -> int:
    """Decimal places of `units` x 10**-decimals (a tick of 100 at 4 decimals is 0.01: 2 places)."""
    zeros = len(str(units)) - len(str(units).rstrip("0"))
    return max(decimals - zeros, 0)


def _asset_id(code: str) -> str:
    return _ASSET_IDS.get(code, code)


def _rest_id(pair: str) -> str:
    base, quote = pair.split("/")
    return _asset_id(base) + _asset_id(quote)
