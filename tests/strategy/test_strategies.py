"""Strategy interface, intents, member signals and the bus runner on the real replay."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import pytest

from kimera.engine import ReplayEngine
from kimera.features import FeatureHub
from kimera.model import Bar, Side
from kimera.strategy import (
    Ensemble,
    FlowMomentum,
    ImbalanceMomentum,
    IntentError,
    MeanReversion,
    OrderIntent,
    OrderType,
    Signal,
    Strategy,
    StrategyRunner,
    TimeInForce,
    Timer,
)
from kimera.venues.registry import resolve_instrument
from tests.strategy.replay import btc_replay

INST = resolve_instrument("BINANCE", "BTCUSDT")
Q = INST.size("0.01")


def intent(**kw: object) -> OrderIntent:
    base: dict[str, object] = dict(
        instrument=INST, side=Side.BUY, quantity=Q, price=None, order_type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC, strategy_id="t", confidence=0.5,
    )
    base.update(kw)
    return OrderIntent(**base)  # type: ignore[arg-type]


def test_intent_validation_names_the_problem() -> None:
    assert intent().qty == pytest.approx(0.01)
    with pytest.raises(IntentError, match="quantity"):
        intent(quantity=-5)
    with pytest.raises(IntentError, match="quantity"):
        intent(quantity=0)
    with pytest.raises(IntentError, match="market order has no price"):
        intent(price=INST.price("60000"))
    with pytest.raises(IntentError, match="limit order needs"):
        intent(order_type=OrderType.LIMIT, price=None)
    with pytest.raises(IntentError, match="confidence"):
        intent(confidence=math.nan)
    with pytest.raises(IntentError, match="tension_rate"):
        intent(tension_rate=1.5)
    with pytest.raises(IntentError, match="direction"):
        Signal("s", 2, 0.0, 0.5)
    with pytest.raises(IntentError, match="score"):
        Signal("s", 1, math.inf, 0.5)
    lim = intent(order_type=OrderType.LIMIT, price=INST.price("60000.5"), time_in_force=TimeInForce.POST_ONLY)
    assert lim.price == 6_000_050_000_000


class Recorder(Strategy):
    """Counts callbacks and fires a 1-second timer."""

    strategy_id = "recorder"

    def __init__(self) -> None:
        self.books = self.trades = 0
        self.fired: list[int] = []

    def on_book(self, update: object, features: object) -> Sequence[OrderIntent]:
        self.books += 1
        return ()

    def on_trade(self, trade: object) -> Sequence[OrderIntent]:
        self.trades += 1
        return ()

    def timers(self) -> Sequence[Timer]:
        return (Timer("second", 1_000_000_000),)

    def on_timer(self, name: str, now_ns: int) -> Sequence[OrderIntent]:
        assert name == "second"
        self.fired.append(now_ns)
        return ()


def test_runner_drives_every_strategy_and_edge_triggers_intents_on_the_real_replay() -> None:
    rec = btc_replay()
    members = [ImbalanceMomentum(INST, Q), MeanReversion(INST, Q), FlowMomentum(INST, Q)]
    ens = Ensemble(INST, [ImbalanceMomentum(INST, Q), MeanReversion(INST, Q), FlowMomentum(INST, Q)], Q)
    recorder = Recorder()
    got: list[OrderIntent] = []
    eng = ReplayEngine(resolve_instrument)
    runner = StrategyRunner(FeatureHub(resolve_instrument), [*members, ens, recorder], got.append)
    runner.attach(eng.bus)
    eng.run([rec.events])
    assert recorder.books == len(rec.feats) and recorder.trades == len(rec.trades)
    span = rec.events[-1].recv_ns - rec.events[0].recv_ns  # type: ignore[attr-defined]
    assert abs(len(recorder.fired) - span // 1_000_000_000) <= 1
    assert all(b - a == 1_000_000_000 for a, b in pairwise(recorder.fired))
    by: dict[str, list[OrderIntent]] = {}
    for it in got:
        by.setdefault(it.strategy_id, []).append(it)
    assert set(by) == {"obi_momentum", "mean_reversion", "flow_momentum", "ensemble"}
    for sid, its in by.items():
        assert {Side.BUY, Side.SELL} <= {i.side for i in its}, sid  # both directions on 11 real minutes
        assert all(i.quantity > 0 and i.instrument == INST for i in its)
        assert all(a.created_ns <= b.created_ns for a, b in pairwise(its))
    assert all(len(i.signals) == 3 for i in by["ensemble"])
    assert runner.intents == len(got)


def test_signals_follow_their_definitions() -> None:
    rec = btc_replay()
    mom, mr, fl = ImbalanceMomentum(INST, Q), MeanReversion(INST, Q), FlowMomentum(INST, Q)
    for f in rec.feats[::37]:
        s = mr.signal(f)
        assert s.direction == (0 if abs(f.zscore) < 2.0 else (-1 if f.zscore > 0 else 1))
        s = fl.signal(f)
        assert s.direction == (0 if abs(f.flow) < 0.5 else (1 if f.flow > 0 else -1))
        s = mom.signal(f)
        vetoed = f.vol > mom.max_vol or (f.trend > 1e-4 and f.imb_l5 < 0) or (f.trend < -1e-4 and f.imb_l5 > 0)
        want = 0 if vetoed or abs(f.imb_l5) < 0.3 else (1 if f.imb_l5 > 0 else -1)
        assert s.direction == want
        assert 0.0 <= s.confidence <= 1.0


def test_on_bar_default_and_bad_strategy_config() -> None:
    bar = Bar("BINANCE", "BTCUSDT", 1, 2, 1, 2, 3, 0, 60)
    assert ImbalanceMomentum(INST, Q).on_bar(bar) == ()
    with pytest.raises(ValueError, match="base_quantity"):
        ImbalanceMomentum(INST, 0)
    with pytest.raises(ValueError, match="threshold"):
        ImbalanceMomentum(INST, Q, threshold=0.0)
    with pytest.raises(ValueError, match="z_entry"):
        MeanReversion(INST, Q, z_entry=math.nan)
