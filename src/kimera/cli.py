"""The `kimera` command line: one typer app; each domain package adds its commands in its own `cli.py`."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Kimera: a contradiction-aware trading system.")

# Each module exposes `register(app: typer.Typer) -> None`. Order = order in `kimera --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "kimera.engine.cli",  # replay, demo
    "kimera.cognition.cli",  # tensions
    "kimera.venues.cli",  # stream
    "kimera.execution.cli",  # backtest, paper, live
    "kimera.portfolio.cli",  # optimize
    "kimera.storage.cli",  # record, query
    "kimera.ml.cli",  # ml train / optimize
    "kimera.bench.cli",  # bench
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a package not built yet; any other import error is real
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    """Entry point of the `kimera` script."""
    app()


if __name__ == "__main__":
    main()
