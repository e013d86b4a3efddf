"""The trading report: one HTML page (issue 7's `HtmlReport`) with equity/drawdown, price with trades,
position, ack-latency histogram, tension over time, risk rejections, and a summary table.

One clock: every series is plotted on the pipeline's receive clock (`recv_ns` of the market data, which is
also what orders, fills and risk checks are stamped with), in seconds from the run's start, sorted. Points
that fall outside the run (a series on another clock) are left out and counted in a note, never drawn.

Sharpe is computed from the equity curve resampled on a fixed grid (`SHARPE_BAR_NS`, 1 s bars, last value
carried forward) and annualised by the number of such bars in a 24/7 year; a run with fewer than
`SHARPE_MIN_PERIODS` bars, or whose equity never moved, has no Sharpe ratio (None, with the reason).

`RunTrace` (optional, attached before the run) records what `RunRecord` cannot tell apart in a multi-venue
run: mids and fills per instrument, and the tension of every ensemble decision, not only of intents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib.figure import Figure

from kimera.engine.books import BookUpdate
from kimera.execution.orders import Fill
from kimera.report.html import HtmlReport
from kimera.runners.pipeline import RunResult, TradingPipeline
from kimera.strategy.ensemble import Ensemble

FIGURES = ("equity-drawdown", "price-trades", "position", "latency", "tension", "rejections")
SHARPE_BAR_NS = 1_000_000_000
SHARPE_MIN_PERIODS = 30
YEAR_NS = 365 * 86_400 * 1_000_000_000  # crypto trades around the clock


# -- statistics ---------------------------------------------------------------------------------------
def resample_equity(ts_ns: Sequence[int], equity: Sequence[float], bar_ns: int = SHARPE_BAR_NS) -> np.ndarray:
    """Equity on a fixed grid `ts[0] + k * bar_ns` (k = 0..), each the last sample at or before it."""
    if not ts_ns:
        return np.zeros(0)
    order = np.argsort(np.asarray(ts_ns, dtype=np.int64), kind="stable")
    ts = np.asarray(ts_ns, dtype=np.int64)[order]
    eq = np.asarray(equity, dtype=np.float64)[order]
    n = int((ts[-1] - ts[0]) // bar_ns) + 1
    grid = ts[0] + np.arange(n, dtype=np.int64) * bar_ns
    return eq[np.searchsorted(ts, grid, side="right") - 1]


def sharpe_ratio(ts_ns: Sequence[int], equity: Sequence[float], bar_ns: int = SHARPE_BAR_NS,
                 min_periods: int = SHARPE_MIN_PERIODS) -> tuple[float | None, str]:
    """Annualised Sharpe ratio (risk-free 0) of the equity curve on `bar_ns` bars, and how it was obtained.

    None, with the reason, when the run has fewer than `min_periods` bars or the equity never moved."""
    bar_s = bar_ns / 1e9
    eq = resample_equity(ts_ns, equity, bar_ns)
    periods = max(0, len(eq) - 1)
    if periods < min_periods:
        span = (max(ts_ns) - min(ts_ns)) / 1e9 if ts_ns else 0.0
        return None, (f"n/a: the run spans {span:,.1f} s, {periods} bars of {bar_s:g} s; a Sharpe ratio needs at "
                      f"least {min_periods}")
    if (eq <= 0).any():
        return None, "n/a: equity reached zero"
    rets = np.diff(eq) / eq[:-1]
    sd = float(rets.std(ddof=1))
    if not sd > 0:
        return None, f"n/a: equity did not move over {periods:,} bars of {bar_s:g} s"
    per_year = YEAR_NS / bar_ns
    per_bar = float(rets.mean()) / sd
    se = math.sqrt((1.0 + 0.5 * per_bar * per_bar) / periods * per_year)  # iid returns (Lo 2002)
    return per_bar * math.sqrt(per_year), (
        f"{periods:,} bars of {bar_s:g} s: mean/sd of bar returns x sqrt({per_year:,.0f} bars a year); "
        f"standard error ~{se:,.3g}")


def rejection_reason(why: str) -> str:
    """The limit(s) named by a rejection: 'blocked: max_order_rate: 51 over 50' -> 'max_order_rate'."""
    if why.startswith("blocked:"):
        names = [part.split(":")[0].strip() for part in why[len("blocked:"):].split(";")]
        return "+".join(n for n in names if n) or why
    return why.split(":")[0].strip()


def rejections_by_reason(rejections: Sequence[tuple[int, str]]) -> dict[str, int]:
    """Rejection counts per limit name, largest first."""
    out: dict[str, int] = {}
    for _, why in rejections:
        k = rejection_reason(why)
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def open_positions(pipe: TradingPipeline) -> list[dict[str, Any]]:
    """Each traded instrument: size, average price, mark, unrealised and realised PnL, buys and sells."""
    sides: dict[str, list[int]] = {}
    for o in pipe.om.orders.values():
        if o.filled:
            s = sides.setdefault(o.instrument.key, [0, 0])
            s[0 if int(o.side) > 0 else 1] += 1
    rows = []
    for key, p in sorted(pipe.portfolio.positions.items()):
        buys, sells = sides.get(key, [0, 0])
        rows.append({"instrument": key, "size": p.size, "avg price": p.avg_price if p.qty else None,
                     "mark": p.mark, "unrealised": p.unrealised(), "realised (gross)": p.realised, "fees": p.fees,
                     "buy orders filled": buys, "sell orders filled": sells})
    return rows


def positions_note(pipe: TradingPipeline) -> str | None:
    """Why realised PnL is what it is, when no fill ever reduced a position (else None)."""
    pf = pipe.portfolio
    if not pf.fills or pipe.record.closing:
        return None
    rows = open_positions(pipe)
    one_way = [r for r in rows if not (r["buy orders filled"] and r["sell orders filled"])]
    text = "No fill reduced a position, so realised PnL is 0 and there is no win rate: "
    if len(one_way) == len(rows) and len(rows) > 1:
        legs = ", ".join(f"{r['instrument']} {'bought' if r['buy orders filled'] else 'sold'} only" for r in rows)
        text += (f"positions are kept per venue and every order on a venue went the same way ({legs}), so all "
                 "legs are still open. ")
    else:
        text += "every fill added to the open position. "
    return text + f"The result so far is the unrealised PnL of the open positions, {pf.unrealised():+,.2f}."


def summary_stats(pipe: TradingPipeline, result: RunResult) -> dict[str, Any]:
    """Return, annualised Sharpe (None when the run is too short), max drawdown, trades, fees, win rate."""
    pf = pipe.portfolio
    sharpe, basis = sharpe_ratio([p.ts_ns for p in pf.curve], [p.equity for p in pf.curve])
    closes = pipe.record.closing
    wins = sum(1 for r in closes if r > 0)
    net = sum(p.size for p in pf.positions.values())
    return {
        "return %": (pf.equity() / pf.initial_cash - 1) * 100 if pf.initial_cash else 0.0,
        "Sharpe (annualised)": sharpe,
        "Sharpe basis": basis,
        "max drawdown %": pf.max_drawdown * 100,
        "trades (fills)": pf.fills,
        "orders": result.orders,
        "fees": pf.fees,
        "realised PnL": pf.realised,
        "unrealised PnL": pf.unrealised(),
        "open positions": sum(1 for p in pf.positions.values() if p.qty),
        "net position (base)": net,
        "win rate %": wins / len(closes) * 100 if closes else None,
        "position-reducing fills": len(closes),
        "risk rejections": len(pipe.record.rejections),
        "events": result.events,
        "events/s": result.events_per_s,
    }


# -- what RunRecord does not keep ------------------------------------------------------------------------
class RunTrace:
    """Mids and fills per instrument and every ensemble decision's tension, recorded from the bus.

    `attach(pipe)` after the pipeline is built (so it runs after the strategies on each book update)."""

    def __init__(self, mid_every_ns: int = 250_000_000, decision_bin_ns: int = 100_000_000) -> None:
        if mid_every_ns <= 0 or decision_bin_ns <= 0:
            raise ValueError("sampling intervals must be positive")
        self.mid_every_ns = mid_every_ns
        self.decision_bin_ns = decision_bin_ns
        self.mids: dict[str, list[tuple[int, float]]] = {}
        self.fills: list[tuple[int, str, float, int, float]] = []  # ts, key, price, side, size
        # decision bin -> [count, sum tension rate, sum pulse, max pulse, trades, sum of ns into the bin]
        self.decisions: dict[int, list[float]] = {}
        self._next_mid: dict[str, int] = {}
        self._deciders: list[Any] = []
        self._seen: list[Any] = []
        self._om: Any = None

    def attach(self, pipe: TradingPipeline) -> RunTrace:
        """Subscribe to the pipeline's bus."""
        self._om = pipe.om
        self._deciders = [s for s in pipe.strategies if isinstance(s, Ensemble)]
        self._seen = [None] * len(self._deciders)
        pipe.bus.subscribe(BookUpdate, self._on_book)
        pipe.bus.subscribe(Fill, self._on_fill)
        return self

    def _on_book(self, u: BookUpdate) -> None:
        book = u.book
        key = book.instrument.key
        t = u.recv_ns
        if t >= self._next_mid.get(key, 0):
            mid = book.mid()
            if mid is not None:
                self._next_mid[key] = t + self.mid_every_ns
                self.mids.setdefault(key, []).append((t, mid))
        for i, s in enumerate(self._deciders):
            d = s.last
            if d is None or d is self._seen[i]:
                continue
            self._seen[i] = d
            k, off = divmod(t, self.decision_bin_ns)
            b = self.decisions.get(k)
            if b is None:
                b = self.decisions[k] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
            b[0] += 1
            b[1] += d.tension_rate
            b[2] += d.pulse
            b[3] = max(b[3], d.pulse)
            b[4] += 1 if d.trade else 0
            b[5] += off

    def _on_fill(self, f: Fill) -> None:
        inst = self._om.get(f.client_id).instrument
        self.fills.append((f.ts_ns, f.key, inst.px(f.price), int(f.side), inst.qty(f.size)))

    @property
    def decision_count(self) -> int:
        """How many ensemble decisions were recorded."""
        return int(sum(b[0] for b in self.decisions.values()))


# -- the page ---------------------------------------------------------------------------------------------
class _Clock:
    """Seconds from the run's start; drops (and counts) points outside [start, end]."""

    def __init__(self, start_ns: int, end_ns: int) -> None:
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.dropped: dict[str, int] = {}

    def series(self, name: str, pts: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """`pts` (time first) sorted by time, in seconds from the start, without points off the run."""
        lo, hi = self.start_ns, self.end_ns
        keep = sorted((p for p in pts if lo <= p[0] <= hi), key=lambda p: p[0])
        if len(keep) < len(pts):
            self.dropped[name] = self.dropped.get(name, 0) + len(pts) - len(keep)
        return [((p[0] - lo) / 1e9, *p[1:]) for p in keep]


def run_span(pipe: TradingPipeline, result: RunResult, trace: RunTrace | None = None) -> tuple[int, int]:
    """The run's start and end on the receive clock: `result.extra["start_ns"/"end_ns"]` when the runner
    gives them, else the first equity sample or mid and the last one."""
    rec, pf = pipe.record, pipe.portfolio
    firsts = [pf.curve[0].ts_ns] if pf.curve else []
    firsts += [rec.mids[0][0]] if rec.mids else []
    firsts += [v[0][0] for v in trace.mids.values() if v] if trace is not None else []
    start = result.extra.get("start_ns")
    t0 = int(start) if start is not None else (min(firsts) if firsts else 0)
    lasts = [pf.curve[-1].ts_ns] if pf.curve else []
    lasts += [rec.mids[-1][0]] if rec.mids else []
    end = result.extra.get("end_ns")
    t1 = int(end) if end is not None else (max(lasts) if lasts else t0)
    return t0, max(t0, t1)


def _fig(h: float = 2.6) -> tuple[Figure, Any]:
    fig = Figure(figsize=(10, h))
    return fig, fig.add_subplot(111)


def _time_axis(ax: Any, span_s: float, label: bool = True) -> None:
    ax.set_xlim(0, max(span_s, 1e-3))
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    if label:
        ax.set_xlabel("seconds since the start of the run (receive clock)")


def build_report(pipe: TradingPipeline, result: RunResult, title: str = "Kimera backtest",
                 trace: RunTrace | None = None) -> HtmlReport:
    """The report for a finished run (`result.extra` may carry the run's `start_ns`/`end_ns`)."""
    rec, pf = pipe.record, pipe.portfolio
    t0, t1 = run_span(pipe, result, trace)
    clock = _Clock(t0, t1)
    span = (t1 - t0) / 1e9
    rep = HtmlReport(title, f"{result.events:,} events over {span:,.1f} s, {result.orders:,} orders, "
                            f"{pf.fills:,} fills, {len(rec.rejections):,} risk rejections")
    rep.add_heading("Summary")
    stats = summary_stats(pipe, result)
    shown: dict[str, Any] = dict(stats)
    if stats["Sharpe (annualised)"] is None:
        shown["Sharpe (annualised)"] = "n/a (see basis)"
    if stats["win rate %"] is None:
        shown["win rate %"] = "n/a: no position-reducing fills"
    rep.add_summary(shown)

    rows = open_positions(pipe)
    if rows:
        rep.add_heading("Positions at the end")
        rep.add_table(rows)
        note = positions_note(pipe)
        if note:
            rep.add_paragraph(note)

    fig = Figure(figsize=(10, 4))
    ax1 = fig.add_subplot(211)
    ax2 = fig.add_subplot(212, sharex=ax1)
    curve = clock.series("equity", [(p.ts_ns, p.equity, p.drawdown) for p in pf.curve])
    xs = [c[0] for c in curve]
    ax1.step(xs, [c[1] for c in curve], where="post", color="tab:blue")
    ax1.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax1.set_ylabel("equity")
    ax2.fill_between(xs, [-c[2] * 100 for c in curve], 0, step="post", color="tab:red", alpha=0.5)
    ax2.set_ylabel("drawdown %")
    _time_axis(ax1, span, label=False)
    _time_axis(ax2, span)
    _add(rep, fig, "equity-drawdown", "Equity (marked to mid, sampled every second and at each fill) and drawdown")

    _price_plot(rep, clock, span, rec.mids, rec.fills, trace)

    fig, ax = _fig()
    if trace is not None and trace.fills:
        per: dict[str, float] = {}
        series: dict[str, list[tuple[int, float]]] = {}
        net: list[tuple[int, float]] = []
        for t, key, _, side, size in sorted(trace.fills, key=lambda f: f[0]):
            per[key] = per.get(key, 0.0) + side * size
            series.setdefault(key, [(t0, 0.0)]).append((t, per[key]))
            net.append((t, sum(per.values())))
        for key, s in sorted(series.items()):
            pts = clock.series(f"position {key}", [*s, (t1, per[key])])
            ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", label=key)
        pts = clock.series("net position", [(t0, 0.0), *net, (t1, net[-1][1])])
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color="k", lw=1.6, label="net")
        ax.legend(loc="best", fontsize=8)
        caption = "Position per venue and net, after each fill"
    else:
        last = rec.positions[-1][1] if rec.positions else 0.0
        pts = clock.series("position", [(t0, 0.0), *rec.positions, (t1, last)])
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post")
        caption = "Position after each fill"
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set_ylabel("position (base)")
    _time_axis(ax, span)
    _add(rep, fig, "position", caption)

    fig, ax = _fig()
    lat = np.asarray(pipe.venue.ack_latency_ns, dtype=np.float64) / 1000.0
    if len(lat):
        lo, hi = float(lat.min()), float(lat.max())
        top = hi * 1.25 if hi > 0 else 1.0
        ax.hist(lat, bins=np.linspace(0.0, top, 51), color="tab:purple")
        ax.set_xlim(0.0, top)
        if lo == hi:
            caption = (f"Order acknowledgement latency: all {len(lat):,} acknowledgements took {lo:,.0f} µs "
                       "(the simulated venue's latency model is constant: entry + response delay)")
        else:
            p50, p99 = np.percentile(lat, [50, 99])
            caption = (f"Order acknowledgement latency, {len(lat):,} orders: median {p50:,.0f} µs, "
                       f"p99 {p99:,.0f} µs, max {hi:,.0f} µs")
    else:
        ax.text(0.5, 0.5, "no orders were acknowledged", ha="center", va="center", transform=ax.transAxes)
        caption = "Order acknowledgement latency (no orders)"
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    ax.set_xlabel("submit -> acknowledgement (µs, simulated)")
    ax.set_ylabel("orders")
    _add(rep, fig, "latency", caption)

    fig, ax = _fig()
    if trace is not None and trace.decisions:
        bins = sorted(trace.decisions.items())
        w = trace.decision_bin_ns
        # each bin is drawn at the mean time of its decisions (a bin's centre can fall outside the run)
        pts = clock.series("decisions", [(b * w + int(v[5] / v[0]), v[1] / v[0], v[2] / v[0], v[3])
                                         for b, v in bins])
        x = [p[0] for p in pts]
        ax.fill_between(x, [p[2] for p in pts], [p[3] for p in pts], color="tab:orange", alpha=0.2, lw=0,
                        label="pulse, mean to max")
        ax.plot(x, [p[2] for p in pts], color="tab:orange", lw=0.9, label="pulse (strongest member pair)")
        ax.plot(x, [p[1] for p in pts], color="tab:blue", lw=0.9, label="tension rate (share of pairs in tension)")
        its = clock.series("intents", rec.tension)
        ax.plot([p[0] for p in its], [p[1] for p in its], "|", ms=8, color="k", label="intent (its tension rate)")
        ax.legend(loc="upper right", fontsize=7, ncol=2)
        caption = (f"Tension of every ensemble decision ({trace.decision_count:,} decisions, one per book update "
                   f"of the traded instrument), averaged over {w / 1e6:g} ms bins; intents marked")
    else:
        pts = clock.series("tension", rec.tension)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], ".", ms=4, color="tab:orange")
        values = {p[1] for p in pts}
        same = f" (all {next(iter(values)):g})" if len(values) == 1 else ""
        caption = (f"Tension rate (share of member pairs in tension) behind each of the {len(rec.tension):,} "
                   f"intents{same}; decisions that made no intent were not recorded in this run")
    ax.set_ylabel("tension")
    ax.set_ylim(-0.05, 1.05)
    _time_axis(ax, span)
    _add(rep, fig, "tension", caption)

    fig, ax = _fig()
    reasons = rejections_by_reason(rec.rejections)
    for k in reasons:
        pts = clock.series("rejections", [(t, 0) for t, why in rec.rejections if rejection_reason(why) == k])
        rx = [0.0] + [p[0] for p in pts] + [span]
        ax.step(rx, [0, *range(1, len(pts) + 1), len(pts)], where="post", label=k)
    if reasons:
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no risk rejections", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("rejections (cumulative)")
    _time_axis(ax, span)
    _add(rep, fig, "rejections", "Risk rejections over time, by limit")
    if reasons:
        rep.add_table(list(reasons.items()), header=["rejected by", "count"])
    if clock.dropped:
        rep.add_paragraph("Left out, outside the run's time span (another clock?): " + ", ".join(
            f"{n} points of {k}" for k, n in clock.dropped.items()))
    return rep


def _price_plot(rep: HtmlReport, clock: _Clock, span: float, mids: list[tuple[int, float]],
                fills: list[tuple[int, float, int, float]], trace: RunTrace | None) -> None:
    """Mid with our fills; one panel per instrument when the trace has several (their prices differ)."""
    panels: list[tuple[str, list[tuple[int, float]], list[tuple[int, float, int]]]]
    if trace is not None and trace.mids:
        panels = [(key, m, [(t, px, side) for t, k, px, side, _ in trace.fills if k == key])
                  for key, m in sorted(trace.mids.items())]
        caption = ("Mid price of each venue with our fills on that venue marked" if len(panels) > 1
                   else "Price (mid) with our fills marked")
    else:
        panels = [("", mids, [(f[0], f[1], f[2]) for f in fills])]
        caption = "Price (mid) with our fills marked"
    fig = Figure(figsize=(10, 1.2 + 2.2 * len(panels)))
    first: Any = None
    for i, (key, m, fs) in enumerate(panels):
        ax = fig.add_subplot(len(panels), 1, i + 1, sharex=first)
        first = first or ax
        pts = clock.series(f"mid {key}".strip(), m)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color="0.35", lw=0.9, label="mid")
        for side, marker, color in ((1, "^", "tab:green"), (-1, "v", "tab:red")):
            fp = clock.series(f"fills {key}".strip(), [f for f in fs if f[2] == side])
            ax.scatter([p[0] for p in fp], [p[1] for p in fp], marker=marker, color=color, s=22,
                       label="buy fill" if side > 0 else "sell fill", zorder=3)
        ax.legend(loc="best", fontsize=7)
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
        ax.set_ylabel(f"{key}\nprice" if key else "price", fontsize=8 if key else None)
        _time_axis(ax, span, label=i == len(panels) - 1)
    _add(rep, fig, "price-trades", caption)


def _add(rep: HtmlReport, fig: Figure, fid: str, caption: str) -> None:
    rep.add_html(f'<section class="plot" id="plot-{fid}">')
    rep.add_figure(fig, caption, fmt="svg")
    rep.add_html("</section>")


def write_report(pipe: TradingPipeline, result: RunResult, path: str | Path, title: str = "Kimera backtest",
                 trace: RunTrace | None = None) -> Path:
    """Build and write the report; returns the path."""
    return build_report(pipe, result, title, trace).write(path)
