"""Adapts `kimera.risk.RiskEngine` (issue 5) to the pipeline's `RiskGate`: market state from our synced book
and feature engine, portfolio from our accounting; a blocked verdict's explanation is the rejection reason."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from kimera.book import OrderBook
from kimera.features import FeatureHub
from kimera.portfolio.accounting import Portfolio
from kimera.risk.engine import RiskEngine
from kimera.risk.portfolio import PortfolioSnapshot, Position
from kimera.strategy.intent import OrderIntent


class PortfolioViews:
    """`kimera.portfolio.accounting.portfolio_view(pf, max_returns)`, equal value for value, without
    re-reading the whole equity curve at every order: the curve is append-only, so its equities are copied
    into a growing array once each (`tests/execution/test_risk_adapter.py` checks equality on a backtest)."""

    def __init__(self, portfolio: Portfolio, max_returns: int = 512) -> None:
        self.portfolio = portfolio
        self.max_returns = max_returns
        self._eq = np.empty(1024)
        self._n = 0

    def _equities(self) -> npt.NDArray[np.float64]:
        curve = self.portfolio.curve
        n = len(curve)
        if n > self._n:
            if n > self._eq.shape[0]:
                grown = np.empty(max(n, 2 * self._eq.shape[0]))
                grown[: self._n] = self._eq[: self._n]
                self._eq = grown
            self._eq[self._n : n] = [pt.equity for pt in curve[self._n : n]]
            self._n = n
        return self._eq[: self._n]

    def view(self) -> PortfolioSnapshot:
        """The portfolio as the risk engine reads it now."""
        pf = self.portfolio
        positions = {
            k: Position(p.instrument, p.qty, round(p.avg_price * p.instrument.price_scale))
            for k, p in pf.positions.items() if p.qty
        }
        eq = pf.equity()
        eqs = self._equities()
        curve = np.append(eqs[max(0, eqs.shape[0] - self.max_returns - 1) :], eq)
        rets = np.diff(curve) / curve[:-1] if len(curve) > 1 and (curve[:-1] > 0).all() else np.zeros(0)
        return PortfolioSnapshot(positions, eq, max(pf.peak, eq), eq - pf.initial_cash, rets)


class RiskEngineGate:
    """`check(intent, now)` -> None (approved) or the verdict's explanation."""

    def __init__(self, engine: RiskEngine, book_for: Callable[[str], OrderBook | None], features: FeatureHub,
                 portfolio: Portfolio) -> None:
        self.engine = engine
        self.book_for = book_for
        self.features = features
        self.portfolio = portfolio
        self.views = PortfolioViews(portfolio)
        self.scores: list[tuple[int, float]] = []

    def check(self, intent: OrderIntent, now_ns: int) -> str | None:
        """Assess one intent against the current book (only the side it takes), features and portfolio."""
        key = intent.instrument.key
        book = self.book_for(key)
        if book is None:
            return "no trusted book for risk assessment"
        market = self.engine.market_state(book, self.features.engine(intent.instrument), now_ns, int(intent.side))
        verdict = self.engine.assess(intent, market, self.views.view(), now_ns)
        self.scores.append((now_ns, verdict.score))
        return None if verdict.approved else verdict.explain()
