"""Tick to decision on the real replay: the pipeline proposes exactly the ensemble strategy's intents and
every proposal gets a risk verdict; the worst-case mode assesses every tick where the ensemble trades."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kimera.book import OrderBook
from kimera.decision import TickPipeline
from kimera.engine import BookUpdate, ReplayEngine
from kimera.features import FeatureEngine, FeatureHub
from kimera.model import Side
from kimera.risk import OrderBatch, PortfolioSnapshot, RiskConfig, RiskEngine, RiskInputError, RiskLimits
from kimera.strategy import (
    Ensemble,
    FlowMomentum,
    ImbalanceMomentum,
    MeanReversion,
    OrderIntent,
    OrderType,
    StrategyRunner,
    TimeInForce,
)
from kimera.venues.registry import resolve_instrument
from tests.strategy.replay import btc_replay

INST = resolve_instrument("BINANCE", "BTCUSDT")
Q = INST.size("0.01")


def make() -> Ensemble:
    return Ensemble(INST, [ImbalanceMomentum(INST, Q), MeanReversion(INST, Q), FlowMomentum(INST, Q)], Q)


def run(every: bool) -> list[object]:
    rec = btc_replay()
    pf = PortfolioSnapshot(equity=1e5, equity_peak=1e5)
    pipe = TickPipeline(make(), RiskEngine(RiskConfig(limits=RiskLimits(max_orders=3))), pf, every_trade_tick=every)
    out: list[object] = []
    eng = ReplayEngine(resolve_instrument)
    eng.bus.subscribe(BookUpdate, lambda u: out.append(pipe.on_book(u)))
    eng.bus.subscribe(type(rec.trades[0]), pipe.on_trade)
    eng.run([rec.events])
    return [r for r in out if r is not None]


def test_pipeline_proposes_the_strategys_intents_and_assesses_each() -> None:
    rec = btc_replay()
    res = run(every=False)
    assert len(res) == len(rec.feats)
    assert [r.features for r in res] == rec.feats  # type: ignore[attr-defined]
    want: list[OrderIntent] = []
    eng = ReplayEngine(resolve_instrument)
    StrategyRunner(FeatureHub(resolve_instrument), [make()], want.append).attach(eng.bus)
    eng.run([rec.events])
    got = [r.intent for r in res if r.intent is not None]  # type: ignore[attr-defined]
    assert got == want and len(got) > 50
    verdicts = [r.verdict for r in res if r.intent is not None]  # type: ignore[attr-defined]
    assert all(v is not None for v in verdicts)
    # three approvals per second at most: the order-rate limit is live in the pipeline
    approved_t = [r.intent.created_ns for r in res if r.verdict is not None and r.verdict.approved]  # type: ignore[attr-defined]
    assert 0 < len(approved_t) < len(got)
    t = np.array(approved_t)
    assert all(np.sum((t > x - 10**9) & (t <= x)) <= 3 for x in t)


def test_worst_case_mode_assesses_every_trading_tick() -> None:
    res = run(every=True)
    trading = [r for r in res if r.decision.trade]  # type: ignore[attr-defined]
    assessed = [r for r in res if r.verdict is not None]  # type: ignore[attr-defined]
    assert len(trading) > 1000
    assert len(assessed) >= 0.95 * len(trading)  # the rest sized to zero lots
    assert all(r.intent.side == (Side.BUY if r.decision.direction > 0 else Side.SELL) for r in assessed)  # type: ignore[attr-defined]


def test_a_one_sided_market_state_refuses_the_other_side() -> None:
    rec = btc_replay()
    fe = FeatureEngine(INST)
    last: list[OrderBook] = []

    def on_book(u: BookUpdate) -> None:
        fe.on_book(u.book, u.recv_ns)
        last[:] = [u.book]

    eng = ReplayEngine(resolve_instrument)
    eng.bus.subscribe(BookUpdate, on_book)
    eng.run([rec.events[:20000]])
    book = last[0]
    risk = RiskEngine()
    m = risk.market_state(book, fe, 1, side=1)
    both = risk.market_state(book, fe, 1)
    assert math.isnan(m.depth_bid) and m.depth_ask == both.depth_ask
    pf = PortfolioSnapshot(equity=1e5, equity_peak=1e5)
    buy = OrderBatch.from_intents([rec_intent(Side.BUY)])
    assert risk.assess(rec_intent(Side.BUY), m, pf, 1).components.liquidity == pytest.approx(
        risk.assess(rec_intent(Side.BUY), both, pf, 1).components.liquidity
    )
    assert risk.assess_batch(buy, m, pf, 1).approved.shape == (1,)
    with pytest.raises(RiskInputError, match="bid side was not measured"):
        risk.assess(rec_intent(Side.SELL), m, pf, 1)
    with pytest.raises(RiskInputError, match="not measured"):
        risk.assess_batch(OrderBatch.from_intents([rec_intent(Side.SELL)]), m, pf, 1)


def rec_intent(side: Side) -> OrderIntent:
    return OrderIntent(INST, side, Q, None, OrderType.MARKET, TimeInForce.IOC, "t", 0.9)
