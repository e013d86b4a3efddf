"""The risk gate's incremental portfolio view equals `portfolio_view` at every order of a real backtest."""

from __future__ import annotations

import numpy as np

from kimera.execution.risk_adapter import PortfolioViews, RiskEngineGate
from kimera.model import Event
from kimera.portfolio.accounting import portfolio_view
from kimera.runners.backtest import BacktestConfig, build_pipeline
from kimera.strategy.intent import OrderIntent
from kimera.venues.registry import resolve_instrument


def test_incremental_portfolio_view_equals_portfolio_view(capture: list[Event]) -> None:
    inst = resolve_instrument("BINANCE", "BTCUSDT")
    pipe = build_pipeline(BacktestConfig(), inst, None)
    gate = pipe.risk.second  # type: ignore[union-attr]
    assert isinstance(gate, RiskEngineGate)
    small = PortfolioViews(pipe.portfolio, max_returns=7)  # a window shorter than the curve, and growth
    small._eq = np.empty(2)
    checked = []
    check = gate.check

    def checking(intent: OrderIntent, now_ns: int) -> str | None:
        for views, n in ((gate.views, 512), (small, 7)):
            a, b = views.view(), portfolio_view(pipe.portfolio, n)
            assert a.positions == b.positions
            assert (a.equity, a.equity_peak, a.daily_pnl) == (b.equity, b.equity_peak, b.daily_pnl)
            assert a.returns.shape == b.returns.shape and np.array_equal(a.returns, b.returns)
        checked.append(len(pipe.portfolio.curve))
        return check(intent, now_ns)

    gate.check = checking  # type: ignore[method-assign]
    r = pipe.run(capture)
    assert r.orders > 50 and len(checked) > 50 and max(checked) > 520
