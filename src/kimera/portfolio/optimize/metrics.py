"""Ex-ante portfolio figures, annualised, and the Sharpe convention used by the CLI and the backtest.

Sharpe = (expected_return − r_f) / volatility with expected_return = μᵀw (μ = 252 × mean daily simple
return), volatility = √(wᵀΣw) (Σ = 252 × daily covariance) and r_f an annual rate, 0 by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.estimators import Moments


@dataclass(frozen=True)
class PortfolioStats:
    """Annualised expected return, volatility and Sharpe ratio (None when volatility is 0)."""

    expected_return: float
    volatility: float
    sharpe: float | None


def sharpe_ratio(expected_return: float, volatility: float, risk_free: float = 0.0) -> float | None:
    """(return − r_f) / volatility, None for a riskless portfolio."""
    if not volatility > 0:
        return None
    return (expected_return - risk_free) / volatility


def portfolio_stats(moments: Moments, weights: FloatArray, risk_free: float = 0.0) -> PortfolioStats:
    """The figures of `weights` under `moments`."""
    ret = float(moments.mu @ weights)
    vol = math.sqrt(max(moments.cov.variance(weights), 0.0))
    return PortfolioStats(ret, vol, sharpe_ratio(ret, vol, risk_free))
