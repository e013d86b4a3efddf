"""Smart order routing across venues: least cost net of fees, checked against brute force over every split."""

from __future__ import annotations

import itertools

import pytest

from kimera.book import OrderBook
from kimera.model import BookSnapshot, Instrument, Side
from kimera.routing import RoutingError, VenueBook, route, route_consolidated


def _book(venue: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]], fee: float) -> VenueBook:
    inst = Instrument(venue, "BTCUSDT", 2, 3, taker_fee=fee)
    b = OrderBook(inst)
    b.apply_snapshot(BookSnapshot(venue, "BTCUSDT", 1, bids, asks, 0, 0))
    return VenueBook(venue, b, fee)


A = _book("A", [(9990, 2000), (9980, 5000)], [(10000, 1000), (10010, 2000), (10050, 5000)], 0.002)
B = _book("B", [(9995, 1000), (9970, 5000)], [(10005, 1500), (10020, 3000)], 0.0005)
C = _book("C", [(9985, 3000)], [(10002, 500), (10030, 4000)], 0.001)


def _cost(v: VenueBook, buy: bool, size: int) -> float | None:
    notional, filled = v.book.cost_to_fill(buy, size)
    if filled < size:
        return None
    m = notional / 10**5
    return m * (1 + v.taker_fee) if buy else m * (1 - v.taker_fee)


@pytest.mark.parametrize(("side", "size"), [(Side.BUY, 0.4), (Side.BUY, 2.7), (Side.BUY, 6.0), (Side.SELL, 0.9),
                                            (Side.SELL, 4.2)])
def test_route_matches_brute_force_optimum(side: Side, size: float) -> None:
    buy = side is Side.BUY
    plan = route([A, B, C], side, size)
    total = round(size * 1000)
    step = 100
    best = None
    for a, b in itertools.product(range(0, total + 1, step), repeat=2):
        c = total - a - b
        if c < 0:
            continue
        costs = [_cost(v, buy, s) if s else 0.0 for v, s in ((A, a), (B, b), (C, c))]
        if any(x is None for x in costs):
            continue
        tot = sum(x for x in costs if x is not None)
        if best is None or (tot < best if buy else tot > best):
            best = tot
    assert best is not None
    assert plan.filled == pytest.approx(size)
    # greedy on exact levels is at least as good as the best split on a 0.1 grid
    assert (plan.net_cost <= best + 1e-9) if buy else (plan.net_cost >= best - 1e-9)
    assert sum(c.size for c in plan.children) == total
    for ch in plan.children:  # each child's limit caps it at the levels it was planned on
        v = {"A": A, "B": B, "C": C}[ch.venue]
        _, filled = v.book.cost_to_fill(buy, ch.size)
        assert filled == ch.size
        assert _cost(v, buy, ch.size) == pytest.approx(ch.notional * (1 + v.taker_fee if buy else 1 - v.taker_fee))


def test_fees_change_the_route() -> None:
    # A is cheapest before fees (10000) but its 0.2% fee makes C (10002, 0.1%) and B (10005, 0.05%) better
    plan = route([A, B, C], Side.BUY, 0.5)
    assert [c.venue for c in plan.children] == ["B"]  # 10005 * 1.0005 < 10002 * 1.001 < 10000 * 1.002
    assert plan.saving == pytest.approx(0.0, abs=1e-9) and plan.best_single_venue == "B"
    split = route([A, B, C], Side.BUY, 2.7)
    assert len(split.children) >= 2 and split.saving is not None and split.saving > 0


def test_bad_requests() -> None:
    with pytest.raises(RoutingError):
        route([], Side.BUY, 1.0)
    with pytest.raises(RoutingError):
        route([A], Side.BUY, 0.0)
    with pytest.raises(RoutingError):
        route([A, A], Side.BUY, 1.0)
    with pytest.raises(RoutingError):
        route_consolidated(object(), Side.BUY, 1.0)


def test_route_over_a_consolidated_book() -> None:
    from kimera.aggregator.consolidated import ConsolidatedBook

    cb = ConsolidatedBook("BTCUSDT", 2, 3, stale_after_s=1e9)
    for v in (A, B, C):
        cb.add_venue(v.name, v.book, taker_fee=v.taker_fee)
    plan = route_consolidated(cb, Side.BUY, 2.7)
    assert plan.net_cost == pytest.approx(route([A, B, C], Side.BUY, 2.7).net_cost)
