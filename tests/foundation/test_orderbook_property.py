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
