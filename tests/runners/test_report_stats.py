"""Report statistics: Sharpe on a fixed 1 s grid (None for short runs), realised PnL on reductions, one clock."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kimera.execution.orders import OrderKind
from kimera.model import Instrument, Side
from kimera.runners.backtest import BacktestConfig, build_strategies, run_backtest
from kimera.runners.pipeline import RunResult, TradingPipeline
from kimera.runners.report import (
    SHARPE_BAR_NS,
    YEAR_NS,
    build_report,
    rejection_reason,
    resample_equity,
    run_span,
    sharpe_ratio,
    summary_stats,
)

S = 1_000_000_000
INST = Instrument("SIM", "BTCUSDT", 2, 5, taker_fee=0.001, maker_fee=0.0008)


def _result(pipe: TradingPipeline) -> RunResult:
    return RunResult(events=0, seconds=1.0, orders=len(pipe.om.orders), fills=pipe.om.fills,
                     rejections=len(pipe.record.rejections), portfolio=pipe.portfolio.summary(), journal_records=0)


def test_resample_carries_the_last_value_forward() -> None:
    ts = [10 * S, 10 * S + 300_000_000, 12 * S + 1, 13 * S]
    assert resample_equity(ts, [1.0, 2.0, 3.0, 4.0]).tolist() == [1.0, 2.0, 2.0, 4.0]
    assert resample_equity(list(reversed(ts)), [4.0, 3.0, 2.0, 1.0]).tolist() == [1.0, 2.0, 2.0, 4.0]


def test_sharpe_is_none_for_a_short_run_and_for_flat_equity() -> None:
    ts = [i * 100_000_000 for i in range(150)]  # 15 s, sampled every 100 ms
    sr, why = sharpe_ratio(ts, [100_000.0 + (i % 7) for i in range(150)])
    assert sr is None and why.startswith("n/a") and "14 bars" in why
    sr, why = sharpe_ratio([i * S for i in range(100)], [100_000.0] * 100)
    assert sr is None and "did not move" in why


def test_sharpe_matches_the_known_value_of_a_long_random_walk() -> None:
    """One day of 1 s returns with mean/sd = 0.01, sampled irregularly: annualised ~ 0.01 x sqrt(bars a year)."""
    rng = np.random.default_rng(3)
    n = 86_400
    rets = rng.normal(1e-6, 1e-4, n)
    eq = 100_000.0 * np.cumprod(1 + rets)
    ts = [i * S for i in range(n)]
    # extra samples inside each second must not change the 1 s bars
    extra_ts = [t + 400_000_000 for t in ts[:-1]]
    extra_eq = list(eq[:-1] * (1 + rng.normal(0, 1e-4, n - 1)))
    sr, why = sharpe_ratio(ts + extra_ts, list(eq) + extra_eq)
    assert sr is not None and math.isfinite(sr), why
    truth = rets[1:].mean() / rets[1:].std(ddof=1) * math.sqrt(YEAR_NS / SHARPE_BAR_NS)
    assert sr == pytest.approx(truth, rel=1e-6)
    assert abs(sr - 0.01 * math.sqrt(YEAR_NS / S)) < 4 * math.sqrt(YEAR_NS / S / n)  # within 4 standard errors
    assert "86,399 bars of 1 s" in why


def test_long_backtest_has_a_finite_sharpe_and_series_within_the_run() -> None:
    out = run_backtest(BacktestConfig(sim_events=20_000))
    pipe, res = out.pipeline, out.result
    st = summary_stats(pipe, res)
    sr = st["Sharpe (annualised)"]
    assert sr is not None and math.isfinite(sr), st["Sharpe basis"]
    eq = resample_equity([p.ts_ns for p in pipe.portfolio.curve], [p.equity for p in pipe.portfolio.curve])
    assert len(eq) - 1 >= 30
    rets = np.diff(eq) / eq[:-1]
    assert sr == pytest.approx(rets.mean() / rets.std(ddof=1) * math.sqrt(YEAR_NS / SHARPE_BAR_NS))
    assert np.sign(sr) == np.sign(eq[-1] - eq[0])
    t0, t1 = run_span(pipe, res)
    rec = pipe.record
    for name, ts in {"equity": [p.ts_ns for p in pipe.portfolio.curve], "mids": [m[0] for m in rec.mids],
                     "fills": [f[0] for f in rec.fills], "intents": [t[0] for t in rec.tension],
                     "rejections": [r[0] for r in rec.rejections]}.items():
        assert all(t0 <= t <= t1 for t in ts), name
    html = build_report(pipe, res).render()
    assert "Left out" not in html and "bars of 1 s" in html


def test_a_series_on_another_clock_is_left_out_and_reported() -> None:
    pipe = TradingPipeline(lambda v, s: INST, [])
    t = 1_723_161_600 * S
    pipe.portfolio.sample(t, force=True)
    pipe.portfolio.sample(t + 60 * S, force=True)
    pipe.record.fills.append((1_000_000, 60_000.0, 1, 0.01))  # stamped ~1 ms after the epoch
    html = build_report(pipe, _result(pipe)).render()
    assert "Left out" in html and "1 points of fills" in html


def _fill(pipe: TradingPipeline, side: Side, qty: str, price: str, fee: float, ts: int) -> None:
    o = pipe.om.create(INST, side, OrderKind.MARKET, INST.size(qty), None, ts)
    pipe.om.accept(o.client_id, ts)
    pipe.om.fill(o.client_id, INST.price(price), INST.size(qty), fee, "taker", ts)


def test_buy_then_sell_realises_the_hand_computed_pnl() -> None:
    pipe = TradingPipeline(lambda v, s: INST, build_strategies("obi", INST, INST.size("0.01")))
    _fill(pipe, Side.BUY, "0.02", "60000", 1.2, 1 * S)
    _fill(pipe, Side.BUY, "0.01", "60300", 0.6, 2 * S)  # average 60,100
    _fill(pipe, Side.SELL, "0.015", "60500", 0.9, 3 * S)  # (60,500 - 60,100) x 0.015 = +6.0
    _fill(pipe, Side.SELL, "0.025", "59900", 1.5, 4 * S)  # closes 0.015: -3.0; opens 0.01 short at 59,900
    pf = pipe.portfolio
    assert pf.realised == pytest.approx(3.0)
    assert pipe.record.closing == pytest.approx([6.0 - 0.9, -3.0 - 1.5])
    pos = pf.position(INST)
    assert pos.size == pytest.approx(-0.01) and pos.avg_price == pytest.approx(59_900.0)
    st = summary_stats(pipe, _result(pipe))
    assert st["realised PnL"] == pytest.approx(3.0) and st["win rate %"] == pytest.approx(50.0)
    assert st["fees"] == pytest.approx(4.2) and st["position-reducing fills"] == 2


def test_rejection_reasons_are_limit_names() -> None:
    assert rejection_reason("blocked: max_order_rate: 51 over 50") == "max_order_rate"
    assert rejection_reason("blocked: max_notional: 9 over 5; max_drawdown: 0.1 over 0.05") == \
        "max_notional+max_drawdown"
    assert rejection_reason("max_position: 600 beyond +/-500") == "max_position"
