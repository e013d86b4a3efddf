"""A rebalancing backtest of the optimisers with transaction costs charged by `CostModel`.

Timeline: on each rebalance day t (every `every` days from the first day after the `lookback` window)
the strategy sees only the returns of days t−lookback … t−1, sets target weights, and trades at the
start of day t from its drifted weights; costs use day t's dollar volume and σ (the simulator's market,
as in cvxportfolio) and are paid out of the portfolio. Between rebalances weights drift with returns.
The book starts in cash, so the first rebalance pays for building the portfolio. A window where a method
has no solution (e.g. maximum Sharpe with every mean below the risk-free rate) keeps the current weights
(equal weights if none yet) and is listed in `notes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from kimera.portfolio.optimize.api import METHODS, Options, optimize
from kimera.portfolio.optimize.costs import CostModel
from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import InsufficientDataError, PortfolioError, UnknownMethodError
from kimera.portfolio.optimize.estimators import DEFAULT_HALFLIFE, MIN_OBSERVATIONS, PERIODS_PER_YEAR
from kimera.portfolio.optimize.market import MarketData
from kimera.portfolio.optimize.metrics import sharpe_ratio

EQUAL_WEIGHT = "equal-weight"
STRATEGIES = (*METHODS, EQUAL_WEIGHT)


@dataclass(frozen=True)
class BacktestConfig:
    """Window, cadence, capital (dollars: impact depends on size), costs and optimiser settings."""

    lookback: int = 60
    every: int = 21
    capital: float = 1e8
    costs: CostModel = field(default_factory=CostModel)
    estimator: str = "sample"
    halflife: float = DEFAULT_HALFLIFE
    options: Options = field(default_factory=Options)


@dataclass(frozen=True)
class BacktestResult:
    """Daily path of one strategy: `values[0]` is the capital before the first day."""

    strategy: str
    dates: NDArray[np.datetime64]
    values: FloatArray
    weights: FloatArray  # held during each day (after any trade), days × N
    rebalance_rows: NDArray[np.int64]
    turnover: FloatArray  # one-way Σ|Δw|/2 per rebalance
    costs: FloatArray  # dollars per rebalance
    risk_free: float
    notes: list[str]

    @property
    def daily_returns(self) -> FloatArray:
        """Net daily returns (after costs)."""
        out: FloatArray = self.values[1:] / self.values[:-1] - 1.0
        return out

    @property
    def drawdown(self) -> FloatArray:
        """1 − value / running peak, per point of `values`."""
        out: FloatArray = 1.0 - self.values / np.maximum.accumulate(self.values)
        return out

    def summary(self) -> dict[str, float | int | str | None]:
        """Annualised return (252 × mean daily), volatility, Sharpe, max drawdown, turnover, costs."""
        r = self.daily_returns
        days = len(r)
        ann = float(r.mean() * PERIODS_PER_YEAR)
        vol = float(r.std(ddof=1) * math.sqrt(PERIODS_PER_YEAR)) if days > 1 else 0.0
        later = self.turnover[1:]  # the first rebalance builds the book from cash
        return {
            "strategy": self.strategy,
            "annual return": ann,
            "total return": float(self.values[-1] / self.values[0] - 1.0),
            "volatility": vol,
            "sharpe": sharpe_ratio(ann, vol, self.risk_free),
            "max drawdown": float(self.drawdown.max()),
            "turnover / yr": float(later.sum() * PERIODS_PER_YEAR / days) if days else 0.0,
            "costs $": float(self.costs.sum()),
            "costs bp/yr": float(self.costs.sum() / self.values[0] * 1e4 * PERIODS_PER_YEAR / days)
            if days
            else 0.0,
            "rebalances": len(self.rebalance_rows),
        }


def _target(strategy: str, window: FloatArray, cfg: BacktestConfig) -> FloatArray:
    """Target weights from the lookback window."""
    n = window.shape[1]
    if strategy == EQUAL_WEIGHT:
        return np.full(n, 1.0 / n)
    return optimize(window, strategy, cfg.options, estimator=cfg.estimator, halflife=cfg.halflife).weights


def run_backtest(market: MarketData, strategy: str, cfg: BacktestConfig | None = None) -> BacktestResult:
    """Simulate `strategy` (a method of METHODS or `equal-weight`) over `market`."""
    cfg = cfg or BacktestConfig()
    if strategy not in STRATEGIES:
        raise UnknownMethodError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    r = market.returns
    t_all, n = r.shape
    if cfg.lookback < MIN_OBSERVATIONS or cfg.every < 1:
        raise InsufficientDataError(f"lookback must be ≥ {MIN_OBSERVATIONS} and every ≥ 1")
    if t_all <= cfg.lookback:
        raise InsufficientDataError(
            f"{t_all} dates leave nothing to trade after a {cfg.lookback}-day lookback"
        )
    value = cfg.capital
    held = np.zeros(n)
    values, weights, rows, turnover, costs, notes = [value], [], [], [], [], []
    for t in range(cfg.lookback, t_all):
        if (t - cfg.lookback) % cfg.every == 0:
            try:
                target = _target(strategy, r[t - cfg.lookback : t], cfg)
            except PortfolioError as exc:
                target = held if held.any() else np.full(n, 1.0 / n)
                notes.append(f"{market.dates[t]}: kept weights ({exc})")
            sigma = (
                market.sigmas[t] if market.sigmas is not None else r[t - cfg.lookback : t].std(axis=0, ddof=1)
            )
            volume = market.volumes[t] if market.volumes is not None else None
            cost = float(cfg.costs.cost((target - held) * value, volume, sigma).sum())
            rows.append(t - cfg.lookback)
            turnover.append(0.5 * float(np.abs(target - held).sum()))
            costs.append(cost)
            value -= cost
            held = target
        weights.append(held)
        growth = float(held @ r[t])
        value *= 1.0 + growth
        held = held * (1.0 + r[t]) / (1.0 + growth)
        values.append(value)
    return BacktestResult(
        strategy,
        market.dates[cfg.lookback :],
        np.array(values),
        np.array(weights),
        np.array(rows, dtype=np.int64),
        np.array(turnover),
        np.array(costs),
        cfg.options.risk_free,
        notes,
    )
