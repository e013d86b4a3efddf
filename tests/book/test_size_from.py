"""`BookSide.size_from`: the incrementally kept total equals summing every level, after any mutation."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimera.book import OrderBook
from kimera.engine import BookUpdate, ReplayEngine
from kimera.model import BookDelta, BookSnapshot, Instrument
from kimera.venues.registry import resolve_instrument
from tests.strategy.replay import btc_replay

INST = Instrument("T", "T", 2, 3)
levels = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 5)), max_size=12)


def brute(side: object, key: int) -> int:
    """Size resting on levels with key >= `key`, summed from scratch."""
    return sum(q for k, q in side.sizes.items() if k >= key)  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(st.tuples(levels, levels), st.lists(st.tuples(levels, levels, st.integers(-70, 70)), max_size=25))
def test_size_from_equals_the_sum_after_random_deltas(snap: tuple, steps: list) -> None:
    book = OrderBook(INST)
    book.apply_snapshot(BookSnapshot("T", "T", 0, snap[0], snap[1], 0, 0))
    for i, (b, a, key) in enumerate(steps, 1):
        for side in (book.bids, book.asks):
            assert side.size_from(key) == brute(side, key)  # the watch is set (or moved) here
        book.apply_delta(BookDelta("T", "T", i, i, b, a, 0, 0))  # ... and kept through these updates
        for side in (book.bids, book.asks):
            assert side.size_from(key) == brute(side, key)
            assert side.size_from(key + 3) == brute(side, key + 3)


def test_a_stale_total_is_impossible_after_every_kind_of_mutation() -> None:
    book = OrderBook(INST)
    book.apply_snapshot(BookSnapshot("T", "T", 0, [(p, 2) for p in range(1, 40)], [(p, 3) for p in range(41, 80)], 0, 0))
    bids = book.bids
    assert bids.size_from(30) == 2 * 10
    bids.set(35, 7)  # change inside the window
    bids.set(50, 1)  # new level inside
    bids.set(5, 9)  # outside: no effect
    bids.set(31, 0)  # delete inside
    assert bids.size_from(30) == brute(bids, 30) == 20 + 5 + 1 - 2
    book.truncate(5)  # drops levels (and the running total)
    assert bids.size_from(30) == brute(bids, 30)
    book.apply_snapshot(BookSnapshot("T", "T", 1, [(31, 4), (33, 1)], [(90, 1)], 0, 0))
    assert bids.size_from(30) == 5
    book.clear()
    assert bids.size_from(30) == 0
    bids.update([(32, 6)])
    assert bids.size_from(30) == 6
    with pytest.raises(ValueError):  # an update that fails half way drops the total: the next query re-sums
        bids.update([(34, 1), (35,)])  # type: ignore[list-item]
    assert bids.size_from(30) == brute(bids, 30)


def test_size_from_on_the_real_replay_at_every_update() -> None:
    rec = btc_replay()
    rng = random.Random(5)
    checked = [0]

    def on_book(u: BookUpdate) -> None:
        book = u.book
        for side in (book.bids, book.asks):
            if len(side) < 2:
                return
            best = side.keys[-1]
            key = best - rng.choice((0, 1, 50, 3000, 60000))  # windows from the touch to far into the book
            assert side.size_from(key) == brute(side, key)
        checked[0] += 1

    eng = ReplayEngine(resolve_instrument)
    eng.bus.subscribe(BookUpdate, on_book)
    eng.run([rec.events])
    assert checked[0] > 6000
