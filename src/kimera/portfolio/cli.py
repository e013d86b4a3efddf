"""`kimera optimize` (one portfolio from a prices CSV, JSON out) and `kimera optimize-backtest` (HTML report)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from kimera.portfolio.optimize.api import METHODS, Options, optimize
from kimera.portfolio.optimize.constraints import Constraints, Group
from kimera.portfolio.optimize.errors import PortfolioError, UnknownMethodError
from kimera.portfolio.optimize.estimators import DEFAULT_HALFLIFE, ESTIMATORS
from kimera.portfolio.optimize.prices import DEFAULT_MAX_FILL, apply_gap_rule, load_prices

EXIT_BAD_INPUT = 2


def parse_group(spec: str, assets: tuple[str, ...]) -> Group:
    """`NAME=A,B,C:lo:hi` → Group over those assets with Σw in [lo, hi]."""
    try:
        name, rest = spec.split("=", 1)
        members, lo, hi = rest.rsplit(":", 2)
        names = [m.strip() for m in members.split(",") if m.strip()]
        bounds = float(lo), float(hi)
    except ValueError:
        raise PortfolioError(f"bad --group {spec!r}: expected NAME=A,B,C:lo:hi") from None
    index = {a: i for i, a in enumerate(assets)}
    unknown = [m for m in names if m not in index]
    if unknown:
        raise PortfolioError(f"--group {name}: unknown assets {unknown}")
    return Group(tuple(index[m] for m in names), bounds[0], bounds[1], name)


def write_json(payload: dict[str, Any], out: Path) -> None:
    """Write JSON to a file, or to stdout when `out` is `-`."""
    text = json.dumps(payload, indent=2)
    if str(out) == "-":
        sys.stdout.write(text + "\n")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")


def _fmt(value: object) -> str:
    """A float to 3 decimals, anything else (None) as n/a."""
    return f"{value:.3f}" if isinstance(value, float) else "n/a"


def fail(exc: Exception) -> typer.Exit:
    """Print a one-line error and return the exit to raise (code 2: bad input)."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def register(app: typer.Typer) -> None:
    """Add `kimera optimize` and `kimera optimize-backtest` to the CLI."""

    @app.command("optimize")
    def optimize_cmd(
        prices: Path = typer.Option(..., "--prices", help="CSV(.gz) of dates × assets adjusted closes"),
        method: str = typer.Option(..., "--method", help=" | ".join(METHODS)),
        json_out: Path = typer.Option(..., "--json", help="output JSON file ('-' for stdout)"),
        k: int = typer.Option(None, "--k", help="qubo: number of assets to select (default min(5, N))"),
        risk_aversion: float = typer.Option(
            1.0, "--risk-aversion", help="λ in μᵀw − (λ/2)wᵀΣw (and the QUBO)"
        ),
        start: str = typer.Option(None, "--start", help="first date (inclusive, YYYY-MM-DD)"),
        end: str = typer.Option(None, "--end", help="last date (inclusive, YYYY-MM-DD)"),
        risk_free: float = typer.Option(0.0, "--risk-free", help="annual risk-free rate for Sharpe"),
        estimator: str = typer.Option("sample", "--estimator", help=" | ".join(ESTIMATORS)),
        halflife: float = typer.Option(DEFAULT_HALFLIFE, "--halflife", help="ewma half-life in days"),
        cvar_beta: float = typer.Option(0.95, "--cvar-beta", help="cvar confidence level"),
        min_weight: float = typer.Option(0.0, "--min-weight", help="lower bound on every weight"),
        max_weight: float = typer.Option(1.0, "--max-weight", help="upper bound on every weight"),
        group: list[str] = typer.Option(None, "--group", help="NAME=A,B,C:lo:hi (repeatable)"),
        max_fill: int = typer.Option(DEFAULT_MAX_FILL, "--max-fill", help="longest price gap forward-filled"),
        strict: bool = typer.Option(False, "--strict", help="any missing price is an error"),
        seed: int = typer.Option(0, "--seed", help="qubo: annealer seed"),
    ) -> None:
        """Optimise one long-only, fully-invested portfolio and write the weights and figures as JSON."""
        try:
            if method not in METHODS:
                raise UnknownMethodError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
            table = apply_gap_rule(load_prices(prices).window(start, end), max_fill, strict)
            for asset, reason in table.dropped.items():
                typer.echo(f"note: dropped {asset}: {reason}", err=True)
            groups = tuple(parse_group(g, table.assets) for g in group or [])
            opts = Options(
                risk_aversion=risk_aversion,
                risk_free=risk_free,
                constraints=Constraints(min_weight, max_weight, groups),
                k=k,
                cvar_beta=cvar_beta,
                seed=seed,
            )
            alloc = optimize(table.returns(), method, opts, table.assets, estimator, halflife)
        except (PortfolioError, FileNotFoundError) as exc:
            raise fail(exc) from None
        payload = alloc.to_json()
        write_json(payload, json_out)
        typer.echo(
            f"{method}: {len(alloc.assets)} assets, return {alloc.stats.expected_return:.2%}, "
            f"volatility {alloc.stats.volatility:.2%}, Sharpe {_fmt(alloc.stats.sharpe)}, {alloc.solve_seconds * 1e3:.1f} ms",
            err=True,
        )

    @app.command("optimize-backtest")
    def backtest_cmd(
        html_out: Path = typer.Option(..., "--html", help="output HTML report"),
        returns: Path = typer.Option(None, "--returns", help="CSV of dates × assets daily simple returns"),
        prices: Path = typer.Option(None, "--prices", help="or: CSV(.gz) of adjusted closes"),
        volumes: Path = typer.Option(None, "--volumes", help="CSV of daily dollar volumes (market impact)"),
        sigmas: Path = typer.Option(None, "--sigmas", help="CSV of daily volatilities (else trailing std)"),
        method: list[str] = typer.Option(
            None, "--method", help="strategy (repeatable); default all + equal-weight"
        ),
        lookback: int = typer.Option(60, "--lookback", help="estimation window, trading days"),
        every: int = typer.Option(21, "--every", help="rebalance every N trading days"),
        capital: float = typer.Option(1e8, "--capital", help="starting capital in dollars"),
        half_spread_bps: float = typer.Option(
            5.0, "--half-spread-bps", help="half-spread cost, basis points"
        ),
        impact: float = typer.Option(1.0, "--impact", help="square-root impact coefficient b"),
        estimator: str = typer.Option("sample", "--estimator", help=" | ".join(ESTIMATORS)),
        risk_aversion: float = typer.Option(1.0, "--risk-aversion"),
        risk_free: float = typer.Option(0.0, "--risk-free"),
        k: int = typer.Option(None, "--k"),
        start: str = typer.Option(None, "--start"),
        end: str = typer.Option(None, "--end"),
        json_out: Path = typer.Option(None, "--json", help="also write the summary rows as JSON"),
    ) -> None:
        """Backtest the optimisers with rebalancing and transaction costs; write one HTML report."""
        from kimera.portfolio.optimize.backtest import STRATEGIES, BacktestConfig, run_backtest
        from kimera.portfolio.optimize.backtest_report import write_backtest_report
        from kimera.portfolio.optimize.costs import CostModel
        from kimera.portfolio.optimize.market import load_market

        strategies = list(method) if method else list(STRATEGIES)
        try:
            for s in strategies:
                if s not in STRATEGIES:
                    raise UnknownMethodError(f"unknown strategy {s!r}; choose from {', '.join(STRATEGIES)}")
            market = load_market(returns, prices, volumes, sigmas, start, end)
            cfg = BacktestConfig(
                lookback=lookback,
                every=every,
                capital=capital,
                costs=CostModel(half_spread_bps * 1e-4, impact),
                estimator=estimator,
                options=Options(risk_aversion=risk_aversion, risk_free=risk_free, k=k),
            )
            results = [run_backtest(market, s, cfg) for s in strategies]
        except (PortfolioError, FileNotFoundError) as exc:
            raise fail(exc) from None
        path = write_backtest_report(results, market.assets, cfg, html_out)
        if json_out is not None:
            write_json({"summary": [r.summary() for r in results]}, json_out)
        for r in results:
            row = r.summary()
            typer.echo(
                f"{r.strategy:>14}: return {row['annual return']:.2%}, Sharpe {_fmt(row['sharpe'])}, costs ${row['costs $']:,.0f}",
                err=True,
            )
        typer.echo(f"wrote {path}", err=True)
