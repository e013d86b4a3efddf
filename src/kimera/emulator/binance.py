"""Binance spot / USD-M dialect: `/ws`, `/ws/<streams>` and `/stream?streams=` websockets (with the
SUBSCRIBE/UNSUBSCRIBE methods), diff depth (`U`/`u`, `pu` on USD-M), trade and bookTicker streams, and
the REST endpoints ccxt needs: depth, exchangeInfo, ping, time.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from kimera.book import OrderBook
from kimera.emulator.hub import Connection, Hub
from kimera.emulator.protocol import VenueProtocol
from kimera.model import BookDelta, Instrument, Level, Quote, Trade
from kimera.model.fixed import format_fixed
from kimera.venues import binance

KINDS = {"depth": "depth", "depth@100ms": "depth", "depth@0ms": "depth", "depth@250ms": "depth", "depth@500ms": "depth",
         "trade": "trade", "aggTrade": "trade", "bookTicker": "bookTicker"}
MAX_DEPTH_LIMIT = 5000


def _strs(levels: list[Level], pd: int, sd: int) -> list[list[str]]:
    return [[format_fixed(p, pd), format_fixed(q, sd)] for p, q in levels]


class BinanceProtocol(VenueProtocol):
    """Binance spot (`market="spot"`) or USD-M futures (`market="usdm"`)."""

    def __init__(self, hub: Hub, symbols: list[str], market: str = "spot") -> None:
        super().__init__(hub)
        if market not in ("spot", "usdm"):
            raise ValueError(f"unknown Binance market {market!r}: expected 'spot' or 'usdm'")
        self.market = market
        self.venue = binance.VENUE if market == "spot" else binance.VENUE_USDM
        self.symbols = {s.upper() for s in symbols}
        self.rest_prefix = "/api/v3" if market == "spot" else "/fapi/v1"
        self.streams: dict[int, dict[tuple[str, str], str]] = {}  # conn id -> (kind, SYMBOL) -> stream name
        self.wrapped: set[int] = set()  # connections on /stream (payloads wrapped with the stream name)
        self.last_u: dict[str, int] = {}
        self._instruments: dict[str, Instrument] = {}

    def instrument(self, symbol: str) -> Instrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            inst = self._instruments[symbol] = binance.instrument(symbol, self.market)
        return inst

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/ws", self.ws_handler)
        r.add_get("/ws/{streams:.+}", self.ws_handler)
        r.add_get("/stream", self.ws_handler)
        p = self.rest_prefix
        r.add_get(f"{p}/depth", self.depth_handler)
        r.add_get(f"{p}/exchangeInfo", self.exchange_info_handler)
        r.add_get(f"{p}/ping", self.ping_handler)
        r.add_get(f"{p}/time", self.time_handler)

    # -- websocket --------------------------------------------------------------------------------
    def _parse_stream(self, name: str) -> tuple[str, str]:
        sym, _, rest = name.partition("@")
        kind = KINDS.get(rest)
        if kind is None or sym.upper() not in self.symbols:
            raise ValueError(f"unknown stream {name!r} (symbols {sorted(self.symbols)}, streams {sorted(KINDS)})")
        return kind, sym.upper()

    def _subscribe(self, conn: Connection, names: list[str]) -> None:
        subs = self.streams.setdefault(conn.id, {})
        for n in names:
            kind, sym = self._parse_stream(n)
            subs[(kind, sym)] = n
            if kind == "depth":
                self.subscribed.set()

    async def ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        """One client: streams from the path or query, then method calls until it leaves."""
        names = [n for n in request.match_info.get("streams", "").split("/") if n]
        if request.path == "/stream":
            names = [n for n in request.query.get("streams", "").split("/") if n]
        try:
            for n in names:
                self._parse_stream(n)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = self.hub.add(ws, request.transport)
        if request.path == "/stream":
            self.wrapped.add(conn.id)
        self._subscribe(conn, names)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._method(conn, msg.data)
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self.hub.remove(conn)
            self.streams.pop(conn.id, None)
            self.wrapped.discard(conn.id)
        return ws

    def _method(self, conn: Connection, text: str) -> None:
        try:
            req = orjson.loads(text)
            method, rid = req["method"], req.get("id")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.send(orjson.dumps({"error": {"code": 3, "msg": "Invalid JSON"}}).decode())
            conn.flush()
            return
        try:
            if method == "SUBSCRIBE":
                self._subscribe(conn, list(req.get("params", [])))
                reply: Any = None
            elif method == "UNSUBSCRIBE":
                subs = self.streams.get(conn.id, {})
                for n in req.get("params", []):
                    subs.pop(self._parse_stream(n), None)
                reply = None
            elif method == "LIST_SUBSCRIPTIONS":
                reply = sorted(self.streams.get(conn.id, {}).values())
            else:
                raise ValueError(f"unknown method {method!r}")
        except ValueError as exc:
            conn.send(orjson.dumps({"error": {"code": 2, "msg": str(exc)}, "id": rid}).decode())
            conn.flush()
            return
        conn.send(orjson.dumps({"result": reply, "id": rid}).decode())
        conn.flush()

    def _wanted(self, kind: str, symbol: str) -> bool:
        return any((kind, symbol) in subs for subs in self.streams.values())

    def _fan_out(self, kind: str, symbol: str, data: str, seq: int | None, update_id: int = -1) -> None:
        for conn in list(self.hub.connections.values()):
            name = self.streams.get(conn.id, {}).get((kind, symbol))
            if name is None:
                continue
            text = f'{{"stream":"{name}","data":{data}}}' if conn.id in self.wrapped else data
            self.hub.deliver(conn, text, seq, update_id)

    # -- publishing --------------------------------------------------------------------------------
    def publish_delta(self, d: BookDelta, before: object) -> None:
        self.publish_encoded(d, self._encode(d))

    def encode_delta(self, d: BookDelta) -> str | None:
        if self.market == "usdm" and d.prev_update_id < 0:
            return None  # `pu` is then the previous published `u`: known only at send time
        return self._encode(d)

    def publish_encoded(self, d: BookDelta, text: str) -> None:
        self.hub.published += 1
        self._fan_out("depth", d.symbol, text, self.hub.next_book_seq(), d.last_update_id)

    def _encode(self, d: BookDelta) -> str:
        inst = self.instrument(d.symbol)
        pd, sd = inst.price_decimals, inst.size_decimals
        e_ms = d.exchange_ns // 1_000_000
        msg: dict[str, Any] = {"e": "depthUpdate", "E": e_ms}
        if self.market == "usdm":
            msg["T"] = e_ms
        msg.update({"s": d.symbol, "U": d.first_update_id, "u": d.last_update_id})
        if self.market == "usdm":
            msg["pu"] = d.prev_update_id if d.prev_update_id >= 0 else self.last_u.get(d.symbol, d.first_update_id - 1)
        msg["b"] = _strs(d.bids, pd, sd)
        msg["a"] = _strs(d.asks, pd, sd)
        self.last_u[d.symbol] = d.last_update_id
        return orjson.dumps(msg).decode()

    def publish_trade(self, t: Trade) -> None:
        if not self._wanted("trade", t.symbol):
            return
        inst = self.instrument(t.symbol)
        ms = t.exchange_ns // 1_000_000
        msg = {"e": "trade", "E": ms, "s": t.symbol, "t": t.trade_id, "p": format_fixed(t.price, inst.price_decimals),
               "q": format_fixed(t.size, inst.size_decimals), "T": ms, "m": t.side < 0, "M": True}
        self.hub.published += 1
        self._fan_out("trade", t.symbol, orjson.dumps(msg).decode(), None)

    def publish_quote(self, q: Quote) -> None:
        if not self._wanted("bookTicker", q.symbol):
            return
        inst = self.instrument(q.symbol)
        pd, sd = inst.price_decimals, inst.size_decimals
        msg = {"u": q.update_id, "s": q.symbol, "b": format_fixed(q.bid_px, pd), "B": format_fixed(q.bid_qty, sd),
               "a": format_fixed(q.ask_px, pd), "A": format_fixed(q.ask_qty, sd)}
        self.hub.published += 1
        self._fan_out("bookTicker", q.symbol, orjson.dumps(msg).decode(), None)

    # -- REST -------------------------------------------------------------------------------------
    async def ping_handler(self, request: web.Request) -> web.Response:
        """`GET ping`."""
        return web.json_response({})

    async def time_handler(self, request: web.Request) -> web.Response:
        """`GET time`."""
        return web.json_response({"serverTime": int(time.time() * 1000)})

    def depth_body(self, book: OrderBook, limit: int) -> dict[str, Any]:
        """The `GET depth` body for a book: its top `limit` levels at the venue's decimals."""
        inst = book.instrument
        bids, asks = book.depth(limit)
        return {"lastUpdateId": book.last_update_id, "bids": _strs(bids, inst.price_decimals, inst.size_decimals),
                "asks": _strs(asks, inst.price_decimals, inst.size_decimals)}

    async def depth_handler(self, request: web.Request) -> web.Response:
        """`GET depth?symbol=&limit=`: the true book at the last published update id."""
        sym = request.query.get("symbol", "").upper()
        sb = self.hub.books.get(sym)
        if sym not in self.symbols or sb is None or not sb.trusted:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return web.json_response({"code": -1100, "msg": "Illegal characters found in parameter 'limit'."},
                                     status=400)
        if not 1 <= limit <= MAX_DEPTH_LIMIT:
            return web.json_response({"code": -1100, "msg": f"limit must be in 1..{MAX_DEPTH_LIMIT}"}, status=400)
        return web.Response(body=orjson.dumps(self.depth_body(sb.book, limit)), content_type="application/json")

    async def exchange_info_handler(self, request: web.Request) -> web.Response:
        """`GET exchangeInfo`: the served symbols with their tick and lot sizes (PRICE_FILTER, LOT_SIZE)."""
        syms = []
        for sym in sorted(self.symbols):
            inst = self.instrument(sym)
            src = self.hub.source_instruments.get(sym, inst)
            pd, sd = inst.price_decimals, inst.size_decimals
            tick = src.tick_size * 10 ** (pd - src.price_decimals)
            lot = src.lot_size * 10 ** (sd - src.size_decimals)
            base, quote = _split(sym)
            syms.append({
                "symbol": sym, "status": "TRADING", "baseAsset": base, "quoteAsset": quote,
                "baseAssetPrecision": sd, "quotePrecision": pd, "quoteAssetPrecision": pd,
                "pricePrecision": pd, "quantityPrecision": sd, "contractType": "PERPETUAL" if self.market == "usdm" else None,
                "marginAsset": quote if self.market == "usdm" else None,
                "orderTypes": ["LIMIT", "MARKET"], "isSpotTradingAllowed": self.market == "spot",
                "isMarginTradingAllowed": False, "permissions": [], "permissionSets": [["SPOT"]],
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": format_fixed(tick, pd), "maxPrice": "1000000.00000000",
                     "tickSize": format_fixed(tick, pd)},
                    {"filterType": "LOT_SIZE", "minQty": format_fixed(lot, sd), "maxQty": "9000.00000000",
                     "stepSize": format_fixed(lot, sd)},
                ],
            })
        body = {"timezone": "UTC", "serverTime": int(time.time() * 1000), "rateLimits": [], "exchangeFilters": [],
                "symbols": syms}
        return web.Response(body=orjson.dumps(body), content_type="application/json")


def _split(symbol: str) -> tuple[str, str]:
    for q in ("USDT", "USDC", "FDUSD", "BUSD", "BTC", "ETH", "EUR", "BNB", "TRY"):
        if symbol.endswith(q) and len(symbol) > len(q):
            return symbol[: -len(q)], q
    return symbol[:-3], symbol[-3:]
