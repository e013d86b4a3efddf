"""The backtest's HTML page: summary table, equity, drawdown, turnover and weights, via `HtmlReport`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kimera.portfolio.optimize.backtest import BacktestConfig, BacktestResult
from kimera.report import HtmlReport

MAX_LEGEND_ASSETS = 12


def _figure(width: float = 10.0, height: float = 3.6) -> Figure:
    """A Figure on the Agg canvas (no pyplot state, safe in any thread)."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def equity_figure(results: Sequence[BacktestResult]) -> Figure:
    """Portfolio value (net of costs) of every strategy, relative to the starting capital."""
    fig = _figure()
    ax = fig.subplots()
    for res in results:
        ax.plot(_point_dates(res), res.values / res.values[0], label=res.strategy, lw=1.3)
    ax.set_ylabel("value / capital")
    ax.grid(alpha=0.3)
    ax.legend(ncol=4, fontsize=8)
    return fig


def drawdown_figure(results: Sequence[BacktestResult]) -> Figure:
    """Drawdown from the running peak."""
    fig = _figure(height=3.0)
    ax = fig.subplots()
    for res in results:
        ax.plot(_point_dates(res), -100 * res.drawdown, label=res.strategy, lw=1.1)
    ax.set_ylabel("drawdown %")
    ax.grid(alpha=0.3)
    ax.legend(ncol=4, fontsize=8)
    return fig


def turnover_figure(results: Sequence[BacktestResult]) -> Figure:
    """One-way turnover and dollar cost at each rebalance."""
    fig = _figure(height=3.4)
    ax1, ax2 = fig.subplots(1, 2)
    width = 0.8 / max(len(results), 1)
    for i, res in enumerate(results):
        x = np.arange(len(res.turnover)) + i * width
        ax1.bar(x, 100 * res.turnover, width=width, label=res.strategy)
        ax2.plot(
            res.dates[res.rebalance_rows], np.cumsum(res.costs) / 1e3, marker="o", ms=3, label=res.strategy
        )
    ax1.set_xlabel("rebalance #")
    ax1.set_ylabel("one-way turnover %")
    ax2.set_ylabel("cumulative costs, $ thousands")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    ax1.legend(fontsize=7)
    fig.autofmt_xdate()
    return fig


def weights_figure(result: BacktestResult, assets: Sequence[str]) -> Figure:
    """Stacked weights held each day; the largest assets labelled."""
    fig = _figure(height=3.2)
    ax = fig.subplots()
    w = result.weights
    order = np.argsort(-w.mean(axis=0))
    labels = [assets[j] if rank < MAX_LEGEND_ASSETS else "_nolegend_" for rank, j in enumerate(order)]
    ax.stackplot(result.dates, *[w[:, j] for j in order], labels=labels, step="post")
    ax.set_ylim(0, 1)
    ax.set_ylabel("weight")
    ax.set_title(result.strategy, fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    return fig


def _point_dates(res: BacktestResult) -> np.ndarray:
    """Dates for `values`: the day before the first trading day, then every day."""
    first = res.dates[0] - np.timedelta64(1, "D")
    return np.concatenate([[first], res.dates])


def write_backtest_report(
    results: Sequence[BacktestResult],
    assets: Sequence[str],
    cfg: BacktestConfig,
    path: str | Path,
    title: str = "Rebalancing backtest",
) -> Path:
    """Write the page to `path` and return it."""
    span = f"{results[0].dates[0]} … {results[0].dates[-1]}" if results else ""
    report = HtmlReport(title, f"{len(assets)} assets, {span}")
    report.add_heading("Summary")
    report.add_table([res.summary() for res in results])
    c = cfg.costs
    report.add_paragraph(
        f"Every {cfg.every} trading days each strategy re-estimates ({cfg.estimator}) on the previous "
        f"{cfg.lookback} days and trades to its target at the start of the next day. Capital ${cfg.capital:,.0f}. "
        f"Costs per trade of z dollars: {c.half_spread * 1e4:g} bp half-spread + {c.impact:g}·σ·|z|·√(|z|/V), "
        "V the day's dollar volume, σ the day's volatility. Returns and volatility are annualised with 252 "
        f"days; Sharpe uses a risk-free rate of {cfg.options.risk_free:g}. Turnover is one-way, Σ|Δw|/2, "
        "annualised, excluding the initial purchase from cash."
    )
    report.add_heading("Equity")
    report.add_figure(equity_figure(results), "Portfolio value net of transaction costs.")
    report.add_figure(drawdown_figure(results), "Drawdown from the running peak.")
    report.add_heading("Turnover and costs")
    report.add_figure(
        turnover_figure(results), "Left: one-way turnover at each rebalance. Right: cumulative costs."
    )
    report.add_heading("Weights over time")
    for res in results:
        report.add_figure(weights_figure(res, assets), f"{res.strategy}: weights held each day.")
    notes = [f"{res.strategy}: {note}" for res in results for note in res.notes]
    if notes:
        report.add_heading("Notes")
        report.add_table([[n] for n in notes], header=["windows without a solution"])
    return report.write(path)
