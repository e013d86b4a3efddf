"""Each risk component on real data (BTCUSDT replay; S&P 500 20 stocks for correlation) against oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kimera.model import Instrument, Side
from kimera.risk import (
    PortfolioSnapshot,
    Position,
    RiskConfig,
    RiskEngine,
    RiskParams,
    depth_within,
    make_market_state,
)
from kimera.risk import components as C
from kimera.strategy import Ensemble, FlowMomentum, ImbalanceMomentum, MeanReversion
from kimera.venues.registry import resolve_instrument
from tests.risk.helpers import BTC, btc_market, order, sp500
from tests.strategy.replay import btc_replay

EMPTY = PortfolioSnapshot(equity=100_000.0, equity_peak=100_000.0)
ETH = resolve_instrument("BINANCE", "ETHUSDT")


def _entropy(x: np.ndarray, bins: int) -> float:
    counts, _ = np.histogram(x, bins=bins)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum() / math.log(bins)) if np.ptp(x) > 0 else 0.0


def test_thermal_is_temperature_and_count_entropy_on_the_replay() -> None:
    rec = btc_replay()
    p = RiskParams()
    thermals = []
    for s in rec.samples[3:]:
        m = s.market
        assert m.entropy_returns == pytest.approx(_entropy(s.returns, p.entropy_bins), abs=1e-12)
        assert m.entropy_volumes == pytest.approx(_entropy(s.volumes, p.entropy_bins), abs=1e-12)
        r = s.returns
        vs, vl = r[-p.temperature_short :].var(), r.var()
        assert m.temperature == pytest.approx(vs / (vs + vl) if vs + vl > 0 else 0.0, rel=1e-9, abs=1e-12)
        want = 0.5 * m.temperature + 0.25 * (m.entropy_returns + m.entropy_volumes)
        assert C.thermal(m) == pytest.approx(want, abs=1e-15)
        assert 0.0 <= C.thermal(m) <= 1.0
        thermals.append(C.thermal(m))
    assert np.std(thermals) > 0.02  # it reads the market: not a constant


def test_cognitive_is_the_dispersion_of_member_confidences_on_the_replay() -> None:
    rec = btc_replay()
    q = BTC.size("0.01")
    ens = Ensemble(BTC, [ImbalanceMomentum(BTC, q), MeanReversion(BTC, q), FlowMomentum(BTC, q)], q)
    seen = set()
    for f in rec.feats[200::13]:
        d = ens.decide(f)
        conf = [s.confidence for s in d.signals]
        got = C.cognitive(conf)
        assert got == pytest.approx(min(1.0, 2 * float(np.std(conf))), abs=1e-12)
        seen.add(round(got, 6))
    assert len(seen) > 50
    assert C.cognitive([]) == 1.0 and C.cognitive([0.7]) == pytest.approx(0.3)
    assert C.cognitive([0.0, 1.0]) == 1.0 and C.cognitive([0.4, 0.4, 0.4]) == pytest.approx(0.0, abs=1e-12)


def test_volatility_is_realised_vol_against_the_scale() -> None:
    rec = btc_replay()
    vols = [s.market.vol for s in rec.samples[3:]]
    assert all(v == s.features.vol for v, s in zip(vols, rec.samples[3:], strict=True))
    for scale in (0.5, 1.0, 4.0):
        p = RiskParams(vol_scale=scale)
        for s in rec.samples[3::5]:
            assert C.volatility(s.market, p) == min(1.0, s.market.vol / scale)
    comps = [C.volatility(s.market, RiskParams()) for s in rec.samples[3:]]
    assert max(comps) > 2 * min(comps)


def _returns(prices: np.ndarray) -> np.ndarray:
    return prices[1:] / prices[:-1] - 1.0


def test_correlation_and_concentration_on_sp500() -> None:
    names, px = sp500()
    col = {n: k for k, n in enumerate(names)}
    r = _returns(px[-300:])
    stock = lambda sym: Instrument("NYSE", sym, price_decimals=3, size_decimals=0)  # noqa: E731
    cvx, jpm, xom, ko = stock("CVX"), stock("JPM"), stock("XOM"), stock("KO")
    pos = {
        cvx.key: Position(cvx, 100, cvx.price(f"{px[-1, col['CVX']]:.3f}")),
        jpm.key: Position(jpm, -50, jpm.price(f"{px[-1, col['JPM']]:.3f}")),
    }
    n_cvx, n_jpm = pos[cvx.key].notional, pos[jpm.key].notional
    port_r = (n_cvx * r[:, col["CVX"]] - n_jpm * r[:, col["JPM"]]) / (n_cvx + n_jpm)
    pf = PortfolioSnapshot(pos, 1e6, 1e6, 0.0, port_r)
    p = RiskParams(correlation_window=256)
    eng = RiskEngine(RiskConfig(params=p))
    rhos = {}
    for inst in (xom, ko):
        ret = r[:, col[inst.symbol]]
        last = float(px[-1, col[inst.symbol]])
        m = make_market_state(inst, 0, last - 0.01, last + 0.01, 1e6, 1e6, ret, np.ones(10), 0.2, p)
        want = float(np.corrcoef(ret[-256:], port_r[-256:])[0, 1])
        buy = eng.assess(order(Side.BUY, "30", inst=inst, confidences=()), m, pf, 0)
        sell = eng.assess(order(Side.SELL, "30", inst=inst, confidences=()), m, pf, 0)
        assert buy.rho == pytest.approx(want, abs=1e-12)
        # concentration: Herfindahl of |notional| after the order, by hand
        x = 30 * m.ask
        hhi = (n_cvx**2 + n_jpm**2 + x**2) / (n_cvx + n_jpm + x) ** 2
        assert buy.concentration == pytest.approx(hhi, rel=1e-12)
        assert buy.components.correlation == pytest.approx(0.5 * max(0.0, want) + 0.5 * hhi, rel=1e-12)
        assert sell.components.correlation == pytest.approx(0.5 * max(0.0, -want) + 0.5 * sell.concentration, rel=1e-12)
        rhos[inst.symbol] = want
    assert rhos["XOM"] > 0.6 and rhos["XOM"] > rhos["KO"] + 0.2  # oil major tracks the CVX-long book
    assert C.correlation(np.ones(5), np.arange(5.0), 10) == 0.0  # a constant series has no correlation
    assert C.concentration(0.0, 0.0, 0.0) == 0.0 and C.concentration(0.0, 0.0, 5.0) == 1.0


def test_liquidity_is_size_against_depth_within_the_bound_and_the_spread() -> None:
    rec = btc_replay()
    p = RiskParams()
    eng = RiskEngine()
    for s in rec.samples[1::7]:
        m = s.market
        mid = 0.5 * (s.bids[0][0] + s.asks[0][0])
        f = p.slippage_bps * 1e-4
        want_bid = sum(q for px, q in s.bids if px >= mid * (1 - f)) / BTC.size_scale
        want_ask = sum(q for px, q in s.asks if px <= mid * (1 + f)) / BTC.size_scale
        assert m.depth_bid == pytest.approx(want_bid, rel=1e-12) and m.depth_ask == pytest.approx(want_ask, rel=1e-12)
        spread_part = min(1.0, m.spread_bps / p.spread_scale_bps)
        small = eng.assess(order(Side.BUY, "0.001"), m, EMPTY, 0).components.liquidity
        assert small == pytest.approx(0.7 * (0.001 / want_ask) + 0.3 * spread_part, rel=1e-9)
        big = order(Side.SELL, f"{math.ceil(want_bid * 2):d}")
        assert eng.assess(big, m, EMPTY, 0).components.liquidity == pytest.approx(0.7 + 0.3 * spread_part)
    with pytest.raises(ValueError, match="empty side"):
        from kimera.book import OrderBook

        depth_within(OrderBook(BTC), 10.0)


def test_contradiction_is_the_tension_rate_behind_the_order() -> None:
    m = btc_market()
    eng = RiskEngine()
    for rate in (0.0, 1 / 3, 2 / 3, 1.0):
        v = eng.assess(order(tension=rate), m, EMPTY, 0)
        assert v.components.contradiction == rate
    # and from the ensemble on the real replay: the intents' rate is what the engine found
    rec = btc_replay()
    q = BTC.size("0.01")
    ens = Ensemble(BTC, [ImbalanceMomentum(BTC, q), MeanReversion(BTC, q), FlowMomentum(BTC, q)], q)
    rates = {round(ens.decide(f).tension_rate, 9) for f in rec.feats[::11]}
    assert rates >= {0.0, round(1 / 3, 9), round(2 / 3, 9)}


def test_score_is_the_weighted_sum_and_bounded() -> None:
    eng = RiskEngine()
    w = eng.config.weights.as_tuple()
    assert w == (0.25, 0.25, 0.20, 0.15, 0.10, 0.05)
    for s in btc_replay().samples[2::9]:
        v = eng.assess(order(), s.market, EMPTY, 0)
        assert all(0.0 <= c <= 1.0 for c in v.components)
        assert v.score == pytest.approx(sum(a * b for a, b in zip(w, v.components, strict=True)), abs=1e-15)
        assert v.suggested_quantity >= 0


def test_correlation_survives_underflowing_variances() -> None:
    # sxx·syy underflows to 0 although both are > 0 (found by the limits fuzz): still a correlation, no crash
    a = np.zeros(300)
    a[-1] = -8.59624181e-05
    b = np.array([0.0, 0.0, 1.32368672e-159])
    assert C.correlation(a, b, 256) == pytest.approx(float(np.corrcoef(a[-3:], b * 1e150)[0, 1]))
    assert C.correlation(a, np.array([0.0, 0.0, 5e-324]), 256) in (0.0, -1.0)


def test_market_state_from_book_equals_make_market_state_on_the_replay() -> None:
    # the hot-path builder checks its inputs in a cheap form and calls the thermal kernel directly: same values
    p = RiskParams()
    for s in btc_replay().samples:
        m = s.market
        ref = make_market_state(BTC, m.recv_ns, s.bids[0][0] / BTC.price_scale, s.asks[0][0] / BTC.price_scale,
                                m.depth_bid, m.depth_ask, s.returns, s.volumes, s.features.vol, p)
        assert m[:-1] == ref[:-1]
        assert np.array_equal(m.returns, ref.returns) and not m.returns.flags.writeable


def _reference_verdict_numbers(eng: RiskEngine, it: object, m: object, pf: PortfolioSnapshot) -> tuple[object, ...]:
    """Components, score and sizing of one order by the component functions and `suggested_quantity`."""
    from kimera.risk.sizing import suggested_quantity

    cfg = eng.config
    p, lim, w = cfg.params, cfg.limits, cfg.weights
    side, qty = int(it.side), it.qty  # type: ignore[attr-defined]
    price = m.ask if side > 0 else m.bid  # type: ignore[attr-defined]
    rho = C.correlation(m.returns, pf.returns, p.correlation_window)  # type: ignore[attr-defined]
    o_sum, o_sq, held = C.concentration_terms(pf.positions, BTC.key)
    hhi = C.concentration(o_sum, o_sq, abs(held + side * qty) * price)
    comps = (C.thermal(m), C.cognitive([s.confidence for s in it.signals]), C.volatility(m, p),  # type: ignore[arg-type, attr-defined]
             C.correlation_component(side, rho, hhi, p), C.liquidity(side, qty, m, p), C.contradiction(it.tension_rate))  # type: ignore[arg-type, attr-defined]
    score = min(1.0, max(0.0, sum(wi * c for wi, c in zip(w.as_tuple(), comps, strict=True))))
    depth = m.depth_ask if side > 0 else m.depth_bid  # type: ignore[attr-defined]
    sq = suggested_quantity(BTC, side, price, score, m.vol, held, depth, p, lim)  # type: ignore[attr-defined]
    return comps, score, sq, rho, hhi, qty * price


def test_assess_equals_the_component_functions_and_sizing_on_the_replay() -> None:
    # `assess` writes the components and sizing out inline: it must give exactly what those functions give
    rng = np.random.default_rng(7)
    markets = [s.market for s in btc_replay().samples[3:]]
    pfs = [
        EMPTY,
        PortfolioSnapshot({BTC.key: Position(BTC, BTC.size("0.5"), BTC.price("61000"))}, 1e5, 1.01e5, -200.0),
        PortfolioSnapshot({BTC.key: Position(BTC, -BTC.size("0.2"), BTC.price("60000"))}, 1e5, 1.2e5, -5e3,
                          markets[5].returns.copy()),
        PortfolioSnapshot({BTC.key: Position(BTC, BTC.size("0.1"), BTC.price("60000")),
                           ETH.key: Position(ETH, ETH.size("3"), ETH.price("2500"))}, 1e5, 1e5, 0.0,
                          markets[-1].returns[::2].copy()),
    ]
    eng = RiskEngine(RiskConfig())
    n = 0
    for k, m in enumerate(markets):
        for pf in pfs:
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            confs = tuple(float(c) for c in rng.random(int(rng.integers(0, 4))))
            it = order(side, qty=f"{rng.integers(1, 300) / 1000:.3f}", confidence=float(rng.random()),
                       tension=float(rng.choice([0.0, 1 / 3, 2 / 3])), confidences=confs)
            v = eng.assess(it, m, pf, k)
            comps, score, sq, rho, hhi, notional = _reference_verdict_numbers(eng, it, m, pf)
            assert tuple(v.components) == comps and type(v.components).__name__ == "Components"
            assert v.score == pytest.approx(score, abs=1e-15)
            assert (v.suggested_quantity, v.rho, v.concentration, v.notional) == (sq, rho, hhi, notional)
            n += 1
    assert n > 100
