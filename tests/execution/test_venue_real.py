"""The simulated venue on the real BTCUSDT capture, against independent oracles built from the raw events."""

from __future__ import annotations

from kimera.execution import Fill, OrderKind, OrderStatus
from kimera.model import BookDelta, BookSnapshot, Event, Side, Trade
from kimera.runners.pipeline import TradingPipeline
from kimera.venues.registry import resolve_instrument

INST = resolve_instrument("BINANCE", "BTCUSDT")


class OracleBook:
    """A deliberately naive book (plain dicts, Binance spot rule) to check the engine against."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.last: int | None = None
        self.early: list[BookDelta] = []  # diffs received before the snapshot: replayed after it

    def apply(self, e: Event) -> bool:
        """Apply a snapshot or a (non-stale) delta; True if the book changed."""
        if isinstance(e, BookSnapshot):
            self.bids, self.asks, self.last = dict(e.bids), dict(e.asks), e.update_id
            for d in self.early:
                self.apply(d)
            return True
        if isinstance(e, BookDelta) and self.last is None:
            self.early.append(e)
            return False
        if isinstance(e, BookDelta) and self.last is not None and e.last_update_id > self.last:
            for side, lv in ((self.bids, e.bids), (self.asks, e.asks)):
                for p, q in lv:
                    if q:
                        side[p] = q
                    else:
                        side.pop(p, None)
            self.last = e.last_update_id
            return True
        return False


    def copy(self) -> OracleBook:
        """An independent copy."""
        c = OracleBook()
        c.bids, c.asks, c.last, c.early = dict(self.bids), dict(self.asks), self.last, list(self.early)
        return c


def oracle_at(events: list[Event], points: list[int]) -> dict[int, OracleBook]:
    """The oracle book after `events[:k]` for every k in `points`, in one pass."""
    ob = OracleBook()
    out: dict[int, OracleBook] = {}
    i = 0
    for k in sorted(points):
        for e in events[i:k]:
            ob.apply(e)
        i = k
        out[k] = ob.copy()
    return out


def test_market_order_fill_equals_independent_book_walk(capture: list[Event]) -> None:
    points = [len(capture) * i // 12 for i in range(2, 12)]
    sizes = ["0.3", "2", "7.5"]
    p = TradingPipeline(resolve_instrument, [])
    fills: list[Fill] = []
    p.bus.subscribe(Fill, fills.append)
    done = 0
    checked = 0
    books = oracle_at(capture, points)
    for k in points:
        p.run(capture[done:k])
        done = k
        ob = books[k]
        for j, s in enumerate(sizes):
            qty = INST.size(s)
            side = Side.BUY if j % 2 == 0 else Side.SELL
            levels = sorted(ob.asks.items()) if side is Side.BUY else sorted(ob.bids.items(), reverse=True)
            left, notional, walk = qty, 0, []
            for price, size in levels:
                take = min(size, left)
                notional += take * price
                walk.append((price, take))
                left -= take
                if not left:
                    break
            before = len(fills)
            o = p.submit(INST, side, OrderKind.MARKET, qty, None, capture[k - 1].recv_ns)
            p.venue.advance(capture[k].recv_ns)
            got = [(f.price, f.size) for f in fills[before:]]
            assert got == walk, f"at event {k}: {s} BTC {side.name}"
            assert o.status is OrderStatus.FILLED and o.notional == notional
            assert len(walk) >= 1
            checked += len(walk) > 1
    assert checked >= 10  # most of these walks cross several levels


def test_resting_order_never_fills_before_its_queue_is_consumed(capture: list[Event]) -> None:
    points = [len(capture) * i // 40 for i in range(1, 39)]
    p = TradingPipeline(resolve_instrument, [])
    first_fill: dict[str, int] = {}
    p.bus.subscribe(Fill, lambda f: first_fill.setdefault(f.client_id, p.journal.event_idx))  # type: ignore[attr-defined]
    orders = []
    done = 0
    books = oracle_at(capture, points)
    for k in points:
        p.run(capture[done:k])
        done = k
        ob = books[k]
        bid = max(ob.bids)
        o = p.submit(INST, Side.BUY, OrderKind.LIMIT, INST.size("0.001"), bid, capture[k - 1].recv_ns)
        orders.append((k, bid, ob.bids[bid], o))
    p.run(capture[done:])
    filled = 0
    for k, price, ahead0, o in orders:
        # independent replay of the queue ahead: trades at our price eat it, the level size caps it
        ob = books[k].copy()
        ahead = ahead0
        consumed_at = None
        for i in range(k, len(capture)):
            e = capture[i]
            if isinstance(e, Trade) and e.side is Side.SELL:
                if e.price < price or (e.price == price and ahead - e.size < 0):
                    consumed_at = i
                    break
                if e.price == price:
                    ahead -= e.size
            elif ob.apply(e):
                ahead = min(ahead, ob.bids.get(price, 0))
                if ob.asks and min(ob.asks) < price:
                    consumed_at = i
                    break
        fill_idx = first_fill.get(o.client_id)
        if consumed_at is None:
            assert fill_idx is None and o.filled == 0, f"order at {k} filled with its queue never consumed"
        else:
            filled += 1
            assert fill_idx is not None, f"order at {k}: queue consumed at {consumed_at} but never filled"
            assert fill_idx == consumed_at, f"order at {k}: filled at event {fill_idx}, queue gone at {consumed_at}"
    assert filled >= 5, "too few resting orders filled to test anything"
    assert any(ahead0 > 0 for _, _, ahead0, _ in orders)
