"""Paths of the real capture for the runner tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import data_path


@pytest.fixture(scope="session")
def capture_paths() -> list[Path]:
    """Both files of the shared Binance spot BTCUSDT capture."""
    d = data_path("binance-spot-btcusdt-l2")
    return [d / "btcusdt_20240808.gz", d / "btcusdt_20240809.gz"]
