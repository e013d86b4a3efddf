"""The order manager: creates orders with unique ids and applies venue reports through the state machine.

Order of operations for every change: check it is legal, write it to the journal, then apply it and publish
the `OrderEvent` / `Fill` on the bus. A crash therefore never leaves an applied change that is not journaled.
"""

from __future__ import annotations

from typing import Protocol

from kimera.engine.bus import MessageBus
from kimera.execution.orders import (
    TRANSITIONS,
    ClientIdGenerator,
    Fill,
    IllegalTransition,
    Order,
    OrderError,
    OrderKind,
    OrderStatus,
)
from kimera.model import Instrument, Side


class JournalSink(Protocol):
    """What the manager needs of a journal (`kimera.journal.Journal` or its null twin)."""

    def write(self, kind: str, ts_ns: int, body: dict) -> int: ...  # type: ignore[type-arg]


class OrderManager:
    """All orders of a run by client id; the only place order state changes."""

    def __init__(self, bus: MessageBus, journal: JournalSink, ids: ClientIdGenerator | None = None) -> None:
        self.bus = bus
        self.journal = journal
        self.ids = ids or ClientIdGenerator()
        self.orders: dict[str, Order] = {}
        self.open: dict[str, Order] = {}
        self.fills = 0
        self.fill_seq = 0

    def get(self, cid: str) -> Order:
        """The order with this client id (a clear error if unknown)."""
        try:
            return self.orders[cid]
        except KeyError:
            raise OrderError(f"unknown client order id {cid!r}") from None

    def create(self, instrument: Instrument, side: Side, kind: OrderKind, quantity: int, price: int | None,
               ts_ns: int, strategy_id: str = "") -> Order:
        """A NEW order with a fresh client id, journaled before it exists anywhere else."""
        cid = self.ids.next()
        order = Order(cid, instrument, side, kind, quantity, price, ts_ns, strategy_id)
        self.journal.write("order", ts_ns, {
            "cid": cid, "inst": instrument.key, "side": int(side), "kind": kind.value, "qty": quantity,
            "price": price, "strategy": strategy_id})
        self.orders[cid] = order
        self.open[cid] = order
        return order

    def _change(self, order: Order, status: OrderStatus, ts_ns: int, reason: str) -> None:
        if status not in TRANSITIONS[order.status]:
            raise IllegalTransition(f"{order.client_id}: {order.status.value} -> {status.value} is not allowed")
        self.journal.write("transition", ts_ns, {
            "cid": order.client_id, "prev": order.status.value, "status": status.value, "filled": order.filled,
            "reason": reason})
        ev = order.transition(status, ts_ns, reason)
        if status.terminal:
            self.open.pop(order.client_id, None)
        self.bus.publish(ev)

    def accept(self, cid: str, ts_ns: int) -> None:
        """The venue acknowledged the order."""
        self._change(self.get(cid), OrderStatus.ACCEPTED, ts_ns, "")

    def reject(self, cid: str, ts_ns: int, reason: str) -> None:
        """The venue (or risk) refused the order."""
        self._change(self.get(cid), OrderStatus.REJECTED, ts_ns, reason)

    def cancel(self, cid: str, ts_ns: int, reason: str = "cancelled") -> None:
        """The order was cancelled (on request)."""
        self._change(self.get(cid), OrderStatus.CANCELLED, ts_ns, reason)

    def expire(self, cid: str, ts_ns: int, reason: str) -> None:
        """IOC/market remainder or FOK that could not fill."""
        self._change(self.get(cid), OrderStatus.EXPIRED, ts_ns, reason)

    def fill(self, cid: str, price: int, size: int, fee: float, liquidity: str, ts_ns: int) -> Fill:
        """Book an execution: journal the fill, update the order, publish the fill then the transition."""
        order = self.get(cid)
        if order.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            raise IllegalTransition(f"{cid}: fill while {order.status.value}")
        if size <= 0 or size > order.leaves:
            raise OrderError(f"{cid}: fill of {size} with {order.leaves} open")
        self.fill_seq += 1
        inst = order.instrument
        fill = Fill(self.fill_seq, cid, inst.venue, inst.symbol, order.side, price, size, fee, liquidity, ts_ns)
        self.journal.write("fill", ts_ns, {
            "fill_id": fill.fill_id, "cid": cid, "inst": inst.key, "side": int(order.side), "price": price,
            "size": size, "fee": fee, "liq": liquidity})
        status = OrderStatus.FILLED if size == order.leaves else OrderStatus.PARTIALLY_FILLED
        self.journal.write("transition", ts_ns, {
            "cid": cid, "prev": order.status.value, "status": status.value, "filled": order.filled + size,
            "reason": ""})
        ev = order.add_fill(price, size, fee, ts_ns)
        if ev.status.terminal:
            self.open.pop(cid, None)
        self.fills += 1
        self.bus.publish(fill)
        self.bus.publish(ev)
        return fill
