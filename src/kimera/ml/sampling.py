"""Replay a Binance capture through the engine and sample `FeatureState` on a fixed clock grid.

Why a clock grid: USD-M diffs arrive every ~50 ms and spot diffs every 100 ms, so "every book update"
would mean different horizons per market. A 100 ms grid on the receive clock (aligned to multiples of
the step, so markets share grid times) gives one row per step and horizons in seconds. The row at grid
time g is emitted before the first event received after g, so it sees exactly the events with
`recv_ns <= g`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kimera.book import OrderBook
from kimera.data.binance import load_binance_capture
from kimera.engine import BookUpdate, ReplayEngine
from kimera.ml.features import MS, N_FEATURES, FeatureState
from kimera.model import Event, Quote, Trade
from kimera.venues.registry import resolve_instrument

DEFAULT_GRID_MS = 100


@dataclass
class Series:
    """One capture sampled on the grid: features per grid time plus the mid history labels need."""

    name: str
    grid_ns: int
    t_ns: np.ndarray  # int64 grid times of the rows (warmed-up, trusted book only)
    X: np.ndarray  # float64 (rows, N_FEATURES)
    s: np.ndarray  # int64 bid+ask (twice the mid, price units) at each row
    mid_t_ns: np.ndarray  # int64 receive times at which bid+ask changed (the first entry included)
    mid_s: np.ndarray  # int64 bid+ask from that time on
    end_ns: int  # the data is known up to here (the last event, or the cut when replay was cut short)

    def __len__(self) -> int:
        return len(self.t_ns)


def shared_data_dir() -> Path:
    """`$KIMERA_DATA`, else `../shared/data` next to the repository (or the current directory)."""
    env = os.environ.get("KIMERA_DATA")
    if env:
        return Path(env)
    for base in (Path(__file__).resolve().parents[3], Path.cwd()):
        cand = base.parent / "shared" / "data"
        if cand.exists():
            return cand
    return Path.cwd().parent / "shared" / "data"


def default_captures() -> list[list[Path]]:
    """The shared Binance BTCUSDT captures: spot (two files, one series) and USD-M (one file)."""
    d = shared_data_dir()
    return [
        [d / "binance-spot-btcusdt-l2" / "btcusdt_20240808.gz", d / "binance-spot-btcusdt-l2" / "btcusdt_20240809.gz"],
        [d / "binance-usdm-btcusdt-l2" / "btcusdt_20240808.gz"],
    ]


class _Cut:
    """Events up to `until_ns` (Binance tickers dropped); records whether the stream went past it."""

    def __init__(self, events: Iterable[Event], until_ns: int | None) -> None:
        self.events = events
        self.until_ns = until_ns
        self.stopped = False

    def __iter__(self) -> Iterator[Event]:
        for ev in self.events:
            if self.until_ns is not None and ev.recv_ns > self.until_ns:
                self.stopped = True
                return
            if not isinstance(ev, Quote):  # features use the L2 book and trades, not the venue's ticker
                yield ev


def sample_events(
    events: Iterable[Event], name: str = "capture", grid_ms: int = DEFAULT_GRID_MS, until_ns: int | None = None
) -> Series:
    """Replay `events` (receive-time order) and sample features every `grid_ms` once warmed up.

    `until_ns` stops the replay after that receive time, as if the data ended there; when the data
    went on past it, the replay is known to be complete up to `until_ns` and rows are emitted up to it.
    """
    if grid_ms <= 0:
        raise ValueError(f"grid_ms must be positive, got {grid_ms}")
    grid = grid_ms * MS
    engine = ReplayEngine(resolve_instrument)
    state = FeatureState()
    book_ref: list[OrderBook] = []
    mid_t: list[int] = []
    mid_s: list[int] = []

    def on_update(u: BookUpdate) -> None:
        state.on_book(u.book, u.recv_ns)
        if not book_ref:
            book_ref.append(u.book)
        bb, ba = u.book.best_bid(), u.book.best_ask()
        if bb is not None and ba is not None and (not mid_s or mid_s[-1] != bb[0] + ba[0]):
            mid_t.append(u.recv_ns)
            mid_s.append(bb[0] + ba[0])

    engine.bus.subscribe(BookUpdate, on_update)
    engine.bus.subscribe(Trade, state.on_trade)
    rows: list[np.ndarray] = []
    times: list[int] = []
    svals: list[int] = []

    def emit(g: int) -> None:
        if not book_ref or not state.ready(g) or not all(sb.trusted for sb in engine.books.books.values()):
            return
        book = book_ref[0]
        rows.append(state.vector(g, book))
        times.append(g)
        svals.append(mid_s[-1])

    next_g: int | None = None
    last_ns = 0
    publish = engine.bus.publish
    stream = _Cut(events, until_ns)
    for ev in stream:
        t = ev.recv_ns
        if next_g is None:
            next_g = -(-t // grid) * grid
        while next_g < t:
            emit(next_g)
            next_g += grid
        publish(ev)
        last_ns = t
    end_ns = until_ns if stream.stopped and until_ns is not None else last_ns
    if next_g is not None:
        while next_g <= end_ns:
            emit(next_g)
            next_g += grid
    X = np.array(rows, dtype=np.float64).reshape(len(rows), N_FEATURES)
    return Series(
        name=name,
        grid_ns=grid,
        t_ns=np.array(times, dtype=np.int64),
        X=X,
        s=np.array(svals, dtype=np.int64),
        mid_t_ns=np.array(mid_t, dtype=np.int64),
        mid_s=np.array(mid_s, dtype=np.int64),
        end_ns=end_ns,
    )


def sample_capture(
    paths: Sequence[str | Path], grid_ms: int = DEFAULT_GRID_MS, until_ns: int | None = None, name: str | None = None
) -> Series:
    """Load one Binance capture (files concatenated in order) and sample it on the grid."""
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("no capture files given")
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        raise FileNotFoundError(f"capture file(s) not found: {missing}")
    label = name or "+".join(f"{p.parent.name}/{p.name}" for p in files)
    return sample_events(load_binance_capture(files), label, grid_ms, until_ns)
