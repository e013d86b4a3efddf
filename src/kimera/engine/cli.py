"""`kimera replay` and `kimera demo`: captures (or the simulated market) through the book path."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.table import Table

from kimera.data.errors import LoadStats, MalformedInputError
from kimera.engine.books import BookUpdate
from kimera.engine.replay import ReplayEngine, ReplaySummary
from kimera.model import Event
from kimera.venues.registry import resolve_instrument

BBO_HEADER = ["recv_ns", "venue", "symbol", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty"]


class BboWriter:
    """Writes one CSV row per applied book update (the `--bbo-out` contract; keep it stable)."""

    def __init__(self, fh: IO[str]) -> None:
        self.w = csv.writer(fh, lineterminator="\n")
        self.w.writerow(BBO_HEADER)
        self.rows = 0

    def __call__(self, u: BookUpdate) -> None:
        book = u.book
        inst = book.instrument
        bb, ba = book.best_bid(), book.best_ask()
        self.w.writerow([
            u.recv_ns, inst.venue, inst.symbol, u.update_id,
            inst.price_str(bb[0]) if bb else "", inst.size_str(bb[1]) if bb else "",
            inst.price_str(ba[0]) if ba else "", inst.size_str(ba[1]) if ba else "",
        ])
        self.rows += 1


def print_summary(s: ReplaySummary, console: Console, title: str) -> None:
    """Human-readable summary table."""
    t = Table(title=title, show_header=False)
    for k in ("events", "snapshots", "diffs", "diffs_applied", "level_updates", "stale_dropped", "gaps",
              "checksum_failures", "resyncs", "untrusted_at_end", "crossed_books", "trades", "quotes",
              "bbo_exact_u_matches", "bbo_exact_u_mismatches", "bad_lines"):
        t.add_row(k, f"{getattr(s, k):,}")
    t.add_row("seconds", f"{s.seconds:.3f}")
    console.print(t)
    for key, b in s.books.items():
        console.print(f"{key}: trusted={b['trusted']} bid={b['best_bid']} ask={b['best_ask']} "
                      f"levels={b['bid_levels']}/{b['ask_levels']}" + (f" last gap: {b['last_gap']}" if b["last_gap"] else ""))


def run_replay(sources: list, bbo_out: Path | None) -> ReplaySummary:
    """Replay sources through a fresh engine, optionally writing the bbo CSV."""
    engine = ReplayEngine(resolve_instrument)
    if bbo_out is None:
        return engine.run(sources)
    with open(bbo_out, "w", newline="") as fh:
        engine.bus.subscribe(BookUpdate, BboWriter(fh))
        return engine.run(sources)


def register(app: typer.Typer) -> None:
    """Add `replay` and `demo`."""

    @app.command("replay")
    def replay_cmd(
        paths: list[Path] = typer.Argument(..., help="capture files, replayed in the order given"),
        fmt: str = typer.Option("auto", "--format", help="auto|binance|lobster|cryptofeed|bybit|tardis"),
        bbo_out: Path = typer.Option(None, "--bbo-out", help="CSV: one row per book update"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
        skip_bad: bool = typer.Option(False, "--skip-bad", help="count malformed lines instead of failing"),
    ) -> None:
        """Replay captures through the exact book and print a summary."""
        from kimera.data.sources import open_sources

        stats = LoadStats()
        console = Console(stderr=as_json)
        try:
            sources = open_sources(paths, fmt, skip_bad=skip_bad, stats=stats)
            summary = run_replay(sources, bbo_out)
        except (MalformedInputError, ValueError, FileNotFoundError, KeyError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        summary.bad_lines = stats.bad_lines
        if as_json:
            print(json.dumps(summary.as_dict(), indent=2))
        else:
            print_summary(summary, console, "replay")
            for ex in stats.bad_examples:
                console.print(f"[yellow]skipped:[/yellow] {ex}")

    @app.command("demo")
    def demo_cmd(
        seconds: float = typer.Option(20.0, help="how long the full system trades the emulated venues"),
        seed: int = typer.Option(7, help="random seed of the simulated market"),
        out_dir: Path = typer.Option(None, "--out", help="where the journal and report go (default runs/demo)"),
        market_only: bool = typer.Option(False, "--market-only", help="only replay the simulated market through the books"),
        events: int = typer.Option(50_000, help="--market-only: simulated order-flow events"),
        as_json: bool = typer.Option(False, "--json", help="--market-only: summary as JSON"),
        bbo_out: Path = typer.Option(None, "--bbo-out", help="--market-only: CSV of book updates"),
    ) -> None:
        """The whole system on its embedded simulated market: emulator, streams, books, ensemble, risk,
        execution, journal and report (no data on disk needed). `--market-only` replays just the market."""
        if not market_only:
            from kimera.demo import run_demo

            run_demo(seconds=seconds, out_dir=out_dir or Path("runs/demo"), seed=seed)
            return
        from kimera.sim.market import SimulatedMarket

        console = Console(stderr=as_json)
        market = SimulatedMarket(seed=seed)
        evs: list[Event] = list(market.events(events))
        summary = run_replay([evs], bbo_out)
        if as_json:
            print(json.dumps(summary.as_dict(), indent=2))
        else:
            print_summary(summary, console, f"demo: simulated market, {events:,} order-flow events, seed {seed}")
