"""Where files live: `ROOT/<kind>/<venue>/<symbol>/<YYYY-MM-DD>/part-<first seq>-<last seq>.parquet`.

The day is the UTC date of the events' receive time. The name carries the seq range of the rows inside,
so listing a directory is enough to order files, to resume a stream's seq counter, and to recognise a
file made redundant by a compacted file that covers its range (left behind by a crash mid-compaction).
Files are written under a temporary name and renamed, so a visible `.parquet` is always complete.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from kimera.storage.errors import StoreError
from kimera.storage.schema import KINDS

NS_PER_DAY = 86_400_000_000_000
_EPOCH = dt.date(1970, 1, 1)
PART_RE = re.compile(r"^part-(\d{20})-(\d{20})\.parquet$")
TMP_RE = re.compile(r"^\.part-.*\.(\d+)\.tmp$")


def day_of(ns: int) -> str:
    """UTC date `YYYY-MM-DD` of a nanosecond timestamp."""
    return (_EPOCH + dt.timedelta(days=ns // NS_PER_DAY)).isoformat()


def day_number(day: str) -> int:
    """Days since the epoch of a `YYYY-MM-DD` string."""
    return (dt.date.fromisoformat(day) - _EPOCH).days


def _component(name: str, what: str) -> str:
    if not name or name in (".", ".."):
        raise StoreError(name or "''", f"invalid {what} name")
    return quote(name, safe="")


def part_name(first: int, last: int) -> str:
    """File name for rows with seq in [first, last]."""
    if not 0 <= first <= last:
        raise ValueError(f"bad seq range {first}..{last}")
    return f"part-{first:020d}-{last:020d}.parquet"


def partition_dir(root: Path, kind: str, venue: str, symbol: str, day: str) -> Path:
    """The directory of one kind, stream and day."""
    return root / kind / _component(venue, "venue") / _component(symbol, "symbol") / day


def tmp_name(final: str) -> str:
    """The temporary name a file is written under (hidden, with the writer's pid)."""
    return f".{final}.{os.getpid()}.tmp"


@dataclass(frozen=True, order=True)
class Part:
    """One visible file of the store."""

    venue: str
    symbol: str
    kind: str
    first: int
    last: int
    day: str
    path: Path


@dataclass
class Partition:
    """The files of one kind/stream/day directory: live parts, superseded parts and leftover temp files."""

    path: Path
    live: list[Part]
    superseded: list[Part]
    temp: list[Path]


def _split_live(parts: list[Part]) -> tuple[list[Part], list[Part]]:
    """Drop parts whose seq range lies inside another part's range (a compaction already covers them)."""
    live: list[Part] = []
    dead: list[Part] = []
    for p in sorted(parts, key=lambda q: (q.first, -q.last)):
        if live and p.last <= live[-1].last:
            dead.append(p)
            continue
        if live and p.first <= live[-1].last:
            raise StoreError(p.path, f"seq range {p.first}..{p.last} overlaps {live[-1].path.name}")
        live.append(p)
    return live, dead


def scan_partition(path: Path, kind: str, venue: str, symbol: str) -> Partition:
    """List one day directory."""
    parts: list[Part] = []
    temp: list[Path] = []
    for entry in os.scandir(path):
        m = PART_RE.match(entry.name)
        if m:
            parts.append(Part(venue, symbol, kind, int(m.group(1)), int(m.group(2)), path.name, Path(entry.path)))
        elif TMP_RE.match(entry.name):
            temp.append(Path(entry.path))
    live, dead = _split_live(parts)
    return Partition(path, live, dead, temp)


def _subdirs(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return sorted(Path(e.path) for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))


def partitions(root: Path, kind: str | None = None, venue: str | None = None, symbol: str | None = None,
               first_day: str | None = None, last_day: str | None = None) -> list[Partition]:
    """Every day directory matching the filters, in (kind, venue, symbol, day) order."""
    if not root.is_dir():
        raise StoreError(root, "no such store directory")
    if kind is not None and kind not in KINDS:
        raise StoreError(root, f"unknown table kind {kind!r}; known: {KINDS}")
    out: list[Partition] = []
    for k in (kind,) if kind else KINDS:
        for vdir in _subdirs(root / k):
            v = unquote(vdir.name)
            if venue is not None and v != venue:
                continue
            for sdir in _subdirs(vdir):
                s = unquote(sdir.name)
                if symbol is not None and s != symbol:
                    continue
                for ddir in _subdirs(sdir):
                    d = ddir.name
                    if (first_day and d < first_day) or (last_day and d > last_day):
                        continue
                    out.append(scan_partition(ddir, k, v, s))
    return out


def live_parts(root: Path, kind: str | None = None, venue: str | None = None, symbol: str | None = None,
               first_day: str | None = None, last_day: str | None = None) -> list[Part]:
    """The visible, non-superseded files matching the filters, ordered by stream, kind and seq."""
    parts = [p for part in partitions(root, kind, venue, symbol, first_day, last_day) for p in part.live]
    return sorted(parts, key=lambda p: (p.venue, p.symbol, p.kind, p.first))


def next_seq(root: Path, venue: str, symbol: str) -> int:
    """The first unused seq of a stream (0 for a new one): one past the highest seq in any file name."""
    if not root.is_dir():
        return 0
    last = -1
    for part in partitions(root, None, venue, symbol):
        for p in part.live + part.superseded:
            last = max(last, p.last)
    return last + 1


def streams(root: Path) -> list[tuple[str, str]]:
    """Every (venue, symbol) with at least one directory in the store."""
    seen: set[tuple[str, str]] = set()
    for k in KINDS:
        for vdir in _subdirs(root / k):
            for sdir in _subdirs(vdir):
                seen.add((unquote(vdir.name), unquote(sdir.name)))
    return sorted(seen)
