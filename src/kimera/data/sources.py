"""Open capture files as event sources, by explicit format or detected from the files themselves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from kimera.data.binance import load_binance_capture
from kimera.data.errors import LoadStats
from kimera.data.lines import open_text
from kimera.data.lobster import load_lobster
from kimera.model import Event

FORMATS = ("auto", "binance", "lobster", "cryptofeed", "bybit", "tardis")


def detect_format(path: Path) -> str:
    """Guess a file's format from its name and first line."""
    from kimera.data.bybit import is_bybit_dump
    from kimera.data.tardis import is_tardis
    from kimera.data.wscaptures import is_cryptofeed

    name = path.name.lower()
    if is_bybit_dump(path):
        return "bybit"
    if is_tardis(path):
        return "tardis"
    if is_cryptofeed(path):
        return "cryptofeed"
    if ("message" in name or "orderbook" in name) and name.endswith(".csv"):
        return "lobster"
    with open_text(path) as f:
        first = f.readline()
    head, _, rest = first.partition(" ")
    if head.isdigit() and rest.lstrip().startswith("{") and ('"stream"' in rest or "lastUpdateId" in rest):
        return "binance"
    raise ValueError(f"{path}: cannot detect the format (first line {first[:80]!r}); pass --format")


def open_sources(paths: Iterable[str | Path], fmt: str = "auto", skip_bad: bool = False,
                 stats: LoadStats | None = None) -> list[Iterator[Event]]:
    """One event iterator per logical source: consecutive files of one format are one source.

    LOBSTER needs its message and orderbook files as a pair (given in either order).
    """
    files = [Path(p) for p in paths]
    for p in files:
        if not p.exists():
            raise FileNotFoundError(f"no such file: {p}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    kinds = [detect_format(p) if fmt == "auto" else fmt for p in files]
    if fmt == "lobster" or (fmt == "auto" and "lobster" in kinds):
        msgs = [p for p in files if "message" in p.name]
        books = [p for p in files if "orderbook" in p.name]
        if len(msgs) != 1 or len(books) != 1:
            raise ValueError("LOBSTER needs exactly one *message*.csv and one *orderbook*.csv file")
        symbol = msgs[0].name.split("_")[0]
        return [load_lobster(msgs[0], books[0], symbol)]
    kind = kinds[0]
    if any(k != kind for k in kinds):
        raise ValueError(f"files of different formats in one replay: {sorted(set(kinds))}; replay them separately")
    if kind == "cryptofeed":
        from kimera.data.wscaptures import load_cryptofeed

        return [load_cryptofeed(files, skip_bad=skip_bad, stats=stats)]
    if kind == "bybit":
        from kimera.data.bybit import load_bybit

        return [load_bybit(files, skip_bad=skip_bad, stats=stats)]
    if kind == "tardis":
        from kimera.data.tardis import load_tardis

        return [load_tardis(files, skip_bad=skip_bad, stats=stats)]
    return [load_binance_capture(files, skip_bad=skip_bad, stats=stats)]
