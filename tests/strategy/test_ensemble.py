"""The ensemble: abstains when its members contradict, trades when they agree; its tiny-n tension path
equals the cognition engine; real contradictions show up on the real replay."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimera.cognition import TensionWeights, detect_tensions, detect_tensions_reference
from kimera.cognition.pulse import Decision
from kimera.features import MarketFeatures
from kimera.strategy import (
    Ensemble,
    FlowMomentum,
    GeoidDraft,
    ImbalanceMomentum,
    MeanReversion,
    Signal,
    all_pair_tensions,
    member_draft,
)
from kimera.strategy.tension import f32
from kimera.venues.registry import resolve_instrument
from tests.strategy.replay import btc_replay

INST = resolve_instrument("BINANCE", "BTCUSDT")
Q = INST.size("0.01")


def feats(imb: float = 0.0, z: float = 0.0, flow: float = 0.0, trend: float = 0.0, vol: float = 0.3) -> MarketFeatures:
    return MarketFeatures(INST.key, 1_000, 60_000.0, 0.01, imb, imb, imb, 0.0, 0.0, trend, vol, z, flow, 1.0, 500)


def ensemble(**kw: object) -> Ensemble:
    members = [ImbalanceMomentum(INST, Q), MeanReversion(INST, Q), FlowMomentum(INST, Q)]
    return Ensemble(INST, members, Q, **kw)  # type: ignore[arg-type]


def test_abstains_when_members_contradict() -> None:
    # bids dominate and buyers take (momentum: buy) while the price is 4 std above its mean (reversion: sell)
    d = ensemble().decide(feats(imb=0.9, z=4.0, flow=0.95))
    assert [s.direction for s in d.signals] == [1, -1, 1]
    assert not d.trade and d.size_fraction == 0.0
    assert d.tension_rate == pytest.approx(2 / 3)
    assert d.pulse >= 0.7 and d.decision is not Decision.SURGE
    # two members only, head to head: collapse
    two = Ensemble(INST, [ImbalanceMomentum(INST, Q), MeanReversion(INST, Q)], Q)
    d2 = two.decide(feats(imb=0.9, z=4.0))
    assert d2.decision is Decision.COLLAPSE and not d2.trade


def test_trades_when_members_agree() -> None:
    ens = ensemble()
    d = ens.decide(feats(imb=0.9, z=-4.0, flow=0.95))  # every member says buy
    assert [s.direction for s in d.signals] == [1, 1, 1]
    assert d.trade and d.direction == 1
    assert d.tension_rate == 0.0 and d.pulse < 0.3
    assert d.size_fraction == pytest.approx(1.0)
    out = ens.on_book(None, feats(imb=0.9, z=-4.0, flow=0.95))  # type: ignore[arg-type]
    assert len(out) == 1 and out[0].side > 0 and out[0].quantity > 0
    sell = ensemble().decide(feats(imb=-0.9, z=4.0, flow=-0.95))
    assert sell.trade and sell.direction == -1


def test_sizes_down_under_tension_when_a_stable_majority_remains() -> None:
    # three followers buy hard, reversion dissents at its threshold: tension (pulse >= 0.7), stability > 0.7
    members = [
        ImbalanceMomentum(INST, Q), FlowMomentum(INST, Q), ImbalanceMomentum(INST, Q, threshold=0.4, strategy_id="obi2"),
        MeanReversion(INST, Q),
    ]
    ens = Ensemble(INST, members, Q)
    d = ens.decide(feats(imb=0.9, z=2.0, flow=0.95))
    assert [s.direction for s in d.signals] == [1, 1, 1, -1]
    assert d.tension_rate == pytest.approx(3 / 6)
    assert d.decision is Decision.SURGE and d.trade and d.direction == 1
    agree = ens.decide(feats(imb=0.9, z=-4.0, flow=0.95))
    assert agree.trade and 0.0 < d.size_fraction < 0.5 * agree.size_fraction


def _assert_same_as_engine(drafts: list[GeoidDraft], w: TensionWeights) -> None:
    fast = all_pair_tensions(drafts, w)
    geoids = [d.to_geoid() for d in drafts]
    eng = detect_tensions(geoids, threshold=0.0, weights=w)
    ref = detect_tensions_reference(geoids, threshold=0.0, weights=w)
    assert len(fast) == len(eng) == len(ref) == len(drafts) * (len(drafts) - 1) // 2
    for p, e, r in zip(fast, eng, ref, strict=True):
        assert (drafts[p.i].geoid_id, drafts[p.j].geoid_id) == (e.geoid_a, e.geoid_b) == (r.geoid_a, r.geoid_b)
        for a, b, c in ((p.tension, e.tension, r.tension), (p.E, e.E, r.E), (p.L, e.L, r.L), (p.S, e.S, r.S)):
            assert abs(a - b) <= 1e-9 and abs(a - c) <= 1e-9


def test_fast_path_equals_the_engine_on_real_replay_steps() -> None:
    rec = btc_replay()
    ens = ensemble()
    w = TensionWeights()
    tense = 0
    for f in rec.feats[300::61]:
        d = ens.decide(f)
        _assert_same_as_engine(list(d.drafts), w)
        geoids = [g.to_geoid() for g in d.drafts]
        n_eng = len(detect_tensions(geoids, threshold=ens.threshold))
        assert d.tension_rate == pytest.approx(n_eng / 3)
        tense += n_eng > 0
    assert tense > 0  # real contradictions between members happen on the real market


sym_values = st.one_of(st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.sampled_from(["Up", "up", "down", "x"]))


@st.composite
def drafts(draw: st.DrawFn) -> list[GeoidDraft]:
    n = draw(st.integers(2, 6))
    dim = draw(st.integers(1, 5))
    out = []
    for k in range(n):
        keys = draw(st.lists(st.sampled_from("abcdef"), max_size=4, unique=True))
        sem = {key: draw(st.floats(0, 5, allow_nan=False)) for key in keys}
        sym = draw(st.dictionaries(st.sampled_from(["direction", "regime", "flag"]), sym_values, max_size=3))
        emb = draw(st.one_of(st.none(), st.lists(st.floats(-3, 3, allow_nan=False), min_size=dim, max_size=dim)))
        out.append(GeoidDraft(f"g{k}", sem, sym, None if emb is None else f32(emb), {}))
    return out


@settings(max_examples=150, deadline=None)
@given(drafts(), st.sampled_from([TensionWeights(), TensionWeights(0.5, 0.25, 0.25), TensionWeights(0.0, 0.0, 1.0)]))
def test_fast_path_equals_the_engine_on_random_geoids(ds: list[GeoidDraft], w: TensionWeights) -> None:
    _assert_same_as_engine(ds, w)


def test_member_geoid_encodes_the_stance() -> None:
    up = member_draft(Signal("a", 1, 2.0, 1.0), "BINANCE")
    down = member_draft(Signal("b", -1, -2.0, 1.0), "BINANCE")
    same = member_draft(Signal("c", 1, 2.0, 1.0), "BINANCE")
    (p_opp,) = all_pair_tensions([up, down], TensionWeights())
    (p_same,) = all_pair_tensions([up, same], TensionWeights())
    assert p_opp.E == 1.0 and p_opp.S == 1.0 and p_opp.L == 0.0
    assert p_same.tension == pytest.approx(0.0, abs=1e-7)
    assert up.to_geoid().embedding is not None and np.all(np.isfinite(up.to_geoid().embedding))


def test_bad_ensemble_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        Ensemble(INST, [ImbalanceMomentum(INST, Q)], Q)
    with pytest.raises(ValueError, match="distinct"):
        Ensemble(INST, [ImbalanceMomentum(INST, Q), ImbalanceMomentum(INST, Q)], Q)
    with pytest.raises(ValueError, match="threshold"):
        ensemble(threshold=1.5)


def _traded(d: object) -> int:
    return d.direction if d.trade else 0  # type: ignore[attr-defined]


def test_traded_direction_from_scores_equals_decide_on_every_real_replay_step() -> None:
    rec = btc_replay()
    ens = ensemble()
    nonzero = 0
    for f in rec.feats:
        fast = ens.traded_direction([m.score(f) for m in ens.members])  # type: ignore[attr-defined]
        assert fast == _traded(ens.decide(f))
        nonzero += fast != 0
    assert nonzero > 0


scores = st.one_of(st.floats(-5, 5, allow_nan=False), st.sampled_from([-2.0, -1.0, -0.999, 0.0, 0.999, 1.0, 2.0]))


@settings(max_examples=400, deadline=None)
@given(st.lists(scores, min_size=3, max_size=3),
       st.sampled_from([TensionWeights(), TensionWeights(0.5, 0.25, 0.25), TensionWeights(0.0, 0.0, 1.0),
                        TensionWeights(0.9, 0.05, 0.05)]),
       st.sampled_from([0.3, 0.1, 0.05, 0.9]))
def test_traded_direction_equals_decide_on_random_scores(sc: list[float], w: TensionWeights, calm: float) -> None:
    ens = ensemble(weights=w, calm_pulse=calm)
    signals = tuple(Signal(m.strategy_id, *_dc(s)) for m, s in zip(ens.members, sc, strict=True))
    drafts_ = tuple(member_draft(s, INST.venue) for s in signals)
    assert ens.traded_direction(sc) == _traded(ens.decide_drafts(signals, drafts_))


def _dc(score: float) -> tuple[int, float, float]:
    a = abs(score)
    return ((1 if score > 0 else -1) if a >= 1.0 else 0), score, min(1.0, a * 0.5)


def test_fast_on_book_emits_the_same_intents_and_last_decision_as_the_full_path() -> None:
    rec = btc_replay()
    fast, full = ensemble(), ensemble()
    full._scores = None  # the general path: decide() on every step
    n = 0
    for f in rec.feats:
        a, b = fast.on_book(None, f), full.on_book(None, f)  # type: ignore[arg-type]
        assert a == b
        n += len(a)
    assert n > 0
    assert fast.last == full.last


@settings(max_examples=300, deadline=None)
@given(st.lists(scores, min_size=2, max_size=5),
       st.sampled_from([TensionWeights(), TensionWeights(0.5, 0.25, 0.25), TensionWeights(0.0, 0.0, 1.0)]))
def test_member_pair_tensions_equal_the_general_path(sc: list[float], w: TensionWeights) -> None:
    from kimera.strategy.ensemble import member_pair_tensions

    signals = [Signal(f"m{k}", *_dc(s)) for k, s in enumerate(sc)]
    ds = [member_draft(s, INST.venue) for s in signals]
    assert member_pair_tensions(signals, ds, w) == all_pair_tensions(ds, w)


def test_member_pair_tensions_equal_the_general_path_on_the_replay() -> None:
    from kimera.strategy.ensemble import member_pair_tensions

    ens = ensemble()
    for f in btc_replay().feats[::7]:
        d = ens.decide(f)
        assert list(d.pairs) == all_pair_tensions(d.drafts, ens.weights)
        assert member_pair_tensions(d.signals, d.drafts, ens.weights) == list(d.pairs)


def test_surge_region_assumed_by_the_fast_path() -> None:
    from kimera.cognition.pulse import decide
    from kimera.strategy import ensemble as E

    grid = [k / 400 for k in range(401)]
    for s in grid:
        for p in grid:
            if s <= E._NEVER_SURGE_AT_OR_BELOW:
                assert decide(p, s) is not Decision.SURGE
            if s > E._ALWAYS_SURGE_ABOVE and p >= E._SURGE_MIN_PULSE:
                assert decide(p, s) is Decision.SURGE


def _general_decision(ens: Ensemble, f: MarketFeatures) -> object:
    """The ensemble's decision by the general path: member `signal()` → `member_draft` → `all_pair_tensions`."""
    signals = tuple(m.signal(f) for m in ens.members)
    drafts_ = tuple(member_draft(s, INST.venue) for s in signals)
    return ens.decide_drafts(signals, drafts_)


def test_one_pass_decide_equals_the_general_path_on_every_real_replay_step() -> None:
    ens = ensemble()
    assert ens._scores is not None  # the one-pass path is the one under test
    for f in btc_replay().feats:
        assert ens.decide(f) == _general_decision(ens, f)


@settings(max_examples=300, deadline=None)
@given(st.lists(scores, min_size=3, max_size=3),
       st.sampled_from([TensionWeights(), TensionWeights(0.5, 0.25, 0.25), TensionWeights(0.0, 0.0, 1.0),
                        TensionWeights(0.9, 0.05, 0.05)]),
       st.sampled_from([0.3, 0.1, 0.05, 0.9]), st.sampled_from([0.4, 0.0, 1.0, 2 / 3]))
def test_one_pass_decide_equals_the_general_path_on_random_scores(
    sc: list[float], w: TensionWeights, calm: float, thr: float
) -> None:
    ens = ensemble(weights=w, calm_pulse=calm, threshold=thr)
    f = feats(imb=sc[0] * 0.3, z=-sc[1] * 2.0, flow=sc[2] * 0.5)
    assert ens.decide(f) == _general_decision(ens, f)


def test_inlined_decision_equals_cognition_decide() -> None:
    from kimera.cognition.pulse import decide
    from kimera.strategy.ensemble import _decision

    grid = [k / 400 for k in range(401)] + [0.3 - 1e-12, 0.6 + 1e-12, 0.7 - 1e-12, 0.7 + 1e-12, 5e-324]
    for s in grid:
        for p in grid:
            assert _decision(p, s) is decide(p, s)
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError):
            _decision(bad, 0.5)
        with pytest.raises(ValueError):
            _decision(0.5, bad)


def test_lazy_geoids_and_pairs_are_those_of_the_general_path_and_count_in_equality() -> None:
    ens = ensemble()
    feats_ = btc_replay().feats
    a, b = ens.decide(feats_[400]), _general_decision(ens, feats_[400])
    assert a.basis != b.basis  # one kept stances, the other was given its geoids and pairs
    assert a.drafts == b.drafts and a.pairs == b.pairs and a == b
    assert a.in_tension(0.0) == list(b.pairs)
    # same verdict fields but other member stances: not equal (the geoids are part of the decision)
    c = ens.decide(feats(imb=0.9, z=-4.0, flow=0.95))
    d = ens.decide(feats(imb=0.95, z=-4.0, flow=0.95))
    assert (c.trade, c.direction) == (d.trade, d.direction) and c.drafts != d.drafts and c != d
    assert a != "a decision"
