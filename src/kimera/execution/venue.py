"""A simulated venue that matches orders against the replayed L2 book (see docs/execution.md).

- Orders reach the venue after the latency model's entry delay and are matched against the book *as it
  is then*; reports are stamped with the response delay added.
- Market, marketable limit, IOC and FOK orders walk the opposite side level by level (taker fee). The
  replayed book is not depleted by our fills (no market impact, as in hftbacktest).
- A resting limit order gets a queue position: the size already at its price when it arrives. Trades at
  its price consume that queue first; cancels move it per the `QueueModel`; only volume beyond the queue
  fills it (maker fee). A trade through its price, or the opposite best moving strictly through it (our
  level was swept), fills it entirely.
- Post-only orders that would take are rejected.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from kimera.book import OrderBook
from kimera.engine.books import BookUpdate
from kimera.execution.latency import ConstantLatency, LatencyModel
from kimera.execution.manager import OrderManager
from kimera.execution.orders import Order, OrderKind, OrderStatus
from kimera.execution.queue import QueueModel, RiskAverseQueue
from kimera.model import Side, Trade


@dataclass(frozen=True)
class FeeSchedule:
    """Maker and taker fee rates (fractions of notional) of one venue."""

    maker: float
    taker: float

    def __post_init__(self) -> None:
        if not (-0.01 <= self.maker <= 0.01 and 0 <= self.taker <= 0.01):
            raise ValueError(f"implausible fee schedule maker={self.maker} taker={self.taker}")


class _Resting:
    __slots__ = ("ahead", "initial_ahead", "order", "seen", "traded")

    def __init__(self, order: Order, ahead: int) -> None:
        self.order = order
        self.ahead = ahead
        self.initial_ahead = ahead
        self.seen = ahead  # level size (excluding us) last seen in the book
        self.traded = 0  # trade volume at our price not yet reflected by a depth update


class SimulatedVenue:
    """Matches a run's orders; `advance(now)` must be called before each market event is applied."""

    def __init__(self, manager: OrderManager, book_for: Callable[[str], OrderBook | None],
                 latency: LatencyModel | None = None, queue: QueueModel | None = None,
                 fees: dict[str, FeeSchedule] | None = None) -> None:
        self.om = manager
        self.book_for = book_for
        self.latency: LatencyModel = latency or ConstantLatency()
        self.queue: QueueModel = queue or RiskAverseQueue()
        self.fees = fees or {}
        self._pending: list[tuple[int, int, str, str]] = []  # (arrival_ns, seq, action, cid)
        self._seq = 0
        self.resting: dict[str, dict[str, _Resting]] = {}  # instrument key -> cid -> resting
        self.submitted_ns: dict[str, int] = {}
        self.ack_latency_ns: list[int] = []
        self.cancel_too_late = 0
        self.queue_at_fill: list[tuple[str, int, int]] = []  # (cid, initial ahead, ahead when filled)

    # -- client side ----------------------------------------------------------------------------
    def submit(self, order: Order, now_ns: int) -> int:
        """Send a NEW order; returns its arrival time at the venue."""
        if order.status is not OrderStatus.NEW:
            raise ValueError(f"{order.client_id}: only NEW orders can be submitted, not {order.status.value}")
        t = now_ns + self.latency.entry_ns(now_ns)
        self.submitted_ns[order.client_id] = now_ns
        self._seq += 1
        heapq.heappush(self._pending, (t, self._seq, "new", order.client_id))
        return t

    def cancel(self, cid: str, now_ns: int) -> int:
        """Request a cancel; returns its arrival time (it may arrive after the order has filled)."""
        self.om.get(cid)
        t = now_ns + self.latency.entry_ns(now_ns)
        self._seq += 1
        heapq.heappush(self._pending, (t, self._seq, "cancel", cid))
        return t

    @property
    def next_due_ns(self) -> int | None:
        """Arrival time of the next in-flight request, None if none."""
        return self._pending[0][0] if self._pending else None

    def fee_rate(self, venue: str, maker: bool, default_maker: float, default_taker: float) -> float:
        """The venue's fee rate (the instrument's own when the venue has no schedule here)."""
        fs = self.fees.get(venue)
        if fs is None:
            return default_maker if maker else default_taker
        return fs.maker if maker else fs.taker

    # -- venue side -----------------------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        """Process every request that has arrived by `now_ns`, against the current books."""
        pending = self._pending
        while pending and pending[0][0] <= now_ns:
            t, _, action, cid = heapq.heappop(pending)
            if action == "new":
                self._on_new(self.om.get(cid), t)
            else:
                self._on_cancel(cid, t)

    def _report_ns(self, venue_ns: int) -> int:
        return venue_ns + self.latency.response_ns(venue_ns)

    def _fee(self, order: Order, price: int, size: int, maker: bool) -> float:
        inst = order.instrument
        rate = self.fee_rate(inst.venue, maker, inst.maker_fee, inst.taker_fee)
        return price * size / (inst.price_scale * inst.size_scale) * rate

    def _on_new(self, order: Order, t: int) -> None:
        ts = self._report_ns(t)
        book = self.book_for(order.instrument.key)
        if book is None:
            self.om.reject(order.client_id, ts, "no trusted book at the venue")
            return
        buy = order.side is Side.BUY
        opp = book.asks if buy else book.bids
        limit = order.price
        kind = order.kind
        if kind is OrderKind.POST_ONLY:
            best = opp.best()
            if best is not None and (best[0] <= limit if buy else best[0] >= limit):  # type: ignore[operator]
                self.om.reject(order.client_id, ts, "post-only order would take liquidity")
                return
        self.om.accept(order.client_id, ts)
        self.ack_latency_ns.append(ts - self.submitted_ns.get(order.client_id, t))
        if kind is OrderKind.FOK:
            _, fillable = self._walk_size(book, order)
            if fillable < order.quantity:
                self.om.expire(order.client_id, ts, f"FOK: only {fillable} of {order.quantity} available")
                return
        if kind is not OrderKind.POST_ONLY:
            self._take(book, order, ts)
        if order.status.terminal:
            return
        if kind in (OrderKind.MARKET, OrderKind.IOC, OrderKind.FOK):
            self.om.expire(order.client_id, ts, "unfilled remainder of an immediate order")
            return
        own = book.bids if buy else book.asks
        assert limit is not None
        self.resting.setdefault(order.instrument.key, {})[order.client_id] = _Resting(order, own.size_at(limit))

    def _walk_size(self, book: OrderBook, order: Order) -> tuple[int, int]:
        buy = order.side is Side.BUY
        limit = order.price
        left = order.leaves
        notional = 0
        for p, q in (book.asks if buy else book.bids).iter_best():
            if limit is not None and (p > limit if buy else p < limit):
                break
            take = q if q < left else left
            notional += p * take
            left -= take
            if not left:
                break
        return notional, order.leaves - left

    def _take(self, book: OrderBook, order: Order, ts: int) -> None:
        buy = order.side is Side.BUY
        limit = order.price
        for p, q in (book.asks if buy else book.bids).iter_best():  # fills never change the book
            if limit is not None and (p > limit if buy else p < limit):
                break
            take = min(q, order.leaves)
            self.om.fill(order.client_id, p, take, self._fee(order, p, take, False), "taker", ts)
            if not order.leaves:
                break

    def _on_cancel(self, cid: str, t: int) -> None:
        order = self.om.get(cid)
        if order.status.terminal or order.status is OrderStatus.NEW:
            self.cancel_too_late += 1
            return
        self.resting.get(order.instrument.key, {}).pop(cid, None)
        self.om.cancel(cid, self._report_ns(t))

    def _fill_resting(self, key: str, r: _Resting, size: int, t: int) -> None:
        order = r.order
        assert order.price is not None
        size = min(size, order.leaves)
        if size <= 0:
            return
        self.queue_at_fill.append((order.client_id, r.initial_ahead, r.ahead))
        self.om.fill(order.client_id, order.price, size, self._fee(order, order.price, size, True), "maker",
                     self._report_ns(t))
        if order.status.terminal:
            self.resting[key].pop(order.client_id, None)

    def on_book(self, u: BookUpdate) -> None:
        """Move queue positions with the level's size; fill orders the opposite side has crossed."""
        key = u.book.instrument.key
        rs = self.resting.get(key)
        if not rs:
            return
        book = u.book
        t = u.recv_ns
        for r in list(rs.values()):
            order = r.order
            price = order.price
            assert price is not None
            buy = order.side is Side.BUY
            opp = (book.asks if buy else book.bids).best_price()
            if opp is not None and (opp < price if buy else opp > price):  # strictly through: level gone
                r.ahead = 0
                self._fill_resting(key, r, order.leaves, t)
                continue
            q = (book.bids if buy else book.asks).size_at(price)
            if q < r.seen:
                dec = r.seen - q
                cancelled = dec - r.traded if dec > r.traded else 0
                r.traded = r.traded - dec if r.traded > dec else 0
                if cancelled:
                    r.ahead = self.queue.on_cancel(r.ahead, r.seen - r.ahead, cancelled)
                if r.ahead > q:
                    r.ahead = q
            r.seen = q

    def on_trade(self, tr: Trade) -> None:
        """Trades at our price consume the queue ahead, then fill us; trades through our price fill us."""
        key = f"{tr.venue}:{tr.symbol}"
        rs = self.resting.get(key)
        if not rs:
            return
        for r in list(rs.values()):
            order = r.order
            if tr.side is order.side:  # same-side aggressor never hits our resting order
                continue
            price = order.price
            assert price is not None
            through = tr.price < price if order.side is Side.BUY else tr.price > price
            if through:
                r.ahead = 0
                self._fill_resting(key, r, order.leaves, tr.recv_ns)
            elif tr.price == price:
                r.traded += tr.size
                r.ahead -= tr.size
                if r.ahead < 0:
                    excess = -r.ahead
                    r.ahead = 0
                    self._fill_resting(key, r, excess, tr.recv_ns)
