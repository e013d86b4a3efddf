"""Fixtures for the portfolio tests: the real 20-stock S&P 500 prices and the Dow-30 2014 set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kimera.portfolio.optimize import PriceTable, apply_gap_rule, load_prices
from tests.conftest import data_path


@pytest.fixture(scope="session")
def sp500_file() -> Path:
    """The gzipped 20-stock prices CSV."""
    return data_path("sp500-20-assets-daily", "sp500_dataset.csv.gz")


@pytest.fixture(scope="session")
def sp500(sp500_file: Path) -> PriceTable:
    """All 20 stocks, 1990-2022, after the gap rule (the file has no gaps)."""
    return apply_gap_rule(load_prices(sp500_file))


@pytest.fixture(scope="session")
def recent_returns(sp500: PriceTable) -> np.ndarray:
    """Daily returns 2018-2022 (1256 days × 20)."""
    return sp500.window("2018-01-01", "2022-12-31").returns()


@pytest.fixture(scope="session")
def dow30() -> Path:
    """The folder with the Dow-30 2014 returns, dollar volumes and sigmas."""
    return data_path("dow30-2014-returns-volumes")
