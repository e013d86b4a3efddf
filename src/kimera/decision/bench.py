"""Benchmarks: cache lookup (with key build), hit rate and agreement on the real replay, tick-to-decision."""

from __future__ import annotations

import gc
import time

import numpy as np

from kimera.bench import BenchResult, benchmark
from kimera.bench.registry import best_of
from kimera.cognition import detect_tensions
from kimera.decision.cache import DecisionCache
from kimera.decision.engine import Choice, DecisionEngine, ensemble_choice, momentum_choice
from kimera.decision.pipeline import TickPipeline
from kimera.decision.quantize import Quanta
from kimera.engine import BookUpdate
from kimera.features import FeatureEngine, MarketFeatures
from kimera.features.capture import load_btcusdt_events, replay_events
from kimera.model import Event
from kimera.risk import PortfolioSnapshot, Position, RiskConfig, RiskEngine, RiskLimits
from kimera.strategy import Ensemble, FlowMomentum, ImbalanceMomentum, MeanReversion, all_pair_tensions
from kimera.venues.registry import resolve_instrument

TTL_NS = 60 * 10**9
PASSES = 3  # replays per tick-to-decision mode (the least disturbed one is reported)
INST = resolve_instrument("BINANCE", "BTCUSDT")
QTY = INST.size("0.01")


def make_ensemble() -> Ensemble:
    """The ensemble benchmarked: imbalance momentum, mean reversion and flow momentum."""
    return Ensemble(INST, [ImbalanceMomentum(INST, QTY), MeanReversion(INST, QTY), FlowMomentum(INST, QTY)], QTY)


def replay_features(events: list[Event]) -> list[MarketFeatures]:
    """The features after every book update of the replay."""
    fe = FeatureEngine(INST)
    out: list[MarketFeatures] = []

    def on_book(u: BookUpdate) -> None:
        f = fe.on_book(u.book, u.recv_ns)
        if f is not None:
            out.append(f)

    replay_events(events, on_book, fe.on_trade)
    return out


def _hit_agreement(
    feats: list[MarketFeatures], name: str, mk: object, key_features: tuple[tuple[str, float], ...] = ()
) -> tuple[float, float, int]:
    eng: DecisionEngine[Choice] = DecisionEngine(name, mk(), DecisionCache(4096, TTL_NS), Quanta(), verify=True,  # type: ignore[operator]
                                                 key_features=key_features)
    for f in feats:
        eng.decide(f)
    return eng.cache.stats().hit_rate, eng.agreement, eng.checked


def _lookup_ns(feats: list[MarketFeatures]) -> tuple[float, float]:
    """Mean ns of key build + cache get over the replay features (warm cache), and of the uncached decision."""
    key = Quanta().key_fn("obi")
    cache: DecisionCache[Choice] = DecisionCache(4096, 10**18)
    decide = momentum_choice(ImbalanceMomentum(INST, QTY))
    for f in feats:
        cache.put(key(f), decide(f), 0)
    get = cache.get

    def lookups() -> None:
        for f in feats:
            get(key(f), 1)

    ens = ensemble_choice(make_ensemble())
    sample = feats[:: max(1, len(feats) // 1000)]

    def uncached() -> None:
        for f in sample:
            ens(f)

    return best_of(lookups, repeat=5) / len(feats) * 1e9, best_of(uncached, repeat=3) / len(sample) * 1e9


def _tick_to_decision(events: list[Event], every_trade_tick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per-tick wall ns of the whole pipeline over the replay, the same in thread CPU ns (which leaves out
    time the OS gave to other processes), and the wall ns of the ticks that reached a risk verdict."""
    held = PortfolioSnapshot(
        {INST.key: Position(INST, INST.size("0.5"), INST.price("61000"))}, 100_000.0, 101_000.0, -200.0,
        np.zeros(0),
    )
    risk = RiskEngine(RiskConfig(limits=RiskLimits(max_orders=1_000_000)))
    pipe = TickPipeline(make_ensemble(), risk, held, every_trade_tick=every_trade_tick)
    all_ns: list[int] = []
    cpu_ns: list[int] = []
    risk_ns: list[int] = []
    approved = [0]
    clock, cpu = time.perf_counter_ns, time.thread_time_ns

    def on_book(u: BookUpdate) -> None:
        c0 = cpu()
        t0 = clock()
        r = pipe.on_book(u)
        dt = clock() - t0
        cpu_ns.append(cpu() - c0)
        all_ns.append(dt)
        if r is not None and r.verdict is not None:
            risk_ns.append(dt)
            approved[0] += r.verdict.approved

    replay_events(events, on_book, pipe.on_trade)
    return np.array(all_ns), np.array(cpu_ns), np.array(risk_ns), approved[0]


def _tension_paths(feats: list[MarketFeatures]) -> tuple[float, float]:
    """Mean ns per step of the tiny-n exact path vs `detect_tensions` on the same 3 member geoids
    (geoid validation excluded from both)."""
    ens = make_ensemble()
    steps = [ens.decide(f).drafts for f in feats[300::50]]
    geoids = [[d.to_geoid() for d in ds] for ds in steps]
    w = ens.weights

    def fast() -> None:
        for ds in steps:
            all_pair_tensions(ds, w)

    def engine() -> None:
        for gs in geoids:
            detect_tensions(gs, threshold=0.0, weights=w)

    return best_of(fast, repeat=3) / len(steps) * 1e9, best_of(engine, repeat=3) / len(steps) * 1e9


def python_loop_ms() -> float:
    """Calibration: best ms of a 1e6-iteration pure-Python loop on this machine (≈ 25 ms on a quiet modern core)."""

    def loop() -> None:
        x = 0
        for i in range(1_000_000):
            x += i

    return best_of(loop, repeat=3) * 1e3


@benchmark("decision")
def bench_decision() -> list[BenchResult]:
    """Decision cache and tick-to-decision on the real BTCUSDT capture."""
    events = load_btcusdt_events()
    gc.collect()
    gc.freeze()  # the 100k loaded events leave the collector's scans, as a live process would after warm-up
    feats = replay_features(events)
    rows: list[BenchResult] = []
    look, uncached = _lookup_ns(feats)
    rows.append(BenchResult("decision.cache", "lookup incl. key build", look, "ns", "uncached ensemble decision", uncached,
                            "<= 1000 ns", look <= 1000))
    hr, ag, n = _hit_agreement(feats, "obi", lambda: momentum_choice(ImbalanceMomentum(INST, QTY)))
    rows.append(BenchResult("decision.cache", "hit rate (obi momentum, real replay)", hr * 100, "%", goal=">= 85%",
                            goal_met=hr >= 0.85, extra={"lookups": len(feats), "ttl_s": TTL_NS / 1e9}))
    rows.append(BenchResult("decision.cache", "agreement of hits (obi momentum)", ag * 100, "%", goal=">= 99%",
                            goal_met=ag >= 0.99, extra={"hits_checked": n}))
    hr_b, ag_b, _ = _hit_agreement(feats, "ens", lambda: ensemble_choice(make_ensemble()))
    kf = make_ensemble().key_features
    hr_e, ag_e, n_e = _hit_agreement(feats, "ens", lambda: ensemble_choice(make_ensemble()), kf)
    rows.append(BenchResult("decision.cache", "hit rate (ensemble, key + its z-score and flow buckets)", hr_e * 100, "%",
                            goal=">= 85%", goal_met=hr_e >= 0.85,
                            extra={"key_features": dict(kf), "base_key_hit_rate": round(hr_b * 100, 2)}))
    rows.append(BenchResult("decision.cache", "agreement of hits (ensemble, key + its z-score and flow buckets)",
                            ag_e * 100, "%", goal=">= 99%", goal_met=ag_e >= 0.99,
                            extra={"hits_checked": n_e, "base_key_agreement": round(ag_b * 100, 2)}))
    fast, slow = _tension_paths(feats)
    rows.append(BenchResult("decision.tension", "3 member geoids: all pair tensions (tiny-n exact path)", fast, "ns",
                            "cognition detect_tensions", slow))
    calib = python_loop_ms()
    rows.append(BenchResult("decision.machine", "calibration: pure-Python 1e6-iteration loop", calib, "ms",
                            extra={"note": "≈ 25 ms on a quiet modern core; scale the µs figures by this"}))
    for mode, every in (("intents (edge-triggered)", False), ("every trade tick (worst case)", True)):
        # the whole replay PASSES times; the pass with the lowest p50 is kept (the least disturbed by other
        # processes on a shared machine, as `best_of` does for single timings), every pass's p50 is recorded
        passes = [_tick_to_decision(events, every) for _ in range(PASSES)]
        all_ns, cpu_ns, risk_ns, n_ok = min(passes, key=lambda r: float(np.percentile(r[0], 50)))
        pass_p50 = [round(float(np.percentile(r[0], 50)) / 1e3, 1) for r in passes]
        p50, p99 = np.percentile(all_ns, [50, 99]) / 1e3
        c50, c99 = np.percentile(cpu_ns, [50, 99]) / 1e3
        rows.append(BenchResult("decision.tick", f"tick-to-decision p50, {mode}", float(p50), "us", goal="<= 50 us",
                                goal_met=bool(p50 <= 50), extra={"ticks": int(all_ns.size), "verdicts": int(risk_ns.size),
                                                                   "p50_us_of_each_pass": pass_p50}))
        rows.append(BenchResult("decision.tick", f"tick-to-decision p99, {mode}", float(p99), "us", goal="<= 200 us",
                                goal_met=bool(p99 <= 200),
                                extra={"thread_cpu_p50_us": round(float(c50), 1), "thread_cpu_p99_us": round(float(c99), 1)}))
        if risk_ns.size:
            r50, r99 = np.percentile(risk_ns, [50, 99]) / 1e3
            rows.append(BenchResult("decision.tick", f"tick-to-verdict p50/p99 on ticks with a verdict, {mode}",
                                    float(r50), "us", extra={"p99_us": round(float(r99), 1), "approved": n_ok}))
    return rows
