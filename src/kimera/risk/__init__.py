"""Risk: six components in [0, 1], hard limits that block and say why, a kill switch, sizing, batches."""

from kimera.risk.batch import OrderBatch
from kimera.risk.config import COMPONENTS, RiskConfig, RiskLimits, RiskParams, RiskWeights
from kimera.risk.engine import RiskEngine
from kimera.risk.errors import RiskConfigError, RiskInputError
from kimera.risk.market import MarketState, depth_within, make_market_state, market_state_from_book
from kimera.risk.portfolio import PortfolioSnapshot, PortfolioView, Position
from kimera.risk.verdict import LIMITS, BatchVerdict, Breach, Components, RiskVerdict

__all__ = [
    "COMPONENTS",
    "LIMITS",
    "BatchVerdict",
    "Breach",
    "Components",
    "MarketState",
    "OrderBatch",
    "PortfolioSnapshot",
    "PortfolioView",
    "Position",
    "RiskConfig",
    "RiskConfigError",
    "RiskEngine",
    "RiskInputError",
    "RiskLimits",
    "RiskParams",
    "RiskVerdict",
    "RiskWeights",
    "depth_within",
    "make_market_state",
    "market_state_from_book",
]
