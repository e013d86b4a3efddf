"""The rebalancing backtest on the Dow-30 2014 set: accounting identities and the cost model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kimera.portfolio.optimize.backtest import BacktestConfig, run_backtest
from kimera.portfolio.optimize.costs import CostModel
from kimera.portfolio.optimize.errors import InsufficientDataError, MissingDataError
from kimera.portfolio.optimize.market import MarketData, load_market


@pytest.fixture(scope="module")
def market(dow30: Path) -> MarketData:
    return load_market(
        dow30 / "returns.csv", volumes_path=dow30 / "volumes.csv", sigmas_path=dow30 / "sigmas.csv"
    )


def test_market_alignment(market: MarketData) -> None:
    assert market.returns.shape == (251, 28) and "cash" not in market.assets
    assert market.volumes is not None and market.sigmas is not None
    assert market.volumes.shape == market.returns.shape and np.all(market.volumes > 0)


def test_cost_model_is_spread_plus_square_root_impact() -> None:
    cm = CostModel(half_spread=5e-4, impact=1.0)
    z = np.array([1e6, -4e6, 0.0])
    v, s = np.array([1e8, 1e8, 1e8]), np.array([0.02, 0.02, 0.02])
    expected = 5e-4 * np.abs(z) + 0.02 * np.abs(z) * np.sqrt(np.abs(z) / 1e8)
    np.testing.assert_allclose(cm.cost(z, v, s), expected)
    assert cm.cost(z, None, None) == pytest.approx(5e-4 * np.abs(z))
    per_dollar = cm.cost(z[:2], v[:2], s[:2]) / np.abs(z[:2])
    assert per_dollar[1] - 5e-4 == pytest.approx(2 * (per_dollar[0] - 5e-4))  # 4x the size, 2x the impact


def test_accounting_identity_and_costs(market: MarketData) -> None:
    free = run_backtest(market, "min-variance", BacktestConfig(costs=CostModel(0.0, 0.0)))
    paid = run_backtest(market, "min-variance")
    big = run_backtest(market, "min-variance", BacktestConfig(capital=1e10))
    assert free.costs.sum() == 0.0
    np.testing.assert_allclose(free.weights, paid.weights)  # costs do not change the decisions
    growth = 1 + np.einsum("ij,ij->i", free.weights, market.returns[60:])
    np.testing.assert_allclose(free.values[1:] / free.values[:-1], growth, rtol=1e-12)
    assert paid.values[-1] < free.values[-1]
    assert big.costs.sum() / 1e10 > paid.costs.sum() / 1e8  # impact grows with size
    s = paid.summary()
    assert s["rebalances"] == len(range(0, 251 - 60, 21)) and s["max drawdown"] > 0
    assert paid.turnover[0] == pytest.approx(0.5)  # the first trade buys the book from cash


def test_backtest_errors(market: MarketData, dow30: Path, tmp_path: Path) -> None:
    with pytest.raises(InsufficientDataError, match="nothing to trade"):
        run_backtest(market, "equal-weight", BacktestConfig(lookback=300))
    with pytest.raises(MissingDataError, match="exactly one"):
        load_market()
    short = tmp_path / "volumes.csv"
    short.write_text("\n".join((dow30 / "volumes.csv").read_text().splitlines()[:50]) + "\n")
    with pytest.raises(MissingDataError, match="volumes: no row for date 2014-03"):
        load_market(dow30 / "returns.csv", volumes_path=short)
