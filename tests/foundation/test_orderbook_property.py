"""Random deltas applied to the book give the same book as a brute-force dict reference."""

from hypothesis import given, settings
from hypothesis import strategies as st

from kimera.book import OrderBook
from kimera.model import BookDelta, BookSnapshot, Instrument

INST = Instrument("T", "T", 2, 3)
levels = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 5)), max_size=12)


class RefBook:
    """Brute force: dicts, sorted on every query."""

    def __init__(self) -> None:
        self.b: dict[int, int] = {}
        self.a: dict[int, int] = {}

    def apply(self, side: dict[int, int], lv: list[tuple[int, int]]) -> None:
        for p, q in lv:
            if q:
                side[p] = q
            else:
                side.pop(p, None)

    def top(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        return (sorted(self.b.items(), reverse=True)[:n], sorted(self.a.items())[:n])

    def cost(self, buy: bool, size: int) -> tuple[int, int]:
        side = sorted(self.a.items()) if buy else sorted(self.b.items(), reverse=True)
        left, notional = size, 0
        for p, q in side:
            t = min(q, left)
            notional += t * p
            left -= t
        return notional, size - left


@settings(max_examples=300, deadline=None)
@given(st.tuples(levels, levels), st.lists(st.tuples(levels, levels), max_size=25), st.integers(0, 40))
def test_book_equals_reference(snap, deltas, size) -> None:
    book, ref = OrderBook(INST), RefBook()
    book.apply_snapshot(BookSnapshot("T", "T", 0, snap[0], snap[1], 0, 0))
    ref.apply(ref.b, [lv for lv in snap[0] if lv[1]])
    ref.apply(ref.a, [lv for lv in snap[1] if lv[1]])
    for i, (b, a) in enumerate(deltas, 1):
        book.apply_delta(BookDelta("T", "T", i, i, b, a, 0, 0))
        ref.apply(ref.b, b)
        ref.apply(ref.a, a)
        assert book.depth(1000) == ref.top(1000)
        rb, ra = ref.top(1)
        assert book.best_bid() == (rb[0] if rb else None)
        assert book.best_ask() == (ra[0] if ra else None)
        assert book.is_crossed() == bool(rb and ra and rb[0][0] >= ra[0][0])
        for buy in (True, False):
            assert book.cost_to_fill(buy, size) == ref.cost(buy, size)
        for n in (1, 3):
            bq = sum(q for _, q in ref.top(n)[0])
            aq = sum(q for _, q in ref.top(n)[1])
            assert book.imbalance(n) == ((bq - aq) / (bq + aq) if bq + aq else 0.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(levels, levels), min_size=1, max_size=15), st.integers(0, 61), st.integers(0, 8))
def test_side_queries_equal_reference(deltas, price, depth) -> None:
    """The side's own queries (kept on sign·price keys, the best last) against sorted dicts: prices, rank,
    the prices up to a limit, the best n, truncation, mid and spread."""
    book, ref = OrderBook(INST), RefBook()
    for i, (b, a) in enumerate(deltas, 1):
        book.apply_delta(BookDelta("T", "T", i, i, b, a, 0, 0))
        ref.apply(ref.b, b)
        ref.apply(ref.a, a)
    for side, levels_ref, best_first in ((book.bids, ref.b, True), (book.asks, ref.a, False)):
        ordered = sorted(levels_ref, reverse=best_first)  # best first
        assert side.prices == sorted(levels_ref) and len(side) == len(ordered)
        assert side.best_price() == (ordered[0] if ordered else None)
        assert side.top_prices(depth) == ordered[:depth]
        assert side.rank(price) == (ordered.index(price) if price in levels_ref else -1)
        better = [p for p in ordered if (p >= price if best_first else p <= price)]
        assert [side.sign * k for k in side.within_keys(price)] == better[::-1]
        assert side.as_dict() == levels_ref and all(side.size_at(p) == levels_ref.get(p, 0) for p in range(62))
        assert [p for p, _ in side.iter_best()] == ordered
    if book.bids.keys and book.asks.keys:
        bb, ba = max(ref.b), min(ref.a)
        assert book.spread() == ba - bb and book.mid() == (bb + ba) / (2 * INST.price_scale)
    book.truncate(depth)
    assert book.depth(1000) == ref.top(depth)
