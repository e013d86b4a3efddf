"""Backtest inputs: daily returns with optional dollar volumes and volatilities, aligned by date and asset.

Returns come from a returns CSV, or from a prices CSV through the gap rule. A column named `cash` (the
Dow-30 files carry one) is not an asset and is dropped. Volumes and sigmas are aligned to the return
dates and assets; a date or asset missing from them is an error (costs would be silently wrong).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import MissingDataError
from kimera.portfolio.optimize.prices import PriceTable, apply_gap_rule, load_prices, load_table

NON_ASSETS = frozenset({"cash"})


@dataclass(frozen=True)
class MarketData:
    """Aligned T×N arrays: simple daily returns, and optionally dollar volumes and daily σ."""

    dates: NDArray[np.datetime64]
    assets: tuple[str, ...]
    returns: FloatArray
    volumes: FloatArray | None = None
    sigmas: FloatArray | None = None


def _align(
    table: PriceTable, dates: NDArray[np.datetime64], assets: tuple[str, ...], what: str
) -> FloatArray:
    """The rows of `table` for `dates` and its columns for `assets`, or MissingDataError."""
    col = {a: j for j, a in enumerate(table.assets)}
    missing_assets = [a for a in assets if a not in col]
    if missing_assets:
        raise MissingDataError(f"{what}: no column for {missing_assets}")
    pos = np.searchsorted(table.dates, dates)
    ok = (pos < len(table.dates)) & (table.dates[np.minimum(pos, len(table.dates) - 1)] == dates)
    if not ok.all():
        raise MissingDataError(f"{what}: no row for date {dates[~ok][0]}")
    cols = np.array([col[a] for a in assets], dtype=np.intp)
    return table.values[np.ix_(pos, cols)]


def load_market(
    returns_path: str | Path | None = None,
    prices_path: str | Path | None = None,
    volumes_path: str | Path | None = None,
    sigmas_path: str | Path | None = None,
    start: str | None = None,
    end: str | None = None,
) -> MarketData:
    """Load exactly one of returns/prices, then align optional volumes and sigmas to it."""
    if (returns_path is None) == (prices_path is None):
        raise MissingDataError("give exactly one of a returns file or a prices file")
    if prices_path is not None:
        prices = apply_gap_rule(load_prices(prices_path).window(start, end))
        dates, assets, values = prices.dates[1:], prices.assets, prices.returns()
    else:
        assert returns_path is not None
        table = load_table(returns_path).window(start, end)
        keep = [j for j, a in enumerate(table.assets) if a.lower() not in NON_ASSETS]
        dates, assets, values = table.dates, tuple(table.assets[j] for j in keep), table.values[:, keep]
        if np.isnan(values).any():
            t, j = np.argwhere(np.isnan(values))[0]
            raise MissingDataError(f"returns: missing value for {assets[j]} on {dates[t]}")
    volumes = _align(load_table(volumes_path), dates, assets, "volumes") if volumes_path else None
    sigmas = _align(load_table(sigmas_path), dates, assets, "sigmas") if sigmas_path else None
    return MarketData(dates, assets, values, volumes, sigmas)
