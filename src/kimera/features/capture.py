"""Run the real Binance BTCUSDT capture through the replay engine with callbacks (benchmarks, demos)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from kimera.data.binance import load_binance_capture
from kimera.engine import BookUpdate, ReplayEngine, ReplaySummary
from kimera.model import Event, Trade
from kimera.venues.registry import resolve_instrument

CAPTURE = ("btcusdt_20240808.gz", "btcusdt_20240809.gz")


def shared_data_dir() -> Path:
    """`$KIMERA_DATA`, else `../shared/data` beside the repository (or the working directory)."""
    env = os.environ.get("KIMERA_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[3]
    for base in (repo, Path.cwd()):
        d = base.parent / "shared" / "data"
        if d.exists():
            return d
    return repo.parent / "shared" / "data"


def btcusdt_capture_paths() -> list[Path]:
    """The two spot BTCUSDT capture files; FileNotFoundError naming the folder when absent."""
    d = shared_data_dir() / "binance-spot-btcusdt-l2"
    paths = [d / n for n in CAPTURE]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"BTCUSDT capture not found: {missing} (set KIMERA_DATA)")
    return paths


def load_btcusdt_events() -> list[Event]:
    """Every event of the capture, in file order."""
    return list(load_binance_capture(btcusdt_capture_paths()))


def replay_events(
    events: list[Event], on_book: Callable[[BookUpdate], None], on_trade: Callable[[Trade], None] | None = None
) -> ReplaySummary:
    """Replay `events` through a fresh engine, calling `on_book` after each applied update."""
    eng = ReplayEngine(resolve_instrument)
    eng.bus.subscribe(BookUpdate, on_book)
    if on_trade is not None:
        eng.bus.subscribe(Trade, on_trade)
    return eng.run([events])
