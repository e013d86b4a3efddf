"""`CcxtVenue`: the pipeline's execution venue in live mode. Each order the pipeline submits goes to the
exchange through ccxt's async client; the exchange's answer (acknowledgement, executions with their fees,
the state of any remainder) becomes the order's transitions and fills in the `OrderManager`, which journals
each one before it is acted on. Nothing is simulated: the same strategies and risk gates as a backtest, with
the venue swapped (see `TradingPipeline(venue_factory=...)`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kimera.engine.books import BookUpdate
from kimera.execution.manager import OrderManager
from kimera.execution.orders import Order, OrderKind, OrderStatus
from kimera.model import Instrument, Side, Trade


def _fixed(value: float, decimals: int) -> str:
    """A float from ccxt as the instrument's decimal string (ccxt parses the venue's strings to floats)."""
    return f"{value:.{decimals}f}"


class CcxtVenue:
    """Sends orders to a ccxt async exchange and books its answers; `symbols` maps `VENUE:SYMBOL` to ccxt's
    unified symbol (e.g. `BINANCE:BTCUSDT` -> `BTC/USDT`). Must be used from a running event loop."""

    def __init__(self, manager: OrderManager, exchange: Any, symbols: dict[str, str]) -> None:
        self.om = manager
        self.ex = exchange
        self.symbols = symbols
        self._pending: list[Any] = []  # the pipeline's replay loop reads it: nothing is simulated in flight
        self._tasks: set[asyncio.Task[None]] = set()
        self.exchange_ids: dict[str, str] = {}  # client id -> the exchange's order id
        self.ack_latency_ns: list[int] = []  # submit -> the exchange's answer, wall clock
        self.errors: list[str] = []

    # -- what the pipeline calls --------------------------------------------------------------------
    def submit(self, order: Order, now_ns: int) -> int:
        """Send a NEW order (asynchronously); its transitions follow when the exchange answers."""
        if order.status is not OrderStatus.NEW:
            raise ValueError(f"{order.client_id}: only NEW orders can be submitted, not {order.status.value}")
        if order.instrument.key not in self.symbols:
            raise ValueError(f"{order.client_id}: no exchange symbol for {order.instrument.key}")
        task = asyncio.get_running_loop().create_task(self._send(order, time.time_ns()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return now_ns

    def advance(self, now_ns: int) -> None:
        """Nothing is in flight inside the process: the exchange matches."""

    def on_book(self, u: BookUpdate) -> None:
        """The exchange keeps its own queue positions."""

    def on_trade(self, t: Trade) -> None:
        """The exchange reports our executions itself."""

    async def drain(self) -> None:
        """Wait for every answer still outstanding."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_open(self) -> int:
        """Cancel every order still working at the exchange (end of a session); returns how many."""
        n = 0
        for cid, order in list(self.om.open.items()):
            oid = self.exchange_ids.get(cid)
            if oid is None or order.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
                continue
            try:
                await self.ex.cancel_order(oid, self.symbols[order.instrument.key])
            except Exception as exc:
                self.errors.append(f"{cid}: cancel failed: {type(exc).__name__}: {exc}")
                continue
            self.om.cancel(cid, time.time_ns(), "cancelled at the end of the session")
            n += 1
        return n

    # -- the exchange's answer ------------------------------------------------------------------------
    def _request(self, order: Order) -> tuple[str, str, float, float | None, dict[str, Any]]:
        inst = order.instrument
        side = "buy" if order.side is Side.BUY else "sell"
        amount = inst.qty(order.quantity)
        params: dict[str, Any] = {"clientOrderId": order.client_id}
        if order.kind is OrderKind.MARKET:
            return "market", side, amount, None, params
        if order.price is None:
            raise ValueError(f"{order.client_id}: a {order.kind.value} order needs a price")
        if order.kind is OrderKind.IOC:
            params["timeInForce"] = "IOC"
        elif order.kind is OrderKind.FOK:
            params["timeInForce"] = "FOK"
        elif order.kind is OrderKind.POST_ONLY:
            params["postOnly"] = True
        return "limit", side, amount, inst.px(order.price), params

    async def _send(self, order: Order, sent_ns: int) -> None:
        cid = order.client_id
        kind, side, amount, price, params = self._request(order)
        try:
            o = await self.ex.create_order(self.symbols[order.instrument.key], kind, side, amount, price, params)
        except Exception as exc:
            import ccxt

            if isinstance(exc, ccxt.NetworkError):
                why = f"network error, the exchange's state of the order is unknown: {exc}"
                self.errors.append(f"{cid}: {why}")
            else:
                why = f"{type(exc).__name__}: {exc}"
            self.om.reject(cid, time.time_ns(), why[:300])
            return
        now = time.time_ns()
        self.ack_latency_ns.append(now - sent_ns)
        self.exchange_ids[cid] = str(o.get("id"))
        self.om.accept(cid, now)
        self._book_fills(order, o, now)
        status = o.get("status")
        if order.status.terminal or status == "open":
            return  # filled, or still working at the exchange
        if status == "canceled":
            self.om.expire(cid, now, "the exchange cancelled the remainder (IOC / market)")
        elif status in ("expired", "rejected"):
            self.om.expire(cid, now, f"the exchange reports {status}")

    def _book_fills(self, order: Order, o: dict[str, Any], now: int) -> None:
        inst = order.instrument
        trades = o.get("trades") or []
        if not trades and (o.get("filled") or 0) > 0:  # a venue that reports only the total: one fill at average
            trades = [{"price": o.get("average") or o.get("price"), "amount": o["filled"], "fee": o.get("fee"),
                       "takerOrMaker": None}]
        for t in trades:
            size = min(inst.size(_fixed(float(t["amount"]), inst.size_decimals)), order.leaves)
            if size <= 0:
                continue
            px = inst.price(_fixed(float(t["price"]), inst.price_decimals))
            liq = t.get("takerOrMaker") or ("maker" if order.kind is OrderKind.POST_ONLY else "taker")
            self.om.fill(order.client_id, px, size, self._fee_quote(inst, t.get("fee"), px), str(liq), now)

    @staticmethod
    def _fee_quote(inst: Instrument, fee: Any, price: int) -> float:
        """The execution's fee in the quote currency (a fee charged in the base asset is valued at its price)."""
        if not fee or fee.get("cost") is None:
            return 0.0
        cost = float(fee["cost"])
        cur = str(fee.get("currency") or "")
        if cur and inst.symbol.startswith(cur) and not inst.symbol.endswith(cur):
            return cost * price / inst.price_scale
        return cost
