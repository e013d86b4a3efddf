"""LOBSTER: after each message our top-10 book equals the next row of the orderbook file."""

from __future__ import annotations

import pytest

from kimera.book import OrderBook
from kimera.data.lobster import instrument, level_after, load_lobster, read_messages, read_orderbook
from kimera.engine import BookUpdate, ReplayEngine
from kimera.model import BookSnapshot
from kimera.venues.registry import resolve_instrument
from tests.conftest import data_path


def _files():
    d = data_path("lobster-aapl-2012-06-21-part1")
    return (d / "AAPL_2012-06-21_message_10_rows0001-0500.csv", d / "AAPL_2012-06-21_orderbook_10_rows0001-0500.csv")


def test_each_message_gives_the_next_row() -> None:
    """Seed with row k-1, apply message k through the loader's translation, get row k exactly.

    When a message empties a top-10 level, row k's 10th level comes from beyond row k-1's depth: that one
    level is unknowable from the files, so it alone is excluded (and the count of such cases checked)."""
    msg, ob = _files()
    rows = read_orderbook(ob)
    msgs = read_messages(msg)
    exact = beyond = hidden = 0
    for k in range(1, len(msgs)):
        m = msgs[k]
        book = OrderBook(instrument("AAPL"))
        bids, asks = rows[k - 1]
        book.apply_snapshot(BookSnapshot("LOBSTER", "AAPL", k, bids, asks, 0, 0))
        if m.kind in (1, 2, 3, 4):
            side = book.bids if m.direction == 1 else book.asks
            side.set(m.price, level_after(side.size_at(m.price), m))
        else:
            hidden += 1
        got_b, got_a = book.depth(10)
        want_b, want_a = rows[k]
        for got, want in ((got_b, want_b), (got_a, want_a)):
            if len(got) == len(want):
                assert got == want, k
            else:
                assert len(got) == len(want) - 1 and got == want[:-1], k
                beyond += 1
        exact += 1
    assert exact == 499
    assert hidden == sum(1 for m in msgs[1:] if m.kind in (5, 6, 7))
    assert beyond <= sum(1 for m in msgs[1:] if m.kind in (3, 4))  # only a level emptied by a delete/execution


def test_replay_through_engine() -> None:
    """The loader's event stream runs through the engine: contiguous ids, no gaps, never crossed."""
    eng = ReplayEngine(resolve_instrument)
    n = []
    eng.bus.subscribe(BookUpdate, lambda u: n.append(u.update_id))
    s = eng.run([load_lobster(*_files())])
    assert s.gaps == 0 and s.crossed_books == 0 and s.diffs_applied == 499
    assert n == list(range(1, 501))
    kinds = [m.kind for m in read_messages(_files()[0])[1:]]
    assert s.trades == kinds.count(4) + kinds.count(5)


def test_bad_row_names_line(tmp_path) -> None:
    msg, _ = _files()
    lines = msg.read_text().splitlines()
    lines[6] = "34200.1,9,1,1,1,1"
    bad = tmp_path / "AAPL_message.csv"
    bad.write_text("\n".join(lines))
    from kimera.data import MalformedInputError

    with pytest.raises(MalformedInputError, match=r"AAPL_message\.csv:7"):
        read_messages(bad)
