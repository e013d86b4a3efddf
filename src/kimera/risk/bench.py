"""Benchmarks: one risk assessment p50/p99, batched assessments per second, and whether running the six
components of one assessment on threads helps (it does not for µs-scale work; measured, not assumed)."""

from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kimera.bench import BenchResult, benchmark
from kimera.bench.registry import best_of
from kimera.engine import BookUpdate
from kimera.features import FeatureEngine
from kimera.features.capture import load_btcusdt_events, replay_events
from kimera.model import Side
from kimera.risk import components as C
from kimera.risk.batch import OrderBatch
from kimera.risk.config import RiskConfig, RiskLimits
from kimera.risk.engine import RiskEngine
from kimera.risk.market import MarketState
from kimera.risk.portfolio import PortfolioSnapshot, Position
from kimera.strategy import OrderIntent, OrderType, Signal, TimeInForce
from kimera.venues.registry import resolve_instrument

INST = resolve_instrument("BINANCE", "BTCUSDT")
N_BATCH = 10_000


def _market_states(every: int = 10) -> tuple[list[MarketState], list[int]]:
    """Market states every `every` book updates of the real replay, and the ns each took to build."""
    eng = RiskEngine()
    fe = FeatureEngine(INST)
    states: list[MarketState] = []
    build_ns: list[int] = []
    k = [0]

    def on_book(u: BookUpdate) -> None:
        if fe.on_book(u.book, u.recv_ns) is None:
            return
        k[0] += 1
        if k[0] > 300 and k[0] % every == 0:
            t0 = time.perf_counter_ns()
            states.append(eng.market_state(u.book, fe, u.recv_ns))
            build_ns.append(time.perf_counter_ns() - t0)

    events = load_btcusdt_events()
    gc.collect()
    gc.freeze()  # keep the loaded events out of the collector's scans (as after a live warm-up)
    replay_events(events, on_book, fe.on_trade)
    return states, build_ns


def _orders(n: int, rng: np.random.Generator) -> list[OrderIntent]:
    out = []
    for _ in range(n):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        confs = tuple(float(c) for c in rng.random(3))
        sig = tuple(Signal(f"m{j}", int(side), 1.0, c) for j, c in enumerate(confs))
        qty = int(rng.integers(1, 200)) * 10**5  # 0.001 .. 0.2 BTC
        out.append(OrderIntent(INST, side, qty, None, OrderType.MARKET, TimeInForce.IOC, "bench",
                               float(rng.random()), sig, float(rng.choice([0.0, 1 / 3, 2 / 3]))))
    return out


def _portfolio(states: list[MarketState]) -> PortfolioSnapshot:
    return PortfolioSnapshot({INST.key: Position(INST, INST.size("0.5"), INST.price("61000"))}, 100_000.0,
                             101_000.0, -200.0, states[len(states) // 2].returns.copy())


def _threaded_vs_sequential(m: MarketState, pf: PortfolioSnapshot, it: OrderIntent, cfg: RiskConfig) -> tuple[float, float]:
    """p50 ns of computing the six components one after another vs on a 6-thread pool."""
    p = cfg.params
    side, qty = int(it.side), it.qty
    confs = [s.confidence for s in it.signals]

    def corr() -> float:
        rho = C.correlation(m.returns, pf.returns, p.correlation_window)
        s, q, held = C.concentration_terms(pf.positions, INST.key)
        return C.correlation_component(side, rho, C.concentration(s, q, abs(held + side * qty) * m.ask), p)

    tasks = (lambda: C.thermal(m), lambda: C.cognitive(confs), lambda: C.volatility(m, p), corr,
             lambda: C.liquidity(side, qty, m, p), lambda: C.contradiction(it.tension_rate))
    seq, par = [], []
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(2000):
            t0 = time.perf_counter_ns()
            [f() for f in tasks]
            t1 = time.perf_counter_ns()
            [fut.result() for fut in [pool.submit(f) for f in tasks]]
            t2 = time.perf_counter_ns()
            seq.append(t1 - t0)
            par.append(t2 - t1)
    return float(np.median(seq)), float(np.median(par))


@benchmark("risk")
def bench_risk() -> list[BenchResult]:
    """Single and batched risk assessments on market states from the real BTCUSDT replay."""
    states, build_ns = _market_states()
    rng = np.random.default_rng(5)
    cfg = RiskConfig(limits=RiskLimits(max_orders=10**9))
    eng = RiskEngine(cfg)
    pf = _portfolio(states)
    orders = _orders(2000, rng)
    lat: list[int] = []
    clock = time.perf_counter_ns
    for rep in range(3):
        for k, it in enumerate(orders):
            m = states[(k + rep) % len(states)]
            t0 = clock()
            eng.assess(it, m, pf, k)
            lat.append(clock() - t0)
    p50, p99 = np.percentile(lat, [50, 99]) / 1e3
    b50 = float(np.percentile(build_ns, 50)) / 1e3
    rows = [
        BenchResult("risk.assess", "one assessment p50", float(p50), "us", goal="<= 50 us", goal_met=p50 <= 50,
                    extra={"market_state_build_p50_us": round(b50, 2), "n": len(lat)}),
        BenchResult("risk.assess", "one assessment p99", float(p99), "us"),
        BenchResult("risk.assess", "market state build p50 (once per book update)", b50, "us"),
    ]
    batch_orders = _orders(N_BATCH, rng)
    batch = OrderBatch.from_intents(batch_orders)
    m = states[len(states) // 2]
    t_batch = best_of(lambda: RiskEngine(cfg).assess_batch(batch, m, pf, 0), repeat=5)
    one = RiskEngine(cfg)
    t_loop = best_of(lambda: [one.assess(it, m, pf, 0) for it in batch_orders[:2000]], repeat=2) / 2000
    t_conv = best_of(lambda: OrderBatch.from_intents(batch_orders), repeat=2)
    rows.append(BenchResult("risk.batch", f"batched assessments ({N_BATCH:,} orders)", N_BATCH / t_batch, "orders/s",
                            "one-by-one assess", 1.0 / t_loop, ">= 200,000/s", N_BATCH / t_batch >= 200_000,
                            extra={"intents_to_columns_per_s": round(N_BATCH / t_conv)}))
    seq, par = _threaded_vs_sequential(m, pf, orders[0], cfg)
    rows.append(BenchResult("risk.concurrency", "six components, sequential p50", seq / 1e3, "us",
                            "same on a 6-thread pool", par / 1e3,
                            extra={"verdict": "threads do not help µs-scale components" if par >= seq else "threads help"}))
    return rows
