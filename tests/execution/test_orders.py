"""The order state machine, unique ids, and every transition published on the bus."""

from __future__ import annotations

import pytest

from kimera.engine.bus import MessageBus
from kimera.execution import (
    ClientIdGenerator,
    Fill,
    IllegalTransition,
    Order,
    OrderError,
    OrderEvent,
    OrderKind,
    OrderManager,
    OrderStatus,
)
from kimera.journal.sqlite import NullJournal
from kimera.model import Instrument, Side

INST = Instrument("SIM", "BTCUSDT", 2, 5)


def _om() -> tuple[OrderManager, list[object]]:
    bus = MessageBus()
    seen: list[object] = []
    bus.subscribe(OrderEvent, seen.append)
    bus.subscribe(Fill, seen.append)
    return OrderManager(bus, NullJournal()), seen


def test_lifecycle_publishes_every_transition() -> None:
    om, seen = _om()
    o = om.create(INST, Side.BUY, OrderKind.LIMIT, 300, 6_000_000, 1)
    om.accept(o.client_id, 2)
    om.fill(o.client_id, 6_000_000, 100, 0.01, "maker", 3)
    om.fill(o.client_id, 6_000_000, 200, 0.02, "maker", 4)
    statuses = [e.status for e in seen if isinstance(e, OrderEvent)]
    assert statuses == [OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert [e.size for e in seen if isinstance(e, Fill)] == [100, 200]
    assert o.status is OrderStatus.FILLED and o.leaves == 0 and o.client_id not in om.open
    assert o.avg_price() == pytest.approx(60_000.0)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], OrderStatus.FILLED),  # new -> filled
        ([], OrderStatus.CANCELLED),  # new -> cancelled
        ([OrderStatus.REJECTED], OrderStatus.ACCEPTED),
        ([OrderStatus.ACCEPTED, OrderStatus.CANCELLED], OrderStatus.FILLED),
        ([OrderStatus.ACCEPTED, OrderStatus.EXPIRED], OrderStatus.CANCELLED),
        ([OrderStatus.ACCEPTED], OrderStatus.NEW),
        ([OrderStatus.ACCEPTED], OrderStatus.ACCEPTED),
    ],
)
def test_illegal_transitions_refused(path: list[OrderStatus], bad: OrderStatus) -> None:
    o = Order("x-1", INST, Side.SELL, OrderKind.LIMIT, 10, 100, 0)
    for s in path:
        o.transition(s, 0)
    before = o.status
    with pytest.raises(IllegalTransition):
        o.transition(bad, 0)
    assert o.status is before


def test_fill_after_terminal_refused_and_overfill_refused() -> None:
    om, _ = _om()
    o = om.create(INST, Side.BUY, OrderKind.IOC, 10, 100, 0)
    om.accept(o.client_id, 0)
    with pytest.raises(OrderError):
        om.fill(o.client_id, 100, 11, 0.0, "taker", 0)
    om.expire(o.client_id, 1, "ioc")
    with pytest.raises(IllegalTransition):
        om.fill(o.client_id, 100, 1, 0.0, "taker", 2)


def test_client_ids_unique_and_duplicates_refused() -> None:
    g = ClientIdGenerator("t")
    ids = {g.next() for _ in range(1000)}
    assert len(ids) == 1000
    with pytest.raises(OrderError, match="duplicate"):
        g.claim("t-5")


@pytest.mark.parametrize(
    ("kind", "qty", "price"),
    [(OrderKind.MARKET, 10, 100), (OrderKind.LIMIT, 10, None), (OrderKind.LIMIT, 0, 100), (OrderKind.POST_ONLY, -1, 5),
     (OrderKind.IOC, 10, -5)],
)
def test_bad_orders_rejected_with_clear_error(kind: OrderKind, qty: int, price: int | None) -> None:
    with pytest.raises(OrderError):
        Order("x-1", INST, Side.BUY, kind, qty, price, 0)
