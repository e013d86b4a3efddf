"""`kimera record`, `kimera query` and `kimera store compact|stats`: the tick store from the command line."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kimera.model import Event
from kimera.storage.errors import StoreError

DEFAULT_ROOT = Path("data/ticks")


def capture_source(paths: list[Path], fmt: str, speed: float) -> AsyncIterator[Event]:
    """Capture files replayed as a stream (sources merged by receive time, like `kimera replay`)."""
    from kimera.data.sources import open_sources
    from kimera.engine.replay import ReplayEngine
    from kimera.storage.record import paced

    return paced(ReplayEngine.merge(open_sources(paths, fmt)), speed)


def event_venue(name: str) -> str:
    """The events' venue for a CLI venue name (`binance-usdm` -> `BINANCE_USDM`)."""
    return name.upper().replace("-", "_")


async def _run_record(source: AsyncIterator[Event], writer: object, seconds: float | None,
                      venue: str | None, symbol: str | None) -> dict[str, object]:
    from kimera.storage.record import record
    from kimera.storage.writer import TickWriter

    assert isinstance(writer, TickWriter)
    task = asyncio.ensure_future(record(source, writer, seconds, venue, symbol))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return (await task).as_dict()
    except asyncio.CancelledError:  # stopped by a signal: the buffer has been flushed
        return {"events": writer.stats.events, "files": writer.stats.files, "bytes": writer.stats.bytes,
                "stopped": "signal"}


def _fail(exc: object) -> typer.Exit:
    """Print an error (unwrapped, to stderr) and return the exit to raise."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _print_rows(columns: list[str], rows: list[tuple[object, ...]], fmt: str, console: Console) -> None:
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    elif fmt == "json":
        print(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str))
    else:
        t = Table(*columns)
        for r in rows:
            t.add_row(*("" if v is None else str(v) for v in r))
        console.print(t)


def register(app: typer.Typer) -> None:
    """Add `record`, `query` and the `store` group."""

    @app.command("record")
    def record_cmd(
        venue: str = typer.Option(None, "--venue", help="binance, binance-usdm, kraken (required for live recording)"),
        symbol: str = typer.Option(None, "--symbol", help="symbol, e.g. BTCUSDT"),
        url: str = typer.Option(None, "--url", help="websocket base URL (default: the venue's; e.g. an emulator)"),
        rest_url: str = typer.Option(None, "--rest-url", help="REST base for snapshots (default: --url's host)"),
        out: Path = typer.Option(DEFAULT_ROOT, "--out", help="store directory"),
        seconds: float = typer.Option(None, "--seconds", help="stop after this many seconds"),
        from_file: list[Path] = typer.Option(None, "--from-file", help="replay a capture as if streamed (repeatable)"),
        fmt: str = typer.Option("auto", "--format", help="capture format for --from-file (see kimera replay)"),
        speed: float = typer.Option(0.0, "--speed", help="--from-file pace: 1 = recorded pace, 0 = as fast as possible"),
        flush_events: int = typer.Option(50_000, "--flush-events", help="flush after this many buffered events"),
        flush_seconds: float = typer.Option(5.0, "--flush-seconds", help="flush at least this often"),
        no_fsync: bool = typer.Option(False, "--no-fsync", help="do not fsync flushed files"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    ) -> None:
        """Record a live stream or a replayed capture into the tick store (a crash loses only the tail)."""
        from kimera.storage.live import live_events
        from kimera.storage.writer import TickWriter

        console = Console(stderr=True)
        if not from_file and (not venue or not symbol):
            raise typer.BadParameter("--venue and --symbol are required without --from-file")
        keep: tuple[str | None, str | None] = (None, None)  # live: the client streams one venue/symbol
        try:
            if from_file:  # a capture: --venue/--symbol select what to keep
                source = capture_source(list(from_file), fmt, speed)
                keep = (event_venue(venue) if venue else None, symbol)
            else:
                source = live_events(venue, symbol, url, rest_url)
            writer = TickWriter(out, flush_events=flush_events, flush_seconds=flush_seconds, fsync=not no_fsync)
            summary = asyncio.run(_run_record(source, writer, seconds, *keep))
        except (StoreError, ValueError, KeyError, TypeError, OSError) as exc:
            raise _fail(exc) from exc
        if as_json:
            print(json.dumps(summary))
        else:
            console.print(f"recorded {summary['events']:,} events into {out} "
                          f"({summary['files']} files, {summary['bytes']:,} bytes; stopped: {summary['stopped']})")

    @app.command("query")
    def query_cmd(
        sql: str = typer.Argument(..., help="SQL over views book_snapshot, book_delta, book_delta_levels, "
                                            "quote, trade, bar, instruments"),
        root: Path = typer.Option(DEFAULT_ROOT, "--root", help="store directory"),
        fmt: str = typer.Option("table", "--format", help="table|csv|json"),
        max_rows: int = typer.Option(1000, "--max-rows", help="print at most this many rows"),
    ) -> None:
        """Query the tick store with DuckDB."""
        import duckdb

        from kimera.storage.query import connect

        console = Console()
        if fmt not in ("table", "csv", "json"):
            raise typer.BadParameter(f"--format must be table, csv or json, not {fmt!r}")
        if not root.is_dir():
            raise _fail(f"{root}: no such store directory")
        try:
            cur = connect(root).execute(sql)
            columns = [d[0] for d in cur.description or []]
            rows = cur.fetchmany(max_rows)
        except (duckdb.Error, StoreError) as exc:
            raise _fail(exc) from exc
        _print_rows(columns, rows, fmt, console)

    store = typer.Typer(help="Tick store maintenance: compaction and compression statistics.", no_args_is_help=True)
    app.add_typer(store, name="store")

    @store.command("compact")
    def compact_cmd(
        root: Path = typer.Option(DEFAULT_ROOT, "--root", help="store directory"),
        level: int = typer.Option(19, "--level", help="zstd level of the merged files"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Merge each day's small flush files into one file and remove crash leftovers."""
        from kimera.storage.compact import compact

        try:
            rep = compact(root, compression_level=level)
        except StoreError as exc:
            raise _fail(exc) from exc
        d = {k: v for k, v in rep.__dict__.items() if k != "outputs"}
        print(json.dumps(d) if as_json else ", ".join(f"{k}={v:,}" for k, v in d.items()))

    @store.command("stats")
    def stats_cmd(
        root: Path = typer.Option(DEFAULT_ROOT, "--root", help="store directory"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Compression per dataset: original (decoded Arrow) bytes, compressed bytes, ratio."""
        from kimera.storage.stats import compression_stats, total

        try:
            rows = compression_stats(root)
        except StoreError as exc:
            raise _fail(exc) from exc
        rows.append(total(rows))
        if as_json:
            print(json.dumps([r.as_dict() for r in rows]))
            return
        t = Table("kind", "venue", "symbol", "files", "events", "original_bytes", "compressed_bytes", "ratio", "saved")
        for r in rows:
            t.add_row(r.kind, r.venue, r.symbol, str(r.files), f"{r.events:,}", f"{r.original_bytes:,}",
                      f"{r.compressed_bytes:,}", f"{r.ratio:.1f}x", f"{r.saved:.1%}")
        Console().print(t)


def main() -> None:
    """`python -m kimera.storage.cli …`: the storage commands alone, a light process for long recordings."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, help="Kimera tick store.")
    register(app)
    app()


if __name__ == "__main__":
    main()
