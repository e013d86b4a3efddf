"""`kimera bench`: run named benchmarks, write JSON and a markdown table to benchmarks/results/."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import typer
from rich.console import Console

from kimera.bench.registry import BenchResult, registered

RESULTS_DIR = Path("benchmarks/results")


def to_markdown(rows: list[BenchResult]) -> str:
    """Render rows as the README's markdown table."""
    lines = [
        "| benchmark | metric | kimera | baseline | baseline value | ratio | goal | met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        bv = f"{r.baseline_value:,.4g}" if r.baseline_value is not None else ""
        met = "" if r.goal_met is None else ("yes" if r.goal_met else "no")
        lines.append(
            f"| {r.name} | {r.metric} | {r.value:,.4g} {r.unit} | {r.baseline or ''} | {bv} | {ratio} | {r.goal or ''} | {met} |"
        )
    return "\n".join(lines) + "\n"


def run(only: list[str] | None, json_out: Path | None) -> list[BenchResult]:
    """Run the selected benchmarks (all when `only` is empty) and write the results."""
    console = Console()
    reg = registered()
    names = sorted(reg)
    if only:
        unknown = [n for n in only if not any(n == k or k.startswith(n + ".") for k in names)]
        if unknown:
            raise typer.BadParameter(f"unknown benchmark(s) {unknown}; known: {names}")
        names = [k for k in names if any(k == n or k.startswith(n + ".") for n in only)]
    rows: list[BenchResult] = []
    for name in names:
        console.print(f"[bold]bench[/bold] {name} ...")
        t0 = time.perf_counter()
        got = reg[name]()
        console.print(f"  done in {time.perf_counter() - t0:.1f}s")
        rows.extend(got)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
        "results": [dict(r.__dict__, ratio=r.ratio) for r in rows],
    }
    out = json_out or RESULTS_DIR / "latest.json"
    if only and json_out is None:  # a partial run never overwrites the full table
        out = RESULTS_DIR / f"partial-{'-'.join(only)}.json"
    out.write_text(json.dumps(payload, indent=2, default=str))
    md = out.with_suffix(".md")
    md.write_text(to_markdown(rows))
    console.print(to_markdown(rows))
    console.print(f"wrote {out} and {md}")
    return rows


def register(app: typer.Typer) -> None:
    """Add `kimera bench` to the CLI."""

    @app.command("bench")
    def bench_cmd(
        only: list[str] = typer.Option(None, "--only", help="benchmark name (repeatable); default all"),
        json_file: Path = typer.Option(None, "--json", help="write results JSON here"),
    ) -> None:
        """Measure every component against its baseline in the same run."""
        run(only, json_file)
