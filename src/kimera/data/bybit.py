"""Loader for Bybit's public order-book dumps (`orderbook.N` JSON lines, optionally zipped), as in
../shared/data/bybit-linear-xrpusdt-ob500. The dumps carry no local receive time: `recv_ns` is the venue's
`ts` (documented, so latency figures are not read from it)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from kimera.data.errors import LoadStats
from kimera.data.lines import read_bytes
from kimera.model import Event
from kimera.venues.bybit import BybitAdapter


def _members(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                if not name.endswith("/"):
                    yield f"{path}!{name}", z.read(name)
    else:
        yield str(path), read_bytes(path)


def is_bybit_dump(path: str | Path) -> bool:
    """True if the file (or its first zip member) starts with a Bybit `orderbook.` topic line."""
    p = Path(path)
    try:
        for _, data in _members(p):
            return data.lstrip()[:40].startswith(b'{"topic":"orderbook.')
    except (zipfile.BadZipFile, OSError):
        return False
    return False


def load_bybit(
    paths: Iterable[str | Path],
    skip_bad: bool = False,
    stats: LoadStats | None = None,
) -> Iterator[Event]:
    """Events of Bybit dump files in the order given (snapshot, then deltas chained by `u`).

    A malformed line raises `MalformedInputError(file, line, reason)`; with `skip_bad=True` it is counted.
    """
    st = stats if stats is not None else LoadStats()
    adapter = BybitAdapter()

    def parse(line: bytes) -> list[Event]:
        msg = orjson.loads(line)
        return adapter.parse(msg, int(msg["ts"]) * 1_000_000)

    for path in (Path(p) for p in paths):
        for name, data in _members(path):
            yield from st.decode_lines(name, data, parse, skip_bad)
