"""Book benchmarks: level updates/s on the real BTCUSDT capture (ours vs SortedDict vs the `order-book` C
package, same updates, same run) and the full replay (parse + sync + book) wall time."""

from __future__ import annotations

import time
from pathlib import Path

from kimera.bench.registry import BenchResult, benchmark, best_of
from kimera.book import OrderBook
from kimera.model import BookDelta, BookSnapshot

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SPOT = [DATA / "binance-spot-btcusdt-l2" / "btcusdt_20240808.gz", DATA / "binance-spot-btcusdt-l2" / "btcusdt_20240809.gz"]


def _book_events() -> tuple[BookSnapshot, list[BookDelta]]:
    from kimera.book import SyncedBook
    from kimera.data.binance import load_binance_capture
    from kimera.venues.binance import BinanceAdapter

    ad = BinanceAdapter("spot")
    sb = SyncedBook(ad.instrument, ad.rule)
    snap: BookSnapshot | None = None
    deltas: list[BookDelta] = []
    for e in load_binance_capture(SPOT):
        if isinstance(e, BookSnapshot):
            snap = e
            sb.on_snapshot(e)
        elif isinstance(e, BookDelta):
            if sb.trusted and sb.on_delta(e).value == "applied":
                deltas.append(e)
            elif not sb.trusted:
                sb.on_delta(e)
    assert snap is not None
    return snap, deltas


def _ours(snap: BookSnapshot, deltas: list[BookDelta]) -> object:
    from kimera.venues.binance import instrument

    b = OrderBook(instrument("BTCUSDT"))
    b.apply_snapshot(snap)
    for d in deltas:
        b.apply_delta(d)
        b.best_bid()
        b.best_ask()
    return b


def _sorteddict(snap: BookSnapshot, deltas: list[BookDelta]) -> object:
    from sortedcontainers import SortedDict

    bids, asks = SortedDict({p: q for p, q in snap.bids}), SortedDict({p: q for p, q in snap.asks})
    for d in deltas:
        for side, lv in ((bids, d.bids), (asks, d.asks)):
            for p, q in lv:
                if q:
                    side[p] = q
                else:
                    side.pop(p, None)
        bids.peekitem(-1)
        asks.peekitem(0)
    return bids


def _cbook_blind(snap: BookSnapshot, deltas: list[BookDelta]) -> object:
    """The C book without the membership check (deleting an absent level raises there: caught)."""
    from order_book import OrderBook as CBook

    ob = CBook()
    for p, q in snap.bids:
        ob.bids[p] = q
    for p, q in snap.asks:
        ob.asks[p] = q
    for d in deltas:
        for side, lv in ((ob.bids, d.bids), (ob.asks, d.asks)):
            for p, q in lv:
                if q:
                    side[p] = q
                else:
                    try:  # noqa: SIM105 (try/except is the fastest form on this hot loop)
                        del side[p]
                    except KeyError:
                        pass
        ob.bids.index(0)
        ob.asks.index(0)
    return ob


@benchmark("book.levels")
def bench_levels() -> list[BenchResult]:
    """Level updates per second, same deltas through each book, best bid/ask read after every diff."""
    snap, deltas = _book_events()
    n = sum(len(d.bids) + len(d.asks) for d in deltas)
    ours = best_of(lambda: _ours(snap, deltas), repeat=5)
    sd = best_of(lambda: _sorteddict(snap, deltas), repeat=3)
    cb = best_of(lambda: _cbook_blind(snap, deltas), repeat=3)
    ref = _ours(snap, deltas)
    assert isinstance(ref, OrderBook)
    goal = n / ours >= 500_000
    return [
        BenchResult("book.levels", "level updates/s vs SortedDict", n / ours, "upd/s", "sortedcontainers.SortedDict",
                    n / sd, ">= 500,000 upd/s", goal, {"level_updates": n, "diffs": len(deltas)}),
        BenchResult("book.levels", "level updates/s vs order-book (C)", n / ours, "upd/s", "order-book C package",
                    n / cb, ">= 500,000 upd/s", goal),
    ]


@benchmark("book.replay")
def bench_replay() -> list[BenchResult]:
    """The whole 11-minute spot capture: gunzip + JSON parse + normalise + sync + book + summary."""
    from kimera.data.binance import load_binance_capture
    from kimera.engine import ReplayEngine
    from kimera.venues.registry import resolve_instrument

    def run() -> None:
        ReplayEngine(resolve_instrument).run([load_binance_capture(SPOT)])

    t = best_of(run, repeat=3)
    cpu = float("inf")
    for _ in range(3):  # CPU seconds: less sensitive to other processes on a shared 2-core machine
        c0 = time.process_time()
        run()
        cpu = min(cpu, time.process_time() - c0)
    t0 = time.perf_counter()
    import gzip

    import orjson

    for p in SPOT:
        for line in gzip.decompress(p.read_bytes()).split(b"\n"):
            if line:
                orjson.loads(line[line.find(b" ") + 1 :])
    parse_only = time.perf_counter() - t0
    return [BenchResult("book.replay", "spot capture replay (parse+sync+book), wall", t, "s",
                        "gunzip + orjson.loads only", parse_only, "< 1 s", t < 1.0),
            BenchResult("book.replay", "spot capture replay (parse+sync+book), CPU time", cpu, "s",
                        None, None, "< 1 s", cpu < 1.0)]
