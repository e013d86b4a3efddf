"""Replaying the real Binance captures: no gaps, never crossed, and the exchange's own top of book agrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimera.data.binance import load_binance_capture
from kimera.engine import BookUpdate, ReplayEngine
from kimera.model import Quote
from kimera.venues.registry import resolve_instrument
from tests.conftest import data_path


def _replay(paths: list[Path]):
    """Replay, and compare every book update with the latest bookTicker received before it."""
    eng = ReplayEngine(resolve_instrument)
    last: dict[str, Quote] = {}
    agree = [0, 0]

    def on_quote(q: Quote) -> None:
        last["q"] = q

    def on_update(u: BookUpdate) -> None:
        q = last.get("q")
        if q is None or q.update_id > u.update_id:
            return
        same = u.book.best_bid() == (q.bid_px, q.bid_qty) and u.book.best_ask() == (q.ask_px, q.ask_qty)
        agree[0 if same else 1] += 1

    eng.bus.subscribe(Quote, on_quote)
    eng.bus.subscribe(BookUpdate, on_update)
    summary = eng.run([load_binance_capture(paths)])
    return summary, agree


def test_spot_both_files() -> None:
    d = data_path("binance-spot-btcusdt-l2")
    s, agree = _replay([d / "btcusdt_20240808.gz", d / "btcusdt_20240809.gz"])
    assert s.gaps == 0 and s.crossed_books == 0 and s.untrusted_at_end == 0
    assert s.diffs_applied == 6493  # every diff after the snapshot (PROVENANCE: 6,493 applied)
    assert s.trades == 19904
    # exact-u oracle: where the venue's bookTicker carries our last applied u, price AND size match
    assert s.bbo_exact_u_mismatches == 0
    # the latest bookTicker (u <= ours) agrees with our top of book on almost every update (timing races aside)
    assert agree[0] / sum(agree) > 0.99, agree


def test_usdm_pu_chain() -> None:
    d = data_path("binance-usdm-btcusdt-l2")
    s, _ = _replay([d / "btcusdt_20240808.gz"])
    assert s.gaps == 0 and s.crossed_books == 0
    assert s.diffs_applied == 6547
    assert s.bbo_exact_u_matches == 126 and s.bbo_exact_u_mismatches == 0


def test_second_file_alone_never_becomes_trusted() -> None:
    """Without a snapshot the book is never trusted: diffs stay buffered, nothing is published."""
    d = data_path("binance-spot-btcusdt-l2")
    s, agree = _replay([d / "btcusdt_20240809.gz"])
    assert s.diffs_applied == 0 and s.untrusted_at_end == 1 and sum(agree) == 0


def test_replay_is_deterministic() -> None:
    d = data_path("binance-usdm-btcusdt-l2")
    rows = []
    for _ in range(2):
        eng = ReplayEngine(resolve_instrument)
        seen: list[tuple] = []
        eng.bus.subscribe(BookUpdate, lambda u, seen=seen: seen.append((u.update_id, u.book.best_bid(), u.book.best_ask())))
        eng.run([load_binance_capture([d / "btcusdt_20240808.gz"])])
        rows.append(seen)
    assert rows[0] == rows[1] and len(rows[0]) > 6000


@pytest.mark.parametrize("market", ["spot"])
def test_merge_two_sources_by_time(market: str) -> None:
    """Spot and USD-M merged by receive time: each book is the same as when replayed alone."""
    spot = data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz")
    usdm = data_path("binance-usdm-btcusdt-l2", "btcusdt_20240808.gz")
    both = ReplayEngine(resolve_instrument)
    s = both.run([load_binance_capture([spot]), load_binance_capture([usdm])])
    alone = ReplayEngine(resolve_instrument)
    alone.run([load_binance_capture([usdm])])
    assert s.gaps == 0
    a = both.books.books["BINANCE_USDM:BTCUSDT"].book
    b = alone.books.books["BINANCE_USDM:BTCUSDT"].book
    assert a.depth(50) == b.depth(50)


def test_fast_decoder_equals_strict_parser() -> None:
    """The typed msgspec path and the strict dict path give identical events on every real line."""
    import orjson

    from kimera.data.lines import split_ts_lines
    from kimera.venues.binance import BinanceAdapter, FastBinanceDecoder

    for market, f in (("spot", data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz")),
                      ("usdm", data_path("binance-usdm-btcusdt-l2", "btcusdt_20240808.gz"))):
        ad = BinanceAdapter(market)
        fast = FastBinanceDecoder(ad)
        n = 0
        for _, ns, raw in split_ts_lines(f):
            assert fast.decode(raw, ns) == ad.parse(orjson.loads(raw), ns)
            n += 1
        assert n > 40_000 and fast.fallbacks <= 1  # only the REST snapshot line takes the strict path
