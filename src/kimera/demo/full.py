"""`run_demo`: the whole system end to end on this machine, in well under two minutes.

Two exchange emulators (Binance and Kraken protocols) serve the embedded simulated market over real
loopback websockets; one `StreamClient` per venue keeps an exact book; a `ConsolidatedBook` merges them;
the contradiction-aware `Ensemble` (issue 5) trades the Binance features; intents pass position limits and
the `RiskEngine`; the smart order router splits each one across both venues by cost net of fees; the
simulated venue fills the children against each venue's live book; everything is journaled; the HTML
report is written at the end.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimera.model import Instrument


@dataclass
class DemoSummary:
    """What the demo did and where its files are."""

    seconds: float
    venues: dict[str, dict[str, Any]]
    intents: int
    orders: int
    fills: int
    fills_by_venue: dict[str, int]
    rejections: int
    portfolio: dict[str, float]
    journal: Path
    journal_records: int
    report: Path
    stats: dict[str, Any] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)  # per instrument (`report.open_positions`)
    rejections_by_limit: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pipeline: Any = field(default=None, repr=False, compare=False)  # the finished `TradingPipeline`
    trace: Any = field(default=None, repr=False, compare=False)  # its `RunTrace`
    result: Any = field(default=None, repr=False, compare=False)  # its `RunResult` (start_ns/end_ns in extra)

    def lines(self) -> list[str]:
        """A short human summary."""
        p, st = self.portfolio, self.stats
        out = [f"kimera demo: {self.seconds:.1f}s, two emulated venues over websockets"]
        for v, h in self.venues.items():
            out.append(f"  {v}: {h['messages']:,} messages, {h['book_updates']:,} book updates, trusted={h['trusted']}")
        by_venue = ", ".join(f"{v} {n}" for v, n in sorted(self.fills_by_venue.items())) or "none"
        out.append(f"  intents {self.intents}: orders {self.orders}, fills {self.fills} ({by_venue})")
        why = ", ".join(f"{k} {n}" for k, n in self.rejections_by_limit.items())
        out.append(f"  risk rejections {self.rejections}" + (f" ({why})" if why else ""))
        open_ = [r for r in self.positions if r["size"]]
        if open_:
            legs = "; ".join(f"{r['instrument']} {r['size']:+.5f} @ {r['avg price']:,.2f}" for r in open_)
            out.append(f"  positions open: {legs}; net {st.get('net position (base)', 0.0):+.5f}")
        else:
            out.append("  positions: flat")
        ret = st.get("return %", 0.0)
        out.append(f"  equity {p['equity']:,.2f} ({ret:+.4f}%): realised {p['realised']:+,.2f}, unrealised "
                   f"{p['unrealised']:+,.2f}, fees {p['fees']:,.2f}; max drawdown {p['max_drawdown'] * 100:.4f}%")
        sharpe = st.get("Sharpe (annualised)")
        out.append(f"  Sharpe {sharpe:.2f} ({st.get('Sharpe basis', '')})" if sharpe is not None
                   else f"  Sharpe {st.get('Sharpe basis', 'n/a')}")
        out.extend(f"  note: {n}" for n in self.notes)
        out.append(f"  journal: {self.journal} ({self.journal_records} records)")
        out.append(f"  report:  {self.report}")
        return out


async def _demo(seconds: float, rate: float, kraken_rate: float, out_dir: Path, seed: int, quantity: str) -> DemoSummary:
    from kimera.aggregator.consolidated import ConsolidatedBook
    from kimera.emulator.server import Emulator
    from kimera.emulator.source import Source
    from kimera.execution.intents import PositionLimitGate
    from kimera.execution.latency import ConstantLatency
    from kimera.execution.risk_adapter import RiskEngineGate
    from kimera.journal.sqlite import Journal
    from kimera.risk.engine import RiskEngine
    from kimera.routing import route_consolidated
    from kimera.runners.backtest import _Both, build_strategies
    from kimera.runners.pipeline import TradingPipeline
    from kimera.runners.report import (
        RunTrace,
        open_positions,
        positions_note,
        rejections_by_reason,
        summary_stats,
        write_report,
    )
    from kimera.strategy.intent import OrderIntent
    from kimera.venues.feeds import make_feed
    from kimera.venues.registry import resolve_instrument
    from kimera.venues.stream import StreamClient

    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    jpath = out_dir / "demo-journal.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(jpath) + suffix).unlink(missing_ok=True)
    journal = Journal(jpath)
    from kimera.sim.market import SimParams

    # Kraken's market starts 0.3% lower: buys route there despite its higher fee, sells to Binance
    low = SimParams.default().start_price * 0.997
    emus = [Emulator("binance", Source.simulated("BTCUSDT", seed=seed), rate=rate),
            Emulator("kraken", Source.simulated("XBT/USD", seed=seed + 1, start_price=low), symbols=["XBT/USD"],
                     rate=kraken_rate)]
    for e in emus:
        await e.start()
    try:
        feeds = [make_feed("binance", "BTCUSDT"), make_feed("kraken", "XBT/USD")]
        primary: Instrument = feeds[0].instrument
        qty = primary.size(quantity)
        pipe = TradingPipeline(resolve_instrument, build_strategies("ensemble", primary, qty), journal=journal,
                               latency=ConstantLatency(500_000, 500_000), advance_on_events=True, id_prefix="d")
        clients = [StreamClient(feeds[0], emus[0].ws_url, emus[0].http_url, bus=pipe.bus),
                   StreamClient(feeds[1], emus[1].ws_url, bus=pipe.bus)]
        cb = ConsolidatedBook("BTC-USD", 8, 8, stale_after_s=5.0)
        for f, c in zip(feeds, clients, strict=True):
            pipe.external_books[f.instrument.key] = c.book
            cb.add_stream(f.instrument.venue, c)
        insts = {f.instrument.venue: f.instrument for f in feeds}

        def total_position(inst: Instrument) -> int:  # across venues, at the intent's scale
            base = sum(p.size for p in pipe.portfolio.positions.values())
            return round(base * inst.size_scale)

        limit = inst_limit = primary.size("0.05")
        pipe.risk = _Both(PositionLimitGate(total_position, inst_limit, limit),
                          RiskEngineGate(RiskEngine(), pipe.book_for, pipe.features, pipe.portfolio))

        def router(it: OrderIntent) -> list[tuple[Instrument, int, int]]:
            plan = route_consolidated(cb, it.side, it.qty)
            return [(insts[c.venue], c.size, c.limit_price) for c in plan.children if c.size > 0]

        pipe.router = router
        trace = RunTrace().attach(pipe)  # mids and fills per venue, every ensemble decision's tension
        start_ns = time.time_ns()  # the stream clients stamp events with time.time_ns(): the same clock
        await asyncio.gather(*(c.run(seconds) for c in clients))
    finally:
        for e in emus:
            await e.stop()
    end_ns = max(time.time_ns(), pipe.clock.now_ns)
    pipe.portfolio.sample(end_ns, force=True)
    res = pipe.result(sum(c.health.messages for c in clients), time.perf_counter() - t0,
                      {"start_ns": start_ns, "end_ns": end_ns})
    journal.close()
    report = write_report(pipe, res, out_dir / "demo-report.html", "Kimera full-system demo", trace)
    note = positions_note(pipe)
    by_venue: dict[str, int] = {}
    for o in pipe.om.orders.values():
        if o.filled:
            by_venue[o.instrument.venue] = by_venue.get(o.instrument.venue, 0) + 1
    return DemoSummary(
        seconds=time.perf_counter() - t0,
        venues={f.instrument.key: {"messages": c.health.messages, "book_updates": c.health.book_updates,
                                   "trusted": c.book.trusted, "log": list(c.health.log)[-5:],
                                   "last_error": c.health.last_error} for f, c in zip(feeds, clients, strict=True)},
        intents=pipe.record.intents, orders=len(pipe.om.orders), fills=pipe.om.fills, fills_by_venue=by_venue,
        rejections=len(pipe.record.rejections), portfolio=pipe.portfolio.summary(), journal=jpath,
        journal_records=res.journal_records, report=report, stats=summary_stats(pipe, res),
        positions=open_positions(pipe), rejections_by_limit=rejections_by_reason(pipe.record.rejections),
        notes=[note] if note else [], pipeline=pipe, trace=trace, result=res,
    )


def run_demo(seconds: float = 20.0, rate: float = 1000.0, out_dir: str | Path | None = None, seed: int = 7,
             quantity: str = "0.01", echo: bool = True, kraken_rate: float = 150.0) -> DemoSummary:
    """Run the full system for `seconds` of streaming (Binance at `rate`, Kraken at `kraken_rate` messages/s:
    the Kraken dialect's per-message checksums cost more CPU); prints a summary and the report's path."""
    if not 0 < seconds <= 100:
        raise ValueError(f"seconds must be in (0, 100] to stay under two minutes, got {seconds}")
    if rate <= 0 or kraken_rate <= 0:
        raise ValueError(f"rates must be positive, got {rate}, {kraken_rate}")
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="kimera-demo-"))
    summary = asyncio.run(_demo(seconds, rate, kraken_rate, out, seed, quantity))
    if echo:
        print("\n".join(summary.lines()))
    return summary
