"""Hard limits: fuzzed over random order flows and portfolios, an order over any limit is never approved
(and the verdict names the limit with its values); the kill switch stops everything; the batch path
gives the same verdicts as the single one; bad config and bad input are clear errors."""

from __future__ import annotations

import math
from collections import Counter, deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimera.model import Side
from kimera.risk import (
    LIMITS,
    OrderBatch,
    PortfolioSnapshot,
    Position,
    RiskConfig,
    RiskConfigError,
    RiskEngine,
    RiskInputError,
    RiskLimits,
    RiskParams,
    RiskWeights,
    make_market_state,
)
from kimera.strategy import OrderIntent
from tests.risk.helpers import BTC, btc_market, order

finite = dict(allow_nan=False, allow_infinity=False)
SEEN: Counter[str] = Counter()  # which limits the fuzzing actually broke


@st.composite
def limits(draw: st.DrawFn) -> RiskLimits:
    return RiskLimits(
        max_position=draw(st.floats(0.05, 5, **finite)),
        max_notional=draw(st.floats(500, 300_000, **finite)),
        max_orders=draw(st.integers(0, 6)),
        rate_window_ns=draw(st.integers(10**6, 2 * 10**9)),
        max_daily_loss=draw(st.floats(0, 30_000, **finite)),
        max_drawdown=draw(st.floats(0, 0.5, **finite)),
        min_confidence=draw(st.floats(0, 1, **finite)),
        max_contradiction=draw(st.floats(0, 1, **finite)),
        max_risk_score=draw(st.floats(0.2, 1, **finite)),
        allow_reducing=draw(st.booleans()),
    )


@st.composite
def portfolios(draw: st.DrawFn) -> PortfolioSnapshot:
    equity = draw(st.floats(1_000, 1_000_000, **finite))
    dd = draw(st.floats(0, 0.9, **finite))
    held = draw(st.integers(-300, 300)) * 10**6  # ±3 BTC in 0.01 steps
    pos = {BTC.key: Position(BTC, held, BTC.price("60000"))} if held else {}
    rets = np.array(draw(st.lists(st.floats(-0.01, 0.01, **finite), max_size=40)))
    return PortfolioSnapshot(pos, equity, equity / (1 - dd), draw(st.floats(-50_000, 50_000, **finite)), rets)


@st.composite
def flows(draw: st.DrawFn) -> list[tuple[int, OrderIntent]]:
    out = []
    t = 0
    for _ in range(draw(st.integers(1, 12))):
        t += draw(st.integers(0, 5 * 10**8))
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        qty = f"{draw(st.integers(1, 400)) / 100:.2f}"
        price = draw(st.one_of(st.none(), st.sampled_from(["58000", "60000", "61000", "64000"])))
        confs = tuple(draw(st.lists(st.floats(0, 1, **finite), max_size=4)))
        out.append((t, order(side, qty, price, draw(st.floats(0, 1, **finite)), draw(st.floats(0, 1, **finite)), confs)))
    return out


def _violations(it: OrderIntent, pf: PortfolioSnapshot, lim: RiskLimits, price: float, score: float) -> dict[str, tuple[float, float]]:
    """The limits this order breaks, computed here independently of the engine (rate and kill aside)."""
    held = pf.positions[BTC.key].quantity / 1e8 if BTC.key in pf.positions else 0.0
    new = held + int(it.side) * it.quantity / 1e8
    reducing = abs(new) < abs(held) and new * held >= 0
    exempt = lim.allow_reducing and reducing
    dd = (pf.equity_peak - pf.equity) / pf.equity_peak
    out = {}
    if abs(new) > lim.max_position:
        out["max_position"] = (abs(new), lim.max_position)
    if it.quantity / 1e8 * price > lim.max_notional:
        out["max_notional"] = (it.quantity / 1e8 * price, lim.max_notional)
    if -pf.daily_pnl > lim.max_daily_loss and not exempt:
        out["max_daily_loss"] = (-pf.daily_pnl, lim.max_daily_loss)
    if dd > lim.max_drawdown and not exempt:
        out["max_drawdown"] = (dd, lim.max_drawdown)
    if it.confidence < lim.min_confidence:
        out["min_confidence"] = (it.confidence, lim.min_confidence)
    if it.tension_rate > lim.max_contradiction:
        out["max_contradiction"] = (it.tension_rate, lim.max_contradiction)
    if score > lim.max_risk_score:
        out["max_risk_score"] = (score, lim.max_risk_score)
    return out


@settings(max_examples=250, deadline=None)
@given(limits(), portfolios(), flows())
def test_an_order_over_any_limit_is_never_approved(lim: RiskLimits, pf: PortfolioSnapshot, flow: list[tuple[int, OrderIntent]]) -> None:
    m = btc_market()
    eng = RiskEngine(RiskConfig(limits=lim))
    approved: deque[int] = deque()
    n_ok = 0
    for t, it in flow:
        v = eng.assess(it, m, pf, t)
        price = (m.ask if it.side is Side.BUY else m.bid) if it.price is None else it.price / 1e8
        want = _violations(it, pf, lim, price, v.score)
        while approved and approved[0] <= t - lim.rate_window_ns:
            approved.popleft()
        if len(approved) >= lim.max_orders:
            want["max_order_rate"] = (len(approved) + 1, lim.max_orders)
        got = {b.limit: (b.value, b.bound) for b in v.breaches}
        assert set(got) == set(want), (got, want)
        for name, (val, bound) in want.items():
            assert got[name][0] == pytest.approx(val, rel=1e-12) and got[name][1] == bound
        assert v.approved == (not want)
        assert [b.limit for b in v.breaches] == [n for n in LIMITS if n in want]
        if v.approved:
            approved.append(t)
            n_ok += 1
        else:
            assert "blocked" in v.explain() and all(n in v.explain() for n in want)
        SEEN.update(want.keys())
    assert eng.approved == n_ok and eng.assessed == len(flow)


def test_the_fuzzing_broke_every_limit() -> None:
    """Guards the test above against vacuity: each limit was broken in some generated order."""
    if not SEEN:
        pytest.skip("runs after test_an_order_over_any_limit_is_never_approved")
    assert set(SEEN) == set(LIMITS) - {"kill_switch"}, SEEN


@settings(max_examples=150, deadline=None)
@given(limits(), portfolios(), flows())
def test_batch_gives_the_same_verdicts_as_one_by_one(lim: RiskLimits, pf: PortfolioSnapshot, flow: list[tuple[int, OrderIntent]]) -> None:
    m = btc_market()
    intents = [it for _, it in flow]
    now = 5 * 10**9
    one = RiskEngine(RiskConfig(limits=lim))
    many = RiskEngine(RiskConfig(limits=lim))
    singles = [one.assess(it, m, pf, now) for it in intents]
    b = many.assess_batch(OrderBatch.from_intents(intents), m, pf, now)
    assert len(b) == len(singles)
    for k, v in enumerate(singles):
        assert bool(b.approved[k]) == v.approved
        assert b.score[k] == pytest.approx(v.score, abs=1e-12)
        np.testing.assert_allclose(b.components[k], v.components, atol=1e-12)
        assert [x.limit for x in b.breaches_of(k)] == [x.limit for x in v.breaches]
        for x, y in zip(b.breaches_of(k), v.breaches, strict=True):
            assert x.value == pytest.approx(y.value, rel=1e-12) and x.bound == y.bound
        assert b.suggested_quantity[k] == v.suggested_quantity
        assert b.concentration[k] == pytest.approx(v.concentration, rel=1e-12)
    assert many.approved == one.approved and many.blocked_by == one.blocked_by


@settings(max_examples=100, deadline=None)
@given(portfolios(), flows())
def test_the_kill_switch_stops_everything(pf: PortfolioSnapshot, flow: list[tuple[int, OrderIntent]]) -> None:
    m = btc_market()
    eng = RiskEngine()
    eng.kill("operator halt")
    assert eng.killed == "operator halt"
    for t, it in flow:
        v = eng.assess(it, m, pf, t)
        assert not v.approved and v.breached("kill_switch")
    b = eng.assess_batch(OrderBatch.from_intents([it for _, it in flow]), m, pf, 10**10)
    assert not b.approved.any() and b.breaches["kill_switch"].all()
    assert eng.approved == 0
    eng.resume()
    assert eng.killed is None
    ok = eng.assess(order(Side.BUY, "0.01"), m, PortfolioSnapshot(equity=1e5, equity_peak=1e5), 10**11)
    assert ok.approved, ok.explain()


def test_reducing_orders_pass_loss_and_drawdown_limits_only_when_allowed() -> None:
    m = btc_market()
    long = {BTC.key: Position(BTC, BTC.size("1"), BTC.price("60000"))}
    pf = PortfolioSnapshot(long, 50_000.0, 100_000.0, -20_000.0)
    for allow in (True, False):
        eng = RiskEngine(RiskConfig(limits=RiskLimits(max_daily_loss=1_000, max_drawdown=0.1, allow_reducing=allow)))
        sell = eng.assess(order(Side.SELL, "0.5"), m, pf, 0)
        buy = eng.assess(order(Side.BUY, "0.5"), m, pf, 0)
        flip = eng.assess(order(Side.SELL, "1.5"), m, pf, 0)  # crosses through zero: not a reduction
        assert sell.approved == allow
        assert not buy.approved and buy.breached("max_daily_loss") and buy.breached("max_drawdown")
        assert not flip.approved


def test_sizing_shrinks_with_risk_and_volatility_and_respects_limits() -> None:
    m = btc_market()
    pf = PortfolioSnapshot(equity=1e5, equity_peak=1e5)
    p = RiskParams(risk_budget=50_000.0, target_vol=0.2)
    base = RiskEngine(RiskConfig(params=p)).assess(order(), m, pf, 0)
    hot = make_market_state(BTC, 0, m.bid, m.ask, m.depth_bid, m.depth_ask, m.returns, np.ones(4), m.vol * 4, p)
    hotter = RiskEngine(RiskConfig(params=p)).assess(order(), hot, pf, 0)
    assert 0 < hotter.suggested_quantity < base.suggested_quantity
    capped = RiskEngine(RiskConfig(params=p, limits=RiskLimits(max_position=0.02))).assess(order(), m, pf, 0)
    assert 0 < capped.suggested_quantity <= BTC.size("0.02")
    want = p.risk_budget * (1 - base.score) * min(1.0, p.target_vol / m.vol) / m.ask
    want = min(want, m.depth_ask)
    assert base.suggested_quantity == int(want * 1e8)


def test_bad_config_and_bad_input_are_clear_errors() -> None:
    with pytest.raises(RiskConfigError, match="sum to 1"):
        RiskWeights(thermal=0.5)
    with pytest.raises(RiskConfigError, match="thermal"):
        RiskWeights(thermal=math.nan)
    with pytest.raises(RiskConfigError, match="max_drawdown"):
        RiskLimits(max_drawdown=1.5)
    with pytest.raises(RiskConfigError, match="max_orders"):
        RiskLimits(max_orders=-1)
    with pytest.raises(RiskConfigError, match="position_limits"):
        RiskLimits(position_limits={"X:Y": -1.0})
    with pytest.raises(RiskConfigError, match="vol_scale"):
        RiskParams(vol_scale=0.0)
    m = btc_market()
    with pytest.raises(RiskInputError, match="bid"):
        make_market_state(BTC, 0, math.nan, 1.0, 1, 1, np.zeros(3), np.zeros(3), 0.1, RiskParams())
    with pytest.raises(RiskInputError, match="crossed"):
        make_market_state(BTC, 0, 2.0, 1.0, 1, 1, np.zeros(3), np.zeros(3), 0.1, RiskParams())
    with pytest.raises(RiskInputError, match="NaN"):
        make_market_state(BTC, 0, 1.0, 1.1, 1, 1, np.array([0.1, math.nan, 0.2]), np.zeros(3), 0.1, RiskParams())
    eth = type(BTC)("BINANCE", "ETHUSDT")
    with pytest.raises(RiskInputError, match="ETHUSDT"):
        RiskEngine().assess(order(inst=eth), m, PortfolioSnapshot(), 0)
    with pytest.raises(RiskInputError, match="equity_peak"):
        PortfolioSnapshot(equity=10.0, equity_peak=5.0)
    with pytest.raises(RiskInputError, match="returns"):
        PortfolioSnapshot(returns=np.array([0.1, math.inf]))
    with pytest.raises(RiskInputError, match="keyed"):
        PortfolioSnapshot({"BINANCE:ETHUSDT": Position(BTC, 1, 1)})
    good = OrderBatch.from_intents([order()])
    with pytest.raises(RiskInputError, match="qty"):
        OrderBatch(good.side, np.array([-1.0]), good.price, good.confidence, good.cognitive, good.tension)
    with pytest.raises(RiskInputError, match="price"):
        OrderBatch(good.side, good.qty, np.array([-5.0]), good.confidence, good.cognitive, good.tension)
    with pytest.raises(RiskInputError, match="side"):
        OrderBatch(np.array([2], np.int8), good.qty, good.price, good.confidence, good.cognitive, good.tension)
    with pytest.raises(RiskInputError, match="one instrument"):
        OrderBatch.from_intents([order(), order(inst=eth)])


class LoosePortfolio:
    """A `PortfolioView` written without validation (as another package might): NaN must not slip through."""

    equity = 1e5
    equity_peak = 1e5

    def __init__(self, returns: object, daily_pnl: float = 0.0) -> None:
        self.positions: dict[str, Position] = {}
        self.returns = returns
        self.daily_pnl = daily_pnl


def test_a_nan_from_an_unvalidated_portfolio_view_is_an_error_not_an_approval() -> None:
    m = btc_market()
    eng = RiskEngine()
    rets = list(m.returns)
    rets[-5] = math.nan
    with pytest.raises(RiskInputError, match="NaN"):
        eng.assess(order(), m, LoosePortfolio(rets), 0)
    with pytest.raises(RiskInputError, match="NaN"):
        eng.assess_batch(OrderBatch.from_intents([order()]), m, LoosePortfolio(np.array(rets)), 0)
    with pytest.raises(RiskInputError, match="finite"):
        eng.assess(order(), m, LoosePortfolio(m.returns, daily_pnl=math.nan), 0)
    ok = eng.assess(order(), m, LoosePortfolio(list(m.returns)), 0)  # a plain list is accepted
    assert ok.rho == pytest.approx(1.0)  # the instrument against its own returns
    assert eng.approved == 1
