"""Quantised keys and the cached decision engine on the real BTCUSDT replay (hit rate and agreement)."""

from __future__ import annotations

import math

import pytest

from kimera.decision import (
    Choice,
    DecisionCache,
    DecisionEngine,
    Quanta,
    QuantaError,
    ensemble_choice,
    momentum_choice,
    size_tier,
    vol_tier,
)
from kimera.strategy import Ensemble, FlowMomentum, ImbalanceMomentum, MeanReversion
from kimera.venues.registry import resolve_instrument
from tests.strategy.replay import btc_replay

INST = resolve_instrument("BINANCE", "BTCUSDT")
Q = INST.size("0.01")
TTL = 60 * 10**9


def test_key_is_the_grid_cell_and_validated() -> None:
    rec = btc_replay()
    q = Quanta()
    for f in rec.feats[::101]:
        k = q.key(f, "s")
        assert k[:4] == (
            math.floor(f.mid / 100.0), math.floor(f.vol / 0.25),
            (f.trend > 1e-4) - (f.trend < -1e-4), math.floor(f.imb_l5 / 0.1),
        )
        assert k[4:] == (INST.key, "s")
        assert all(type(x) is int for x in k[:4])
    with pytest.raises(QuantaError, match="price"):
        Quanta(price=0)
    with pytest.raises(QuantaError, match="imbalance"):
        Quanta(imbalance=math.nan)


def _replay_through(eng: DecisionEngine[Choice], oracle: object) -> tuple[int, int]:
    """Feed the replay; count hits and agreeing hits independently of the engine's own counters."""
    hits = agree = 0
    for f in btc_replay().feats:
        before = eng.cache.hits
        v = eng.decide(f)
        if eng.cache.hits > before:
            hits += 1
            agree += v == oracle(f)  # type: ignore[operator]
    return hits, agree


def test_momentum_decisions_cache_well_on_the_real_replay() -> None:
    rec = btc_replay()
    eng = DecisionEngine("obi", momentum_choice(ImbalanceMomentum(INST, Q)), DecisionCache(4096, TTL), verify=True)
    plain = momentum_choice(ImbalanceMomentum(INST, Q))
    hits, agree = _replay_through(eng, plain)
    s = eng.cache.stats()
    assert s.lookups == len(rec.feats) and s.hits == hits == eng.checked and eng.agreed == agree
    assert s.hit_rate >= 0.85, s
    assert eng.agreement >= 0.99
    assert len({plain(f) for f in rec.feats}) >= 4  # the decisions are not one constant answer


def test_ensemble_agreement_is_measured_not_assumed() -> None:
    def make() -> Ensemble:
        return Ensemble(INST, [ImbalanceMomentum(INST, Q), MeanReversion(INST, Q), FlowMomentum(INST, Q)], Q)

    eng = DecisionEngine("ens", ensemble_choice(make()), DecisionCache(4096, TTL), verify=True)
    hits, agree = _replay_through(eng, ensemble_choice(make()))
    assert hits == eng.checked and agree == eng.agreed
    # the ensemble reads z-score and trade flow, which the base key does not hold: agreement is far from 1
    assert 0.3 < eng.agreement < 0.95
    # keyed also on the features it declares (its members' z-score and flow buckets): agreement >= 99%
    ens = make()
    assert dict(ens.key_features) == {"zscore": 0.5, "flow": 0.25}
    full = DecisionEngine("ens", ensemble_choice(ens), DecisionCache(4096, TTL), verify=True,
                          key_features=ens.key_features)
    hits, agree = _replay_through(full, ensemble_choice(make()))
    assert hits == full.checked and agree == full.agreed
    assert full.agreement >= 0.99
    assert 0.5 < full.cache.stats().hit_rate < eng.cache.stats().hit_rate  # the finer key hits less often


def test_extra_key_features_are_bucketed_and_validated() -> None:
    rec = btc_replay()
    q = Quanta()
    extra = (("zscore", 0.5), ("flow", 0.25))
    k1, kn = q.key_fn("s", extra[:1]), q.key_fn("s", extra)
    for f in rec.feats[::101]:
        k = q.key(f, "s", extra)
        assert k[:6] == q.key(f, "s") == q.key_fn("s")(f)
        assert k[6:] == (math.floor(f.zscore / 0.5), math.floor(f.flow / 0.25))
        assert kn(f) == k and k1(f) == k[:7]
    with pytest.raises(QuantaError, match="not a MarketFeatures field"):
        q.key_fn("s", (("nope", 1.0),))
    with pytest.raises(QuantaError, match="quantum"):
        q.key_fn("s", (("flow", 0.0),))
    with pytest.raises(QuantaError, match="repeat"):
        q.key_fn("s", (("flow", 0.1), ("flow", 0.2)))


def test_tiers() -> None:
    assert [size_tier(x) for x in (0.0, 0.12, 0.13, 0.6, 1.4)] == [0.0, 0.0, 0.25, 0.5, 1.0]
    assert [vol_tier(v) for v in (0.1, 0.5, 0.99, 3.0)] == [1.0, 0.5, 0.5, 0.25]
