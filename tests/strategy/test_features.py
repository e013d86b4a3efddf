"""Features on the real BTCUSDT replay against independent recomputations, causality, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kimera.engine import BookUpdate, ReplayEngine
from kimera.features import (
    DEPTHS,
    FeatureConfig,
    FeatureEngine,
    FeatureError,
    Ring,
    count_entropy,
    temperature,
)
from kimera.features.market import SECONDS_PER_YEAR
from kimera.model import Side, Trade
from kimera.venues.registry import resolve_instrument
from tests.strategy.replay import btc_replay

W = FeatureConfig().window


def test_imbalance_equals_the_books_own_at_each_depth() -> None:
    rec = btc_replay()
    assert DEPTHS == (1, 5, 20)
    got = np.array([(f.imb_l1, f.imb_l5, f.imb_l20) for f in rec.feats])
    want = np.array(rec.imbalance)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    assert (np.abs(got[:, 1]) > 0.3).mean() > 0.3  # the feature moves: not a degenerate book


def test_returns_trend_vol_and_zscore_match_numpy_on_the_raw_mids() -> None:
    rec = btc_replay()
    mids, times = rec.mids, rec.times
    logm = np.log(mids)
    r = np.diff(logm)
    checked = 0
    for k in range(W + 5, len(mids), 211):
        f = rec.feats[k]
        win = r[k - W : k]  # returns ending at update k
        assert f.ret1 == pytest.approx(r[k - 1], abs=1e-15)
        assert f.trend == pytest.approx(win.sum(), abs=1e-12)
        assert f.ret_short == pytest.approx(r[k - 10 : k].sum(), abs=1e-12)
        span = (times[k] - times[k - W]) * 1e-9
        vol = math.sqrt(float(np.sum(win**2)) / span * SECONDS_PER_YEAR)
        assert f.vol == pytest.approx(vol, rel=1e-9)
        x = logm[k - W + 1 : k + 1]
        sd = x.std()
        if sd > 0:
            assert f.zscore == pytest.approx((x[-1] - x.mean()) / sd, rel=1e-6, abs=1e-6)
        checked += 1
    assert checked > 20
    vols = np.array([f.vol for f in rec.feats[W:]])
    assert 0.05 < np.median(vols) < 5.0  # BTC: tens of percent annualised


def test_trade_flow_matches_brute_force_over_the_window() -> None:
    rec = btc_replay()
    win = FeatureConfig().flow_window_ns
    ts = np.array([t.recv_ns for t in rec.trades], dtype=np.int64)
    signed = np.array([(1 if t.side is Side.BUY else -1) * t.size / 1e8 for t in rec.trades])
    for f in rec.feats[::157]:
        sel = (ts > f.recv_ns - win) & (ts <= f.recv_ns)
        tot = np.abs(signed[sel]).sum()
        want = signed[sel].sum() / tot if tot > 0 else 0.0
        assert f.flow == pytest.approx(want, abs=1e-9)
        assert f.flow_volume == pytest.approx(tot, rel=1e-9, abs=1e-9)


def test_features_are_causal_a_prefix_replay_gives_the_same_features() -> None:
    rec = btc_replay()
    cut = len(rec.events) // 2
    fe = FeatureEngine(rec.instrument)
    seen: list[object] = []
    eng = ReplayEngine(resolve_instrument)
    eng.bus.subscribe(BookUpdate, lambda u: seen.append(fe.on_book(u.book, u.recv_ns)))
    eng.bus.subscribe(Trade, fe.on_trade)
    eng.run([rec.events[:cut]])
    prefix = [f for f in seen if f is not None]
    assert len(prefix) > 1000
    assert prefix == rec.feats[: len(prefix)]


def test_count_entropy_against_numpy_histogram() -> None:
    rng = np.random.default_rng(7)
    for x in (rng.normal(size=300), rng.exponential(size=50), np.r_[np.zeros(90), rng.normal(size=10)]):
        for bins in (2, 8, 16):
            counts, _ = np.histogram(x, bins=bins)
            p = counts[counts > 0] / counts.sum()
            want = float(-(p * np.log(p)).sum() / math.log(bins))
            assert count_entropy(x, bins) == pytest.approx(want, abs=1e-12)
    assert count_entropy(np.full(10, 3.0)) == 0.0
    assert count_entropy(np.arange(1600.0), 16) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="bins"):
        count_entropy(np.ones(3), 1)


def test_temperature_against_numpy() -> None:
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(0, 1, 200), rng.normal(0, 3, 32)]
    vs, vl = x[-32:].var(), x.var()
    assert temperature(x, 32) == pytest.approx(vs / (vs + vl), rel=1e-12)
    assert temperature(x, 32) > 0.5  # the recent window is hotter
    assert temperature(np.zeros(40)) == 0.0


def test_ring_view_is_chronological_and_bounded() -> None:
    r = Ring(4)
    for k in range(1, 11):
        r.push(float(k))
        want = list(range(max(1, k - 3), k + 1))
        assert r.view().tolist() == want
        assert r.ago(0) == k
    with pytest.raises(ValueError):
        Ring(0)


def test_bad_input_is_a_clear_error() -> None:
    inst = resolve_instrument("BINANCE", "BTCUSDT")
    with pytest.raises(FeatureError, match="window"):
        FeatureConfig(window=1)
    with pytest.raises(FeatureError, match="short"):
        FeatureConfig(window=8, short=9)
    with pytest.raises(FeatureError, match="flow_window_ns"):
        FeatureConfig(flow_window_ns=0)
    fe = FeatureEngine(inst)
    with pytest.raises(FeatureError, match="negative size"):
        fe.on_trade(Trade("BINANCE", "BTCUSDT", 1, 100, -5, Side.BUY, 0, 0))


def test_fused_thermal_kernel_equals_the_separate_kernels_exactly() -> None:
    from kimera.features.entropy import _count_entropy, _temperature, _thermal_stats

    rec = btc_replay()
    rng = np.random.default_rng(3)
    cases = [(s.returns, s.volumes) for s in rec.samples]
    cases += [(rng.normal(size=n), rng.exponential(size=m)) for n, m in ((0, 0), (1, 5), (2, 2), (3, 40), (31, 7), (256, 256))]
    cases += [(np.zeros(50), np.ones(9)), (np.array([-0.0, 0.0, -0.0]), np.zeros(3))]
    for r, v in cases:
        r, v = np.ascontiguousarray(r, dtype=np.float64), np.ascontiguousarray(v, dtype=np.float64)
        for short, bins in ((32, 16), (2, 2), (10, 7), (300, 16)):
            want = (_temperature(r, short), _count_entropy(r, bins), _count_entropy(v, bins))
            assert _thermal_stats(r, v, short, bins) == want


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", [0, 5, 9])
def test_non_finite_values_are_an_error_not_an_undefined_bin(bad: float, where: int) -> None:
    from kimera.features.entropy import _count_entropy, _thermal_stats

    x = np.linspace(-1.0, 1.0, 10)
    x[where] = bad
    with pytest.raises(ValueError, match=f"value #{where} is"):
        count_entropy(x)
    assert math.isnan(_count_entropy(x, 16))
    good = np.linspace(0.0, 1.0, 10)
    temp, er, ev = _thermal_stats(x, good, 4, 16)
    assert math.isnan(er) and math.isnan(temp)
    assert ev == _count_entropy(good, 16)
    assert math.isnan(_thermal_stats(good, x, 4, 16)[2])
