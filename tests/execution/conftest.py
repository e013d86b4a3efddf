"""The real BTCUSDT capture, loaded once for the execution tests."""

from __future__ import annotations

import pytest

from kimera.data.binance import load_binance_capture
from kimera.model import Event
from tests.conftest import data_path


@pytest.fixture(scope="session")
def capture() -> list[Event]:
    """Both files of the shared Binance spot BTCUSDT capture, in order."""
    d = data_path("binance-spot-btcusdt-l2")
    return list(load_binance_capture([d / "btcusdt_20240808.gz", d / "btcusdt_20240809.gz"]))
