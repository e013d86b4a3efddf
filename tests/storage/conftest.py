"""Fixtures of the storage tests: the shared captures loaded once, and stores written from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kimera.data.sources import open_sources
from kimera.engine.replay import ReplayEngine
from kimera.model import Event
from kimera.storage import TickWriter
from tests.conftest import data_path

# name -> (folder, files): every L2/trade capture the project has a loader for.
DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "binance-spot": ("binance-spot-btcusdt-l2", ("btcusdt_20240808.gz", "btcusdt_20240809.gz")),
    "binance-usdm": ("binance-usdm-btcusdt-l2", ("btcusdt_20240808.gz",)),
    "lobster": ("lobster-aapl-2012-06-21-part1", ("AAPL_2012-06-21_message_10_rows0001-0500.csv",
                                                 "AAPL_2012-06-21_orderbook_10_rows0001-0500.csv")),
}

_events: dict[str, list[Event]] = {}


def capture_paths(name: str) -> list[Path]:
    """The files of a dataset (skips when the shared data is absent)."""
    folder, files = DATASETS[name]
    return [data_path(folder, f) for f in files]


def capture_events(name: str) -> list[Event]:
    """The events of a dataset as the project's loaders produce them (loaded once per session)."""
    if name not in _events:
        _events[name] = list(ReplayEngine.merge(open_sources(capture_paths(name))))
    return _events[name]


@pytest.fixture(scope="session")
def written_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each dataset written by a `TickWriter` flushing every 20,000 events (many small files)."""
    out: dict[str, Path] = {}
    for name in DATASETS:
        root = tmp_path_factory.mktemp(f"store-{name}")
        with TickWriter(root, flush_events=20_000, flush_seconds=None, fsync=False) as w:
            w.write_many(capture_events(name))
        out[name] = root
    return out


@pytest.fixture
def store_copy(written_stores: dict[str, Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    """A private copy of a written store, for tests that change files."""

    def copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(written_stores[name], dst)
        return dst

    return copy
