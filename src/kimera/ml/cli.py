"""`kimera ml train` and `kimera ml optimize`: the model, its optimised variants, and their reports."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_OUT = Path("runs/ml")


def _captures(data: list[str] | None) -> list[list[Path]] | None:
    if not data:
        return None
    caps = [[Path(p.strip()) for p in d.split(",") if p.strip()] for d in data]
    if any(not c for c in caps):
        raise typer.BadParameter("each --data needs at least one file")
    missing = [str(p) for c in caps for p in c if not p.exists()]
    if missing:
        raise typer.BadParameter(f"file(s) not found: {missing}")
    return caps


def register(app: typer.Typer) -> None:
    """Add the `ml` command group to the main app."""
    ml = typer.Typer(no_args_is_help=True, help="Short-horizon order-book models: train, optimise.")

    @ml.command("train")
    def train_cmd(
        data: list[str] = typer.Option(
            None, "--data",
            help="one capture: comma-separated Binance files read as one series (repeatable); "
            "default: the shared spot (0808+0809) and USD-M (0808) BTCUSDT captures",
        ),
        horizon: int = typer.Option(500, "--horizon", min=1, help="label horizon in ms"),
        band: float = typer.Option(0.0, "--band", min=0.0, help="dead band in bps: |return| <= band is flat"),
        grid: int = typer.Option(100, "--grid-ms", min=1, help="feature sampling step in ms"),
        out: Path = typer.Option(DEFAULT_OUT, "--out", help="output directory"),
        seed: int = typer.Option(0, "--seed", help="seed for weights and batch order"),
        epochs: int = typer.Option(None, "--epochs", min=1, help="cap on every model's epochs (quick runs)"),
        no_lstm: bool = typer.Option(False, "--no-lstm", help="skip the LSTM"),
    ) -> None:
        """Build features and labels, train logistic regression, MLP and LSTM, and report against baselines."""
        from kimera.ml.report import verdict_text
        from kimera.ml.workflow import train_run

        meta = train_run(out, _captures(data), horizon, band, grid, seed, epochs, not no_lstm)
        for name, sc in meta["scores"].items():
            t = sc["test"]
            typer.echo(f"{name:9s} test accuracy {t['accuracy']:.4f}  macro-F1 {t['macro_f1']:.4f}")
        typer.echo(verdict_text(meta))
        typer.echo(f"wrote {out}/train_report.md and the model files")

    @ml.command("optimize")
    def optimize_cmd(
        model: Path = typer.Option(DEFAULT_OUT, "--model", help="a run directory written by `kimera ml train`"),
        out: Path = typer.Option(None, "--out", help="output directory (default: the model directory)"),
        prune: float = typer.Option(0.5, "--prune", min=0.01, max=0.99, help="share of hidden neurons to prune"),
        runs: int = typer.Option(3000, "--runs", min=10, help="timed batch-1 calls per variant"),
    ) -> None:
        """Prune, quantise, export to ONNX and distil the MLP; measure every variant against fp32."""
        from kimera.ml.artifacts import RunFormatError, load_meta
        from kimera.ml.optimize import OptimizeConfig
        from kimera.ml.workflow import optimize_run

        try:
            meta = load_meta(model)
        except RunFormatError as exc:
            raise typer.BadParameter(str(exc)) from exc
        cfg = OptimizeConfig(prune_amount=prune, runs_b1=runs, runs_b256=max(runs // 10, 5), seed=int(meta["seed"]))
        dest = out or model
        rep = optimize_run(model, dest, cfg)
        for s in rep.stages:
            typer.echo(
                f"{s.name:30s} acc {s.accuracy:.4f} F1 {s.macro_f1:.4f} {s.size_bytes:8d} B "
                f"b1 {s.latency_b1_us:7.1f} us b256 {s.latency_b256_us:7.1f} us agree {s.agreement:.2%}"
            )
        typer.echo(f"best: {rep.best}; goals: " + ", ".join(f"{k}={v}" for k, v in rep.goals.items() if k.endswith("_met")))
        typer.echo(f"wrote {dest}/optimize_report.md and the model files")

    app.add_typer(ml, name="ml")
