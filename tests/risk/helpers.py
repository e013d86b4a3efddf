"""Shared risk-test inputs built from real data: a BTCUSDT market state and the S&P 500 20-stock returns."""

from __future__ import annotations

import csv
import functools
import gzip

import numpy as np

from kimera.model import Instrument, Side
from kimera.risk import MarketState
from kimera.strategy import OrderIntent, OrderType, Signal, TimeInForce
from kimera.venues.registry import resolve_instrument
from tests.conftest import data_path
from tests.strategy.replay import btc_replay

BTC = resolve_instrument("BINANCE", "BTCUSDT")


def btc_market(k: int = 10) -> MarketState:
    """The risk market state recorded at the k-th replay sample."""
    return btc_replay().samples[k].market


def order(
    side: Side = Side.BUY, qty: str = "0.01", price: str | None = None, confidence: float = 0.8,
    tension: float = 0.0, confidences: tuple[float, ...] = (0.8, 0.7, 0.9), inst: Instrument = BTC,
) -> OrderIntent:
    sig = tuple(Signal(f"m{k}", int(side), float(side), c) for k, c in enumerate(confidences))
    return OrderIntent(
        inst, side, inst.size(qty), None if price is None else inst.price(price),
        OrderType.MARKET if price is None else OrderType.LIMIT, TimeInForce.IOC, "test", confidence, sig, tension,
    )


@functools.lru_cache(maxsize=1)
def sp500() -> tuple[list[str], np.ndarray]:
    """(asset names, T×20 adjusted closes) of the skfolio S&P 500 20-asset set."""
    path = data_path("sp500-20-assets-daily", "sp500_dataset.csv.gz")
    with gzip.open(path, "rt", newline="") as fh:
        rows = list(csv.reader(fh))
    names = rows[0][1:]
    prices = np.array([[float(x) for x in r[1:]] for r in rows[1:]])
    assert prices.shape[1] == 20 and np.isfinite(prices).all()
    return names, prices
