"""Paper trading: live market data through the connectivity layer (`StreamClient`), simulated fills.

The stream client keeps the exact book and publishes `BookUpdate`s and trades on the pipeline's bus; the
pipeline (same strategies, risk, journal and simulated venue as the backtest) runs on wall-clock receive
times, and in-flight orders reach the simulated venue as later events arrive.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from kimera.execution.latency import ConstantLatency
from kimera.journal.sqlite import Journal
from kimera.runners.backtest import build_strategies, risk_gate
from kimera.runners.pipeline import RunResult, TradingPipeline
from kimera.venues.registry import resolve_instrument


@dataclass
class PaperConfig:
    """Where to stream from, for how long, and what to trade."""

    venue: str = "binance"
    symbol: str = "BTCUSDT"
    ws_url: str | None = None
    seconds: float = 60.0
    strategy: str = "obi"
    quantity: str = "0.001"
    journal: Path | None = None
    rest_url: str | None = None
    max_position: str = "0.01"
    order_latency_us: int = 1_000
    risk_engine: bool = False  # True: the risk engine's assessment after the position limit (as in a backtest)


@dataclass
class PaperOutcome:
    """The pipeline after the session, its result and the stream's health."""

    pipeline: TradingPipeline
    result: RunResult
    book_updates: int


def feed_for(venue: str, symbol: str):  # type: ignore[no-untyped-def]
    """The stream feed (adapter) of a venue for paper and live sessions."""
    from kimera.venues.feeds import BinanceFeed, KrakenFeed

    if venue == "binance":
        return BinanceFeed(symbol)
    if venue == "kraken":
        return KrakenFeed(symbol)
    raise ValueError(f"paper trading supports binance and kraken streams, not {venue!r}")


async def paper_session(cfg: PaperConfig) -> PaperOutcome:
    """Stream for `cfg.seconds`, trading on paper; returns the pipeline and a summary."""
    from kimera.venues.stream import StreamClient

    feed = feed_for(cfg.venue, cfg.symbol)
    inst = feed.instrument
    journal = Journal(cfg.journal) if cfg.journal is not None else None
    qty = inst.size(cfg.quantity)
    pipe = TradingPipeline(resolve_instrument, build_strategies(cfg.strategy, inst, qty), journal=journal,
                           latency=ConstantLatency(cfg.order_latency_us * 1000), advance_on_events=True,
                           id_prefix="p")
    pipe.risk = risk_gate(pipe, inst, cfg.max_position, cfg.risk_engine)
    client = StreamClient(feed, cfg.ws_url, cfg.rest_url, bus=pipe.bus)
    pipe.external_books[inst.key] = client.book
    t0 = time.perf_counter()
    try:
        await client.run(cfg.seconds)
    finally:
        if journal is not None:
            journal.close()
    pipe.portfolio.sample(time.time_ns(), force=True)
    res = pipe.result(client.health.messages, time.perf_counter() - t0)
    return PaperOutcome(pipe, res, client.health.book_updates)


def run_paper(cfg: PaperConfig) -> PaperOutcome:
    """Blocking wrapper for the CLI."""
    return asyncio.run(paper_session(cfg))
