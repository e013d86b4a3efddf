"""`kimera backtest`, `kimera paper` and `kimera live`: the same strategies on recorded, streamed and real fills."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

LIVE_FLAG = "--i-understand-this-trades-real-money"


def register(app: typer.Typer) -> None:
    """Add `backtest`, `paper` and `live`."""

    @app.command("backtest")
    def backtest_cmd(
        paths: list[Path] = typer.Argument(None, help="Binance capture files; none = embedded simulated market"),
        events: int = typer.Option(50_000, help="simulated order-flow events (without paths)"),
        seed: int = typer.Option(7, help="simulated market seed"),
        strategy: str = typer.Option("ensemble", help="ensemble|obi|meanrev|flow"),
        qty: str = typer.Option("0.01", help="base quantity per order"),
        max_position: str = typer.Option("0.05", help="absolute position limit (base units)"),
        latency_us: int = typer.Option(1_000, help="order entry latency, us"),
        response_us: int = typer.Option(1_000, help="venue response latency, us"),
        md_latency_us: int = typer.Option(0, help="extra market-data latency, us"),
        queue: str = typer.Option("risk_averse", help="risk_averse | prob:<power>"),
        journal: Path = typer.Option(None, help="SQLite journal (resumes if it holds this run)"),
        report: Path = typer.Option(None, help="write the HTML report here"),
        no_risk_engine: bool = typer.Option(False, help="position limits only, without the risk engine"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Backtest strategies with simulated execution, a journal and an HTML report."""
        from kimera.runners.backtest import BacktestConfig, run_backtest

        console = Console(stderr=as_json)
        cfg = BacktestConfig(
            paths=list(paths or []), sim_events=events, seed=seed, strategy=strategy, quantity=qty,
            max_position=max_position, order_latency_us=latency_us, response_latency_us=response_us,
            md_latency_us=md_latency_us, queue=queue, risk_engine=not no_risk_engine,
        )
        try:
            out = run_backtest(cfg, journal)
        except (ValueError, FileNotFoundError, KeyError, OSError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        from kimera.runners.report import summary_stats, write_report

        stats = summary_stats(out.pipeline, out.result)
        stats.update({k: v for k, v in out.result.extra.items()})
        if report is not None:
            stats["report"] = str(write_report(out.pipeline, out.result, report))
        if as_json:
            print(json.dumps(stats, indent=2, default=str))
            return
        t = Table(title="backtest", show_header=False)
        for k, v in stats.items():
            t.add_row(k, f"{v:,.6g}" if isinstance(v, float) else str(v))
        console.print(t)

    @app.command("paper")
    def paper_cmd(
        venue: str = typer.Option("binance", help="venue of the live stream"),
        symbol: str = typer.Option("BTCUSDT"),
        url: str = typer.Option(None, help="websocket base URL (e.g. the emulator's); default: the venue's"),
        rest_url: str = typer.Option(None, help="REST base URL for snapshots; default: the venue's"),
        seconds: float = typer.Option(60.0, help="how long to run"),
        strategy: str = typer.Option("obi", help="ensemble|obi|meanrev|flow"),
        qty: str = typer.Option("0.001"),
        journal: Path = typer.Option(None),
        report: Path = typer.Option(None),
    ) -> None:
        """Live market data through the connectivity layer, simulated fills."""
        from kimera.runners.paper import PaperConfig, run_paper

        out = run_paper(PaperConfig(venue, symbol, url, seconds, strategy, qty, journal, rest_url))
        if report is not None:
            from kimera.runners.report import write_report

            write_report(out.pipeline, out.result, report, "Kimera paper trading")
        Console().print(out.result)

    @app.command("live")
    def live_cmd(
        confirm: bool = typer.Option(False, LIVE_FLAG, help="required: this sends real orders"),
        exchange: str = typer.Option("binance", help="ccxt exchange id"),
        symbol: str = typer.Option("BTC/USDT"),
        api_url: str = typer.Option(None, help="REST base URL override (e.g. the emulator)"),
        side: str = typer.Option(None, help="send one order: buy|sell (smoke test)"),
        qty: str = typer.Option("0.001"),
        price: str = typer.Option(None, help="limit price; none = market"),
        journal: Path = typer.Option(None),
        strategy: str = typer.Option(None, help="run a strategy (ensemble|obi|meanrev|flow) on the live stream"),
        seconds: float = typer.Option(60.0, help="with --strategy: how long to trade"),
        venue: str = typer.Option("binance", help="with --strategy: the stream's venue (binance|kraken)"),
        ws_url: str = typer.Option(None, help="with --strategy: websocket base URL; default: the venue's"),
        rest_url: str = typer.Option(None, help="with --strategy: REST base for book snapshots; default: the venue's"),
        max_position: str = typer.Option("0.01", help="with --strategy: net position limit (base units)"),
        report: Path = typer.Option(None, help="with --strategy: write the HTML report here"),
    ) -> None:
        """Real orders through ccxt. Refuses without the flag and KIMERA_API_KEY/KIMERA_API_SECRET.

        Without --strategy: balances and open orders, and with --side one order (a smoke test). With
        --strategy: the same strategy, risk gates and journal as a backtest, on the live stream, every
        approved order sent to the exchange; working orders are cancelled at the end."""
        from kimera.runners.live import LiveConfig, LiveRefused, live_session, live_strategy_session

        try:
            cfg = LiveConfig.from_env(confirm, exchange, symbol, api_url, os.environ)
        except LiveRefused as exc:
            Console(stderr=True).print(f"[red]refused:[/red] {exc}")
            raise typer.Exit(3) from exc
        if strategy is None:
            print(json.dumps(live_session(cfg, side, qty, price, journal), indent=2, default=str))
            return
        import asyncio

        out = asyncio.run(live_strategy_session(cfg, strategy, seconds, qty, max_position, venue, ws_url, rest_url,
                                                journal))
        if report is not None:
            from kimera.runners.report import write_report

            write_report(out.pipeline, out.result, report, "Kimera live trading")
        print(json.dumps({"result": out.result, "book_updates": out.book_updates,
                          "cancelled_at_end": out.cancelled_at_end, "errors": out.venue.errors}, indent=2,
                         default=lambda o: getattr(o, "__dict__", str(o))))
