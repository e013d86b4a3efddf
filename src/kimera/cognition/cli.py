"""`kimera tensions`: every pair of geoids (JSON lines) in tension, as CSV `geoid_a,geoid_b,tension,E,L,S`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add `kimera tensions` to the CLI."""

    @app.command("tensions")
    def tensions_cmd(
        geoids: Path = typer.Option(
            ...,
            "--geoids",
            help="JSON lines: geoid_id, semantic_state, symbolic_state, embedding (list or null), metadata",
        ),
        threshold: float = typer.Option(
            0.4, "--threshold", help="report pairs with tension >= this, in [0, 1]"
        ),
        weights: str = typer.Option(
            None, "--weights", help="w_E,w_L,w_S (non-negative, summing to 1); default 1/3 each"
        ),
        out: Path = typer.Option(None, "--out", help="write the CSV here instead of stdout"),
    ) -> None:
        """Every pair of geoids with tension >= threshold, exactly (CSV: geoid_a,geoid_b,tension,E,L,S)."""
        from kimera.cognition.engine import ContradictionEngine  # numba: imported only when the command runs
        from kimera.cognition.io import read_geoids
        from kimera.cognition.weights import TensionWeights

        try:
            w = TensionWeights.parse(weights) if weights is not None else TensionWeights()
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"--threshold must be in [0, 1], got {threshold}")
            items = read_geoids(geoids)
            pairs = ContradictionEngine(w).detect(items, threshold)
        except ValueError as exc:  # GeoidInputError and GeoidError are ValueErrors
            raise _fail(str(exc)) from exc
        if out is None:
            pairs.write_csv(sys.stdout)
            sys.stdout.flush()
            return
        try:
            with open(out, "w", newline="") as fh:
                pairs.write_csv(fh)
        except OSError as exc:
            raise _fail(f"cannot write {out}: {exc.strerror or exc}") from exc
        typer.echo(
            f"{len(pairs)} pairs with tension >= {threshold} among {len(items)} geoids -> {out}", err=True
        )
