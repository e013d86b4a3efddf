"""`kimera stream`: a live top of book with the venue's health (rich Live table), from the venue itself,
any compatible URL, or an in-process emulator on the simulated market (`--emulate`, no internet)."""

from __future__ import annotations

import asyncio
import time

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from kimera.venues.feeds import FEEDS, make_feed
from kimera.venues.stream import StreamClient, StreamConfig

DEFAULT_SYMBOLS = {"binance": "BTCUSDT", "binance-usdm": "BTCUSDT", "kraken": "XBT/USD"}


def health_table(client: StreamClient, started: float) -> Table:
    """The top of book and the stream's health as a two-column table."""
    sb, h = client.book, client.health
    book, inst = sb.book, sb.book.instrument
    t = Table(title=f"{inst.key}  ({client.url})", show_header=False, min_width=60)
    bb, ba = book.best_bid(), book.best_ask()
    t.add_row("state", f"[{'green' if h.state == 'live' else 'yellow'}]{h.state}[/] "
                       f"({'trusted' if sb.trusted else 'UNTRUSTED'})")
    t.add_row("best bid", f"{inst.price_str(bb[0])} x {inst.size_str(bb[1])}" if bb else "-")
    t.add_row("best ask", f"{inst.price_str(ba[0])} x {inst.size_str(ba[1])}" if ba else "-")
    spread = book.spread()
    t.add_row("spread / mid", f"{inst.price_str(spread) if spread is not None else '-'} / {book.mid() or '-'}")
    t.add_row("levels (bid/ask)", f"{len(book.bids)}/{len(book.asks)}")
    elapsed = max(time.monotonic() - started, 1e-9)
    t.add_row("messages", f"{h.messages:,} ({h.messages / elapsed:,.0f}/s), book updates {h.book_updates:,}")
    t.add_row("gaps / checksum failures", f"{sb.gaps} / {sb.checksum_failures}")
    t.add_row("resyncs / snapshots", f"{sb.resyncs} / {sb.snapshots}")
    t.add_row("reconnects / stale events", f"{h.reconnects} / {h.stale_events}")
    age = h.age_s()
    t.add_row("last message", "-" if age == float("inf") else f"{age * 1000:.0f} ms ago")
    if h.log:
        t.add_row("last event", h.log[-1])
    return t


async def stream(venue: str, symbol: str, url: str | None, rest_url: str | None, seconds: float | None,
                 emulate: bool, depth: int, stale_after: float, rate: float, console: Console) -> StreamClient:
    """Run the client (and the emulator with `emulate`) with a live table; returns the client at the end."""
    from kimera.emulator import Emulator, Source

    emu: Emulator | None = None
    if emulate:
        emu = Emulator(venue, Source.simulated(symbol=symbol), symbols=[symbol], rate=rate)
        await emu.start()
        url, rest_url = emu.ws_url, emu.http_url
    client = StreamClient(make_feed(venue, symbol, depth), url, rest_url,
                          config=StreamConfig(stale_after_s=stale_after))
    started = time.monotonic()
    task = asyncio.create_task(client.run(seconds))
    try:
        with Live(health_table(client, started), console=console, refresh_per_second=4) as live:
            while not task.done():
                await asyncio.wait({task}, timeout=0.25)
                live.update(health_table(client, started))
        await task
    finally:
        if not task.done():
            client.stop()
            await task
        if emu is not None:
            await emu.stop()
    return client


def register(app: typer.Typer) -> None:
    """Add `kimera stream`."""

    @app.command("stream")
    def stream_cmd(
        venue: str = typer.Option("binance", "--venue", help=f"one of {', '.join(FEEDS)}"),
        symbol: str = typer.Option(None, "--symbol", help="venue symbol (default BTCUSDT; XBT/USD on kraken)"),
        url: str = typer.Option(None, "--url", help="websocket base URL (default: the venue's)"),
        rest_url: str = typer.Option(None, "--rest-url", help="REST base URL for snapshots (default: the venue's)"),
        seconds: float = typer.Option(None, "--seconds", help="stop after N seconds (default: until Ctrl-C)"),
        emulate: bool = typer.Option(False, "--emulate", help="serve the simulated market from an in-process emulator"),
        depth: int = typer.Option(100, "--depth", help="book depth to subscribe (Kraken)"),
        stale_after: float = typer.Option(10.0, "--stale-after", help="seconds of silence before resubscribing"),
        rate: float = typer.Option(500.0, "--rate", help="emulator messages per second (with --emulate)"),
    ) -> None:
        """Stream a venue's book live and show the top of book with the stream's health."""
        v = venue.lower()
        if v not in FEEDS:
            raise typer.BadParameter(f"unknown venue {venue!r}; known: {', '.join(FEEDS)}")
        sym = symbol or DEFAULT_SYMBOLS[v]
        console = Console()
        try:
            client = asyncio.run(stream(v, sym, url, rest_url, seconds, emulate, depth, stale_after, rate, console))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except (ValueError, OSError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        sb, h = client.book, client.health
        bb, ba = sb.book.best_bid(), sb.book.best_ask()
        inst = sb.book.instrument
        console.print()
        console.print(
            f"{inst.key}: messages={h.messages} book_updates={h.book_updates} trusted={sb.trusted} "
            f"bid={inst.price_str(bb[0]) if bb else '-'} ask={inst.price_str(ba[0]) if ba else '-'} "
            f"gaps={sb.gaps} resyncs={sb.resyncs} reconnects={h.reconnects} stale={h.stale_events}",
            soft_wrap=True,
        )
