"""Tick to decision: book update → features → member geoids → contradictions → decision → risk verdict."""

from __future__ import annotations

from typing import NamedTuple

from kimera.engine.books import BookUpdate
from kimera.features import FeatureConfig, FeatureEngine, MarketFeatures
from kimera.model import Side, Trade
from kimera.risk import PortfolioView, RiskEngine, RiskVerdict
from kimera.risk.market import market_state_from_book
from kimera.strategy import Ensemble, EnsembleDecision, OrderIntent, OrderType, TimeInForce

_new = tuple.__new__  # NamedTuple from a tuple in C


class TickResult(NamedTuple):
    """What one book update led to (intent and verdict are None when no order was proposed)."""

    features: MarketFeatures
    decision: EnsembleDecision
    intent: OrderIntent | None
    verdict: RiskVerdict | None


class TickPipeline:
    """One instrument's full decision path, synchronous, for live use and benchmarks.

    By default an order is proposed (and risk-assessed) the way the ensemble strategy emits intents: when
    its traded direction changes. With `every_trade_tick=True` an order is proposed and assessed on every
    tick where the ensemble wants to trade (the worst case for latency).
    """

    def __init__(
        self, ensemble: Ensemble, risk: RiskEngine, portfolio: PortfolioView, features: FeatureConfig | None = None,
        every_trade_tick: bool = False,
    ) -> None:
        self.ensemble = ensemble
        self.instrument = ensemble.instrument
        self.features = FeatureEngine(self.instrument, features)
        self.risk = risk
        self.portfolio = portfolio
        self.every_trade_tick = every_trade_tick

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
        direction = d.direction if d.trade else 0
        if self.every_trade_tick:
            intent = self._intent(d, u.recv_ns) if direction else None
        else:
            out = ens.intents_for(direction, d.confidence, d.signals, d.tension_rate, u.recv_ns, d.size_fraction)
            intent = out[0] if out else None
        if intent is None:
            return _new(TickResult, (f, d, None, None))
        risk = self.risk
        m = market_state_from_book(u.book, self.features, u.recv_ns, risk.config.params, int(intent.side))
        return _new(TickResult, (f, d, intent, risk.assess(intent, m, self.portfolio, u.recv_ns)))

    def _intent(self, d: EnsembleDecision, now_ns: int) -> OrderIntent | None:
        ens = self.ensemble
        lot = self.instrument.lot_size
        qty = int(ens.base_quantity * d.confidence * d.size_fraction) // lot * lot
        if qty <= 0:
            return None
        return OrderIntent(
            self.instrument, Side.BUY if d.direction > 0 else Side.SELL, qty, None, OrderType.MARKET,
            TimeInForce.IOC, ens.strategy_id, d.confidence, d.signals, d.tension_rate, now_ns,
        )
