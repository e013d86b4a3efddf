"""Adapts `kimera.risk.RiskEngine` (issue 5) to the pipeline's `RiskGate`: market state from our synced book
and feature engine, portfolio from our accounting; a blocked verdict's explanation is the rejection reason."""

from __future__ import annotations

from collections.abc import Callable

from kimera.book import OrderBook
from kimera.features import FeatureHub
from kimera.portfolio.accounting import Portfolio, portfolio_view
from kimera.risk.engine import RiskEngine
from kimera.strategy.intent import OrderIntent


class RiskEngineGate:
    """`check(intent, now)` -> None (approved) or the verdict's explanation."""

    def __init__(self, engine: RiskEngine, book_for: Callable[[str], OrderBook | None], features: FeatureHub,
                 portfolio: Portfolio) -> None:
        self.engine = engine
        self.book_for = book_for
        self.features = features
        self.portfolio = portfolio
        self.scores: list[tuple[int, float]] = []

    def check(self, intent: OrderIntent, now_ns: int) -> str | None:
        """Assess one intent against the current book, features and portfolio."""
        key = intent.instrument.key
        book = self.book_for(key)
        if book is None:
            return "no trusted book for risk assessment"
        market = self.engine.market_state(book, self.features.engine(intent.instrument), now_ns)
        verdict = self.engine.assess(intent, market, portfolio_view(self.portfolio), now_ns)
        self.scores.append((now_ns, verdict.score))
        return None if verdict.approved else verdict.explain()
