"""The trading report: one HTML page (issue 7's `HtmlReport`) with equity/drawdown, price with trades,
position, ack-latency histogram, tension over time, risk rejections, and a summary table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import itertools

from matplotlib.figure import Figure

from kimera.report.html import HtmlReport
from kimera.runners.pipeline import RunResult, TradingPipeline

FIGURES = ("equity-drawdown", "price-trades", "position", "latency", "tension", "rejections")


def summary_stats(pipe: TradingPipeline, result: RunResult) -> dict[str, Any]:
    """Return, annualised Sharpe of the sampled equity curve, max drawdown, trades, fees, win rate."""
    pf = pipe.portfolio
    eq = [p.equity for p in pf.curve]
    ts = [p.ts_ns for p in pf.curve]
    rets = [(b - a) / a for a, b in itertools.pairwise(eq) if a > 0]
    sharpe = 0.0
    if len(rets) > 1:
        mean = sum(rets) / len(rets)
        sd = math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1))
        span_s = max((ts[-1] - ts[0]) / 1e9, 1e-9)
        per_year = len(rets) / span_s * 365 * 86400
        sharpe = mean / sd * math.sqrt(per_year) if sd > 0 else 0.0
    closes = pipe.record.closing
    wins = sum(1 for r in closes if r > 0)
    return {
        "return %": (pf.equity() / pf.initial_cash - 1) * 100 if pf.initial_cash else 0.0,
        "Sharpe (annualised)": sharpe,
        "max drawdown %": pf.max_drawdown * 100,
        "trades (fills)": pf.fills,
        "orders": result.orders,
        "fees": pf.fees,
        "realised PnL": pf.realised,
        "unrealised PnL": pf.unrealised(),
        "win rate %": wins / len(closes) * 100 if closes else 0.0,
        "risk rejections": len(pipe.record.rejections),
        "events": result.events,
        "events/s": result.events_per_s,
    }


def _fig(h: float = 2.6) -> tuple[Figure, Any]:
    fig = Figure(figsize=(10, h))
    return fig, fig.add_subplot(111)


def _secs(ts: list[int], t0: int) -> list[float]:
    return [(t - t0) / 1e9 for t in ts]


def build_report(pipe: TradingPipeline, result: RunResult, title: str = "Kimera backtest") -> HtmlReport:
    """The report for a finished run."""
    rec, pf = pipe.record, pipe.portfolio
    t0 = pf.curve[0].ts_ns if pf.curve else (rec.mids[0][0] if rec.mids else 0)
    rep = HtmlReport(title, f"{result.events:,} events, {result.orders:,} orders, {pf.fills:,} fills")
    rep.add_heading("Summary")
    rep.add_summary(summary_stats(pipe, result))

    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.add_subplot(211), fig.add_subplot(212)
    xs = _secs([p.ts_ns for p in pf.curve], t0)
    ax1.plot(xs, [p.equity for p in pf.curve], color="tab:blue")
    ax1.set_ylabel("equity")
    ax2.fill_between(xs, [-p.drawdown * 100 for p in pf.curve], 0, color="tab:red", alpha=0.5)
    ax2.set_ylabel("drawdown %")
    ax2.set_xlabel("seconds")
    _add(rep, fig, "equity-drawdown", "Equity and drawdown")

    fig, ax = _fig(3.2)
    ax.plot(_secs([m[0] for m in rec.mids], t0), [m[1] for m in rec.mids], color="0.4", lw=0.8, label="mid")
    for side, marker, color in ((1, "^", "tab:green"), (-1, "v", "tab:red")):
        pts = [(f[0], f[1]) for f in rec.fills if f[2] == side]
        ax.scatter(_secs([p[0] for p in pts], t0), [p[1] for p in pts], marker=marker, color=color, s=18,
                   label="buy" if side > 0 else "sell", zorder=3)
    ax.legend(loc="best")
    ax.set_ylabel("price")
    _add(rep, fig, "price-trades", "Price (mid) with our fills marked")

    fig, ax = _fig()
    ax.step(_secs([p[0] for p in rec.positions], t0), [p[1] for p in rec.positions], where="post")
    ax.set_ylabel("position (base)")
    _add(rep, fig, "position", "Position after each fill")

    fig, ax = _fig()
    lat = [x / 1000 for x in pipe.venue.ack_latency_ns]
    ax.hist(lat or [0.0], bins=40, color="tab:purple")
    ax.set_xlabel("submit -> acknowledgement (us, event time)")
    _add(rep, fig, "latency", "Order acknowledgement latency")

    fig, ax = _fig()
    ax.plot(_secs([t[0] for t in rec.tension], t0), [t[1] for t in rec.tension], ".", ms=3, color="tab:orange")
    ax.set_ylabel("tension rate")
    ax.set_ylim(-0.05, 1.05)
    _add(rep, fig, "tension", "Signal tension behind each intent")

    fig, ax = _fig()
    rx = _secs([r[0] for r in rec.rejections], t0)
    ax.step(rx, list(range(1, len(rx) + 1)), where="post", color="tab:red")
    ax.set_ylabel("risk rejections (cumulative)")
    _add(rep, fig, "rejections", "Risk rejections over time")
    reasons: dict[str, int] = {}
    for _, why in rec.rejections:
        k = why.split(":")[0] if not why.startswith("blocked") else why.split(":")[1].strip()
        reasons[k] = reasons.get(k, 0) + 1
    if reasons:
        rep.add_table(sorted(reasons.items(), key=lambda kv: -kv[1]), header=["rejected by", "count"])
    return rep


def _add(rep: HtmlReport, fig: Figure, fid: str, caption: str) -> None:
    rep.add_html(f'<section class="plot" id="plot-{fid}">')
    rep.add_figure(fig, caption, fmt="svg")
    rep.add_html("</section>")


def write_report(pipe: TradingPipeline, result: RunResult, path: str | Path, title: str = "Kimera backtest") -> Path:
    """Build and write the report; returns the path."""
    return build_report(pipe, result, title).write(path)
