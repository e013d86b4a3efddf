"""`run_backtest`: recorded captures (or the embedded simulated market) through the trading pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kimera.execution.intents import PositionLimitGate, RiskGate
from kimera.execution.latency import ConstantLatency
from kimera.execution.queue import ProbQueue, QueueModel, RiskAverseQueue
from kimera.journal.sqlite import Journal
from kimera.model import Event, Instrument
from kimera.runners.pipeline import RunResult, TradingPipeline
from kimera.strategy.base import Strategy
from kimera.strategy.intent import OrderIntent
from kimera.venues.registry import resolve_instrument

STRATEGIES = ("ensemble", "obi", "meanrev", "flow")


@dataclass
class BacktestConfig:
    """Everything a backtest run depends on (the same config gives the same journal, byte for byte)."""

    paths: list[Path] = field(default_factory=list)  # empty: the embedded simulated market
    sim_events: int = 50_000
    seed: int = 7
    symbol: str = "BTCUSDT"
    strategy: str = "ensemble"
    quantity: str = "0.01"  # base units per order (before confidence scaling)
    max_position: str = "0.05"
    order_latency_us: int = 1_000
    response_latency_us: int = 1_000
    md_latency_us: int = 0
    queue: str = "risk_averse"  # or prob:<power>
    initial_cash: float = 100_000.0
    risk_engine: bool = True

    def identity(self) -> dict[str, str]:
        """What a journal is stamped with, so a resume cannot mix runs."""
        return {k: str(v) for k, v in sorted(vars(self).items())}


def queue_model(spec: str) -> QueueModel:
    """`risk_averse` or `prob:<power>` (e.g. prob:1, prob:2)."""
    if spec == "risk_averse":
        return RiskAverseQueue()
    if spec.startswith("prob:"):
        return ProbQueue(float(spec.split(":", 1)[1]))
    raise ValueError(f"unknown queue model {spec!r}; use risk_averse or prob:<power>")


def build_strategies(name: str, inst: Instrument, quantity: int) -> list[Strategy]:
    """The named strategy (the ensemble of the three member signals by default)."""
    from kimera.strategy import Ensemble, FlowMomentum, ImbalanceMomentum, MeanReversion

    if name == "obi":
        return [ImbalanceMomentum(inst, quantity)]
    if name == "meanrev":
        return [MeanReversion(inst, quantity)]
    if name == "flow":
        return [FlowMomentum(inst, quantity)]
    if name == "ensemble":
        members = [ImbalanceMomentum(inst, quantity), MeanReversion(inst, quantity), FlowMomentum(inst, quantity)]
        return [Ensemble(inst, members, quantity)]
    raise ValueError(f"unknown strategy {name!r}; choose from {STRATEGIES}")


def load_events(cfg: BacktestConfig) -> tuple[list[Event], Instrument]:
    """The run's events and its instrument: Binance captures from `paths`, else the simulated market."""
    if cfg.paths:
        from kimera.data.binance import load_binance_capture

        missing = [str(p) for p in cfg.paths if not Path(p).exists()]
        if missing:
            raise FileNotFoundError(f"capture not found: {', '.join(missing)}")
        events: list[Event] = list(load_binance_capture(cfg.paths, symbol=cfg.symbol))
    else:
        from kimera.sim.market import SimulatedMarket

        events = list(SimulatedMarket(seed=cfg.seed, symbol=cfg.symbol).events(cfg.sim_events))
    if not events:
        raise ValueError("no events to backtest")
    first = events[0]
    return events, resolve_instrument(first.venue, first.symbol)


def build_pipeline(cfg: BacktestConfig, inst: Instrument, journal: Journal | None) -> TradingPipeline:
    """A pipeline for this config: strategies, latency, queue model, risk (engine + position limits)."""
    qty = inst.size(cfg.quantity)
    pipe = TradingPipeline(
        resolve_instrument, build_strategies(cfg.strategy, inst, qty), journal=journal,
        latency=ConstantLatency(cfg.order_latency_us * 1000, cfg.response_latency_us * 1000, cfg.md_latency_us * 1000),
        queue=queue_model(cfg.queue), initial_cash=cfg.initial_cash,
    )
    pipe.risk = risk_gate(pipe, inst, cfg.max_position, cfg.risk_engine)
    return pipe


def risk_gate(pipe: TradingPipeline, inst: Instrument, max_position: str, risk_engine: bool) -> RiskGate:
    """The net position limit, then (with `risk_engine`) the risk engine's assessment: the gate every runner
    puts in front of its venue."""
    limit = PositionLimitGate(pipe.portfolio.net_position, inst.size(max_position), inst.size(max_position))
    if not risk_engine:
        return limit
    from kimera.execution.risk_adapter import RiskEngineGate
    from kimera.risk.engine import RiskEngine

    return _Both(limit, RiskEngineGate(RiskEngine(), pipe.book_for, pipe.features, pipe.portfolio))


class _Both:
    """Two gates in order; the first rejection wins."""

    def __init__(self, first: RiskGate, second: RiskGate) -> None:
        self.first = first
        self.second = second

    def check(self, intent: OrderIntent, now_ns: int) -> str | None:
        """First gate, then the second."""
        return self.first.check(intent, now_ns) or self.second.check(intent, now_ns)


@dataclass
class BacktestOutcome:
    """A finished backtest: the pipeline (state, record) and its result."""

    pipeline: TradingPipeline
    result: RunResult
    instrument: Instrument


def run_backtest(cfg: BacktestConfig, journal_path: Path | None = None, events: list[Event] | None = None,
                 instrument: Instrument | None = None) -> BacktestOutcome:
    """Run (or resume, when `journal_path` already holds records of this config) a backtest."""
    if events is None or instrument is None:
        events, instrument = load_events(cfg)
    journal = Journal(journal_path, run_meta=cfg.identity()) if journal_path is not None else None
    try:
        pipe = build_pipeline(cfg, instrument, journal)
        result = pipe.run(events)
        if journal is not None:
            result.extra["journal_verified"] = journal.verified
            result.extra["journal_appended"] = journal.appended
    finally:
        if journal is not None:
            journal.close()
    return BacktestOutcome(pipe, result, instrument)
