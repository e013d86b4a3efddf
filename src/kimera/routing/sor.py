"""Greedy cost-optimal routing of a taker order across venues, net of fees.

Each venue level has an effective price: p x (1 + taker fee) when buying, p x (1 - taker fee) when selling.
Effective prices along one venue's side are monotone, so taking the cheapest effective unit first across all
venues (a k-way merge) minimises total cost including fees for a marketable order of a given size: the
cost function is a sum of convex piecewise-linear per-venue costs, and greedy on marginal cost is optimal.
Each child gets a limit price at the worst level it needs on its venue, so it cannot walk further.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from kimera.book import OrderBook
from kimera.model import Side


class RoutingError(ValueError):
    """A routing request that cannot be served: no venues, non-positive size, duplicate venue."""


@dataclass(frozen=True)
class VenueBook:
    """One venue's book of the instrument and the taker fee paid there."""

    name: str
    book: OrderBook
    taker_fee: float


@dataclass
class ChildOrder:
    """The part of the parent order sent to one venue (size fixed-point at that venue's scale)."""

    venue: str
    instrument_key: str
    size: int
    limit_price: int
    notional: float
    fees: float

    @property
    def cost(self) -> float:
        """Notional plus fees (buy) or minus fees (sell) — the signed money of this child."""
        return self.notional + self.fees


@dataclass
class RoutePlan:
    """Children (largest first), what fills in total, and the all-in cost vs the best single venue."""

    side: Side
    requested: float
    filled: float
    notional: float
    fees: float
    children: list[ChildOrder] = field(default_factory=list)
    best_single_venue: str | None = None
    best_single_cost: float | None = None

    @property
    def net_cost(self) -> float:
        """Money paid (buy: notional + fees) or received (sell: notional - fees)."""
        return self.notional + self.fees if self.side is Side.BUY else self.notional - self.fees

    @property
    def saving(self) -> float | None:
        """How much better than the best single venue that could fill it all (None if none could)."""
        if self.best_single_cost is None:
            return None
        d = self.best_single_cost - self.net_cost
        return d if self.side is Side.BUY else -d


def _levels(v: VenueBook, buy: bool) -> Iterator[tuple[float, int, int, str]]:
    inst = v.book.instrument
    k = (1 + v.taker_fee) if buy else (1 - v.taker_fee)
    ps = inst.price_scale
    for i, (p, _q) in enumerate((v.book.asks if buy else v.book.bids).iter_best()):
        eff = p / ps * k
        yield (eff if buy else -eff), i, p, v.name


def _single(v: VenueBook, buy: bool, size: float) -> float | None:
    inst = v.book.instrument
    want = int(size * inst.size_scale) // inst.lot_size * inst.lot_size
    notional, filled = v.book.cost_to_fill(buy, want)
    if filled < want:
        return None
    money = notional / (inst.price_scale * inst.size_scale)
    return money * (1 + v.taker_fee) if buy else money * (1 - v.taker_fee)


def route(venues: Sequence[VenueBook], side: Side, size: float) -> RoutePlan:
    """Split `size` (base units) across `venues` at the least total cost net of fees."""
    if not venues:
        raise RoutingError("no venues to route to")
    if not size > 0:
        raise RoutingError(f"size must be positive, got {size!r}")
    names = [v.name for v in venues]
    if len(set(names)) != len(names):
        raise RoutingError(f"duplicate venues: {names}")
    buy = side is Side.BUY
    by_name = {v.name: v for v in venues}
    taken: dict[str, list[int]] = {}  # venue -> [size, notional(fixed), worst price]
    left = size
    for _, _, p, name in heapq.merge(*(_levels(v, buy) for v in venues)):
        if left <= 0:
            break
        v = by_name[name]
        inst = v.book.instrument
        q = (v.book.asks if buy else v.book.bids).size_at(p)
        want = round(left * inst.size_scale) // inst.lot_size * inst.lot_size
        take = min(q, want)
        if take <= 0:
            break
        t = taken.setdefault(name, [0, 0, p])
        t[0] += take
        t[1] += take * p
        t[2] = p
        left -= take / inst.size_scale
    plan = RoutePlan(side, size, 0.0, 0.0, 0.0)
    for name, (sz, notional_fx, worst) in taken.items():
        v = by_name[name]
        inst = v.book.instrument
        notional = notional_fx / (inst.price_scale * inst.size_scale)
        fees = notional * v.taker_fee
        plan.children.append(ChildOrder(name, inst.key, sz, worst, notional, fees))
        plan.filled += sz / inst.size_scale
        plan.notional += notional
        plan.fees += fees
    plan.children.sort(key=lambda c: -c.notional)
    singles = [(c, v.name) for v in venues if (c := _single(v, buy, size)) is not None]
    if singles:
        best = min(singles) if buy else max(singles)
        plan.best_single_cost, plan.best_single_venue = best
    return plan


def route_consolidated(cb: object, side: Side, size: float) -> RoutePlan:
    """Route over the healthy venues of an `aggregator.ConsolidatedBook` (their books and taker fees)."""
    healthy = getattr(cb, "healthy", None)
    if healthy is None:
        raise RoutingError(f"expected a ConsolidatedBook, got {type(cb).__name__}")
    ok, _ = healthy()
    return route([VenueBook(v.name, v.book, v.taker_fee) for v in ok], side, size)
