"""Turning a strategy's `OrderIntent` into an order kind, and the risk gate intents pass before becoming orders."""

from __future__ import annotations

from typing import Protocol

from kimera.execution.orders import OrderKind
from kimera.strategy.intent import OrderIntent, OrderType, TimeInForce


def order_kind(intent: OrderIntent) -> OrderKind:
    """Market -> MARKET; limit + GTC/IOC/FOK/POST_ONLY -> LIMIT/IOC/FOK/POST_ONLY."""
    if intent.order_type is OrderType.MARKET:
        return OrderKind.MARKET
    return {
        TimeInForce.GTC: OrderKind.LIMIT,
        TimeInForce.IOC: OrderKind.IOC,
        TimeInForce.FOK: OrderKind.FOK,
        TimeInForce.POST_ONLY: OrderKind.POST_ONLY,
    }[intent.time_in_force]


class RiskGate(Protocol):
    """Pre-trade check: None lets the intent through, a string is the rejection reason."""

    def check(self, intent: OrderIntent, now_ns: int) -> str | None: ...


class PositionLimitGate:
    """Hard limits without the full risk engine: per-order size and absolute position per instrument."""

    def __init__(self, position_of: object, max_order_qty: int, max_position_qty: int) -> None:
        if max_order_qty <= 0 or max_position_qty <= 0:
            raise ValueError("limits must be positive fixed-point sizes")
        self.position_of = position_of
        self.max_order_qty = max_order_qty
        self.max_position_qty = max_position_qty

    def check(self, intent: OrderIntent, now_ns: int) -> str | None:
        """Reject orders larger than the order limit or taking the position past its limit."""
        if intent.quantity > self.max_order_qty:
            return f"max_order_qty: {intent.quantity} > {self.max_order_qty}"
        pos: int = self.position_of(intent.instrument)  # type: ignore[operator]
        after = pos + intent.quantity * int(intent.side)
        if abs(after) > self.max_position_qty and abs(after) > abs(pos):
            return f"max_position: {after} beyond +/-{self.max_position_qty}"
        return None
