"""Binance-style signed REST order endpoints for the exchange emulator (issue 4), matched by our simulated venue.

`OrderDesk(book_for, api_key, api_secret, balances).attach(emulator.app)` adds, before the emulator starts:
`POST /api/v3/order`, `DELETE /api/v3/order`, `GET /api/v3/openOrders`, `GET /api/v3/account`. Requests are
authenticated like Binance's (the `X-MBX-APIKEY` header and an HMAC-SHA256 `signature` of the query string
or form body, as ccxt sends them). Orders match immediately against the emulator's true book through
`SimulatedVenue` (book walk, taker/maker fees, post-only); resting orders stay open until cancelled (this
desk does not follow the feed's trades, so they do not fill later).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from kimera.book import OrderBook, SyncedBook
from kimera.engine.books import BookUpdate
from kimera.engine.bus import MessageBus
from kimera.execution.manager import OrderManager
from kimera.execution.orders import ClientIdGenerator, Fill, Order, OrderError, OrderKind, OrderStatus
from kimera.execution.venue import SimulatedVenue
from kimera.journal.sqlite import NullJournal
from kimera.model import Event, FixedPointError, Side, Trade

_STATUS = {
    OrderStatus.NEW: "NEW", OrderStatus.ACCEPTED: "NEW", OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED", OrderStatus.CANCELLED: "CANCELED", OrderStatus.REJECTED: "REJECTED",
    OrderStatus.EXPIRED: "EXPIRED",
}


def _err(code: int, msg: str, status: int = 400) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


class OrderDesk:
    """Accounts, orders and balances of one emulated venue, behind Binance's signed REST API."""

    def __init__(self, book_for: Callable[[str], OrderBook | None], api_key: str, api_secret: str,
                 balances: dict[str, float] | None = None) -> None:
        if not api_key or not api_secret:
            raise ValueError("the order desk needs an API key and secret to authenticate clients")
        self.book_for = book_for
        self.api_key = api_key
        self._secret = api_secret.encode()
        self.balances: dict[str, float] = dict(balances or {"USDT": 100_000.0, "BTC": 1.0})
        self.bus = MessageBus()
        self.om = OrderManager(self.bus, NullJournal(), ClientIdGenerator("emu"))
        self.venue = SimulatedVenue(self.om, self._book_by_key)
        self.by_id: dict[int, Order] = {}
        self.client_ids: dict[str, int] = {}
        self.fills: dict[str, list[Fill]] = {}
        self._next_id = 1
        self.bus.subscribe(Fill, self._on_fill)

    def _book_by_key(self, key: str) -> OrderBook | None:
        return self.book_for(key.split(":", 1)[1])

    def follow(self, emulator: Any) -> None:
        """Keep resting orders working, as a matching engine does: the desk's simulated venue sees the
        emulator's book updates and trades (queue position at the price, fills later, maker fee)."""
        emulator.listeners.append(self._on_market)

    def _on_market(self, ev: Event, sb: SyncedBook | None) -> None:
        now = time.time_ns()
        self.venue.advance(now)
        if isinstance(ev, Trade):
            if sb is not None and ev.venue != sb.book.instrument.venue:  # the source's venue: ours on the wire
                ev = msgspec.structs.replace(ev, venue=sb.book.instrument.venue)
            self.venue.on_trade(ev)
        elif sb is not None and sb.trusted:
            self.venue.on_book(BookUpdate(sb.book, now, sb.book.last_update_id))

    def attach(self, app: web.Application, prefix: str = "/api/v3") -> None:
        """Add the order endpoints to an (unstarted) aiohttp application."""
        r = app.router
        r.add_post(f"{prefix}/order", self.post_order)
        r.add_delete(f"{prefix}/order", self.delete_order)
        r.add_get(f"{prefix}/order", self.get_order)
        r.add_get(f"{prefix}/openOrders", self.open_orders)
        r.add_get(f"{prefix}/account", self.account)

    # -- auth ------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, str] | web.Response:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return _err(-2014, "API-key format invalid.", 401)
        raw = (await request.text()) if request.method == "POST" else request.query_string
        payload, sep, sig = raw.rpartition("&signature=")
        if not sep:
            return _err(-1102, "Mandatory parameter 'signature' was not sent.")
        want = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            return _err(-1022, "Signature for this request is not valid.", 401)
        return dict(parse_qsl(payload, keep_blank_values=True))

    # -- balances ----------------------------------------------------------------------------------
    def _on_fill(self, f: Fill) -> None:
        order = self.om.get(f.client_id)
        inst = order.instrument
        base, quote = _assets(inst.symbol)
        qty, px = inst.qty(f.size), inst.px(f.price)
        s = int(f.side)
        self.balances[base] = self.balances.get(base, 0.0) + s * qty
        self.balances[quote] = self.balances.get(quote, 0.0) - s * qty * px - f.fee
        self.fills.setdefault(f.client_id, []).append(f)

    # -- endpoints -----------------------------------------------------------------------------------
    async def post_order(self, request: web.Request) -> web.Response:
        """`POST order`: MARKET, LIMIT (GTC/IOC/FOK) and LIMIT_MAKER."""
        p = await self._params(request)
        if isinstance(p, web.Response):
            return p
        sym = p.get("symbol", "").upper()
        book = self.book_for(sym)
        if book is None:
            return _err(-1121, "Invalid symbol.")
        inst = book.instrument
        try:
            side = {"BUY": Side.BUY, "SELL": Side.SELL}[p.get("side", "").upper()]
            typ = p.get("type", "").upper()
            tif = p.get("timeInForce", "GTC").upper()
            kind = {"MARKET": OrderKind.MARKET, "LIMIT_MAKER": OrderKind.POST_ONLY}.get(typ) or (
                {"GTC": OrderKind.LIMIT, "IOC": OrderKind.IOC, "FOK": OrderKind.FOK}[tif] if typ == "LIMIT" else None)
            if kind is None:
                return _err(-1116, f"Invalid orderType {typ!r}.")
            qty = inst.size(p["quantity"])
            price = inst.price(p["price"]) if kind is not OrderKind.MARKET else None
            now = time.time_ns()
            order = self.om.create(inst, side, kind, qty, price, now)
        except (KeyError, FixedPointError, OrderError) as exc:
            return _err(-1102, f"bad order parameters: {exc}")
        oid = self._next_id
        self._next_id += 1
        self.by_id[oid] = order
        cid = p.get("newClientOrderId") or order.client_id
        self.client_ids[cid] = oid
        self.venue.submit(order, now)
        self.venue.advance(now)
        if order.status is OrderStatus.REJECTED:
            return _err(-2010, "Order would immediately match and take.")
        return web.json_response(self._body(oid, cid, order, with_fills=True))

    def _find(self, p: dict[str, str]) -> tuple[int, str] | None:
        if "orderId" in p and p["orderId"].isdigit() and int(p["orderId"]) in self.by_id:
            oid = int(p["orderId"])
            cid = next((c for c, o in self.client_ids.items() if o == oid), self.by_id[oid].client_id)
            return oid, cid
        cid = p.get("origClientOrderId", "")
        if cid in self.client_ids:
            return self.client_ids[cid], cid
        return None

    async def delete_order(self, request: web.Request) -> web.Response:
        """`DELETE order` by orderId or origClientOrderId."""
        p = await self._params(request)
        if isinstance(p, web.Response):
            return p
        found = self._find(p)
        if found is None:
            return _err(-2011, "Unknown order sent.")
        oid, cid = found
        order = self.by_id[oid]
        if order.status.terminal:
            return _err(-2011, "Unknown order sent.")
        now = time.time_ns()
        self.venue.cancel(order.client_id, now)
        self.venue.advance(now)
        return web.json_response(self._body(oid, cid, order))

    async def get_order(self, request: web.Request) -> web.Response:
        """`GET order` by orderId or origClientOrderId: its state now (with its executions)."""
        p = await self._params(request)
        if isinstance(p, web.Response):
            return p
        found = self._find(p)
        if found is None:
            return _err(-2013, "Order does not exist.")
        oid, cid = found
        return web.json_response(self._body(oid, cid, self.by_id[oid], with_fills=True))

    async def open_orders(self, request: web.Request) -> web.Response:
        """`GET openOrders` (optionally for one symbol)."""
        p = await self._params(request)
        if isinstance(p, web.Response):
            return p
        sym = p.get("symbol", "").upper()
        rev = {o: c for c, o in self.client_ids.items()}
        out = [self._body(oid, rev.get(oid, o.client_id), o) for oid, o in self.by_id.items()
               if not o.status.terminal and (not sym or o.instrument.symbol == sym)]
        return web.json_response(out)

    async def account(self, request: web.Request) -> web.Response:
        """`GET account`: balances (free; locked is not tracked)."""
        p = await self._params(request)
        if isinstance(p, web.Response):
            return p
        bals = [{"asset": a, "free": f"{v:.8f}", "locked": "0.00000000"} for a, v in sorted(self.balances.items())]
        return web.json_response({"makerCommission": 10, "takerCommission": 10, "canTrade": True,
                                  "canWithdraw": False, "canDeposit": False, "accountType": "SPOT",
                                  "updateTime": int(time.time() * 1000), "balances": bals, "permissions": ["SPOT"]})

    def _body(self, oid: int, cid: str, o: Order, with_fills: bool = False) -> dict[str, Any]:
        inst = o.instrument
        typ = {OrderKind.MARKET: "MARKET", OrderKind.POST_ONLY: "LIMIT_MAKER"}.get(o.kind, "LIMIT")
        tif = {OrderKind.IOC: "IOC", OrderKind.FOK: "FOK"}.get(o.kind, "GTC")
        body: dict[str, Any] = {
            "symbol": inst.symbol, "orderId": oid, "orderListId": -1, "clientOrderId": cid,
            "transactTime": o.created_ns // 1_000_000, "price": inst.price_str(o.price or 0),
            "origQty": inst.size_str(o.quantity), "executedQty": inst.size_str(o.filled),
            "cummulativeQuoteQty": f"{o.notional / (inst.price_scale * inst.size_scale):.8f}",
            "status": _STATUS[o.status], "timeInForce": tif, "type": typ,
            "side": "BUY" if o.side is Side.BUY else "SELL", "workingTime": o.created_ns // 1_000_000,
            "selfTradePreventionMode": "NONE",
        }
        if with_fills:
            _, quote = _assets(inst.symbol)
            body["fills"] = [{"price": inst.price_str(f.price), "qty": inst.size_str(f.size),
                              "commission": f"{f.fee:.8f}", "commissionAsset": quote, "tradeId": f.fill_id}
                             for f in self.fills.get(o.client_id, [])]
        return body


def _assets(symbol: str) -> tuple[str, str]:
    for q in ("USDT", "USDC", "FDUSD", "BUSD", "USD", "BTC", "ETH", "EUR"):
        if symbol.endswith(q) and len(symbol) > len(q):
            return symbol[: -len(q)], q
    raise ValueError(f"cannot split {symbol!r} into base and quote assets")
