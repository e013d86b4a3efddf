"""Tick to decision: book update → features → member geoids → contradictions → decision → risk verdict."""

from __future__ import annotations

from typing import NamedTuple

from kimera.engine.books import BookUpdate
from kimera.features import FeatureConfig, FeatureEngine, MarketFeatures
from kimera.model import Side, Trade
from kimera.risk import PortfolioView, RiskEngine, RiskVerdict
from kimera.strategy import Ensemble, EnsembleDecision, OrderIntent, OrderType, TimeInForce


class TickResult(NamedTuple):
    """What one book update led to (intent and verdict are None when the ensemble abstains)."""

    features: MarketFeatures
    decision: EnsembleDecision
    intent: OrderIntent | None
    verdict: RiskVerdict | None


class TickPipeline:
    """One instrument's full decision path, synchronous and allocation-light, for live use and benchmarks."""

    def __init__(
        self, ensemble: Ensemble, risk: RiskEngine, portfolio: PortfolioView, features: FeatureConfig | None = None
    ) -> None:
        self.ensemble = ensemble
        self.instrument = ensemble.instrument
        self.features = FeatureEngine(self.instrument, features)
        self.risk = risk
        self.portfolio = portfolio

    def on_trade(self, t: Trade) -> None:
        """Fold a trade into the flow features."""
        self.features.on_trade(t)

    def on_book(self, u: BookUpdate) -> TickResult | None:
        """Run the whole path for one book update (None while the book has an empty side)."""
        f = self.features.on_book(u.book, u.recv_ns)
        if f is None:
            return None
        ens = self.ensemble
        d = ens.decide(f)
        if not d.trade:
            return TickResult(f, d, None, None)
        inst = self.instrument
        lot = inst.lot_size
        qty = int(ens.base_quantity * d.confidence * d.size_fraction) // lot * lot
        if qty <= 0:
            return TickResult(f, d, None, None)
        intent = OrderIntent(
            inst, Side.BUY if d.direction > 0 else Side.SELL, qty, None, OrderType.MARKET, TimeInForce.IOC,
            ens.strategy_id, d.confidence, d.signals, d.tension_rate, u.recv_ns,
        )
        m = self.risk.market_state(u.book, self.features, u.recv_ns)
        return TickResult(f, d, intent, self.risk.assess(intent, m, self.portfolio, u.recv_ns))
