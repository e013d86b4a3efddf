"""Portfolio optimisation: estimators, the convex family through cvxpy, and annealed K-of-N selection."""

from kimera.portfolio.optimize.api import METHODS, Allocation, Options, optimize, optimize_moments
from kimera.portfolio.optimize.constraints import Constraints, Group
from kimera.portfolio.optimize.covariance import Covariance
from kimera.portfolio.optimize.errors import (
    InfeasibleError,
    InsufficientDataError,
    MissingDataError,
    NonPSDError,
    PortfolioError,
    UnknownMethodError,
)
from kimera.portfolio.optimize.estimators import (
    ESTIMATORS,
    Moments,
    estimate,
    ewma_moments,
    ledoit_wolf_moments,
    sample_moments,
)
from kimera.portfolio.optimize.metrics import PortfolioStats, portfolio_stats
from kimera.portfolio.optimize.prices import PriceTable, apply_gap_rule, load_prices
from kimera.portfolio.optimize.risk_parity import risk_contributions
from kimera.portfolio.optimize.selection import Selection, select_assets

__all__ = [
    "ESTIMATORS",
    "METHODS",
    "Allocation",
    "Constraints",
    "Covariance",
    "Group",
    "InfeasibleError",
    "InsufficientDataError",
    "MissingDataError",
    "Moments",
    "NonPSDError",
    "Options",
    "PortfolioError",
    "PortfolioStats",
    "PriceTable",
    "Selection",
    "UnknownMethodError",
    "apply_gap_rule",
    "estimate",
    "ewma_moments",
    "ledoit_wolf_moments",
    "load_prices",
    "optimize",
    "optimize_moments",
    "portfolio_stats",
    "risk_contributions",
    "sample_moments",
    "select_assets",
]
