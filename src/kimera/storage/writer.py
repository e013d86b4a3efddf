"""`TickWriter`: append events while streaming; every flush becomes its own small, complete Parquet file.

A crash loses at most the events buffered since the last flush (at most `flush_events` events or
`flush_seconds` of them) and never damages a file already written: each flush is written under a
temporary name, fsynced and renamed. `kimera.storage.compact` later merges the small files.
One writer per (venue, symbol) stream at a time: seq numbers continue from the files already there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kimera.model import Event, Instrument
from kimera.storage.codec import encode
from kimera.storage.files import FileMeta, write_file
from kimera.storage.layout import NS_PER_DAY, day_of, next_seq, part_name, partition_dir
from kimera.storage.schema import KINDS, kind_of, to_table
from kimera.venues.registry import resolve_instrument


@dataclass
class _Stream:
    """One (venue, symbol): its instrument, next seq and the events buffered per kind."""

    venue: str
    symbol: str
    inst: Instrument
    next_seq: int
    seqs: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    events: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in KINDS})


@dataclass
class WriterStats:
    """What a writer has written so far."""

    events: int = 0
    flushes: int = 0
    files: int = 0
    bytes: int = 0
    decoded_bytes: int = 0


def _partition_times(kind: str, table: pa.Table) -> np.ndarray:
    """The time that picks a row's day: receive time, or for bars without one, their end time."""
    t = table.column("recv_ns").to_numpy()
    if kind == "bar":
        t = np.where(t == 0, table.column("end_ns").to_numpy(), t)
    return t


class TickWriter:
    """Buffers events per stream and kind; flushes every `flush_events` events or `flush_seconds`."""

    def __init__(
        self,
        root: str | Path,
        instruments: Callable[[str, str], Instrument] = resolve_instrument,
        flush_events: int = 50_000,
        flush_seconds: float | None = 5.0,
        compression_level: int = 3,
        fsync: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if flush_events <= 0:
            raise ValueError(f"flush_events must be positive, got {flush_events}")
        if flush_seconds is not None and flush_seconds <= 0:
            raise ValueError(f"flush_seconds must be positive or None, got {flush_seconds}")
        self.root = Path(root)
        self.instruments = instruments
        self.flush_events = flush_events
        self.flush_seconds = flush_seconds
        self.compression_level = compression_level
        self.fsync = fsync
        self.clock = clock
        self.stats = WriterStats()
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._pending = 0
        self._last_flush = clock()
        self._closed = False

    @property
    def pending(self) -> int:
        """Events buffered and not yet on disk."""
        return self._pending

    def _stream(self, venue: str, symbol: str) -> _Stream:
        try:
            inst = self.instruments(venue, symbol)
        except KeyError as exc:
            raise KeyError(f"cannot store {venue}:{symbol}: no instrument ({exc.args[0]})") from None
        s = _Stream(venue, symbol, inst, next_seq(self.root, venue, symbol))
        self._streams[(venue, symbol)] = s
        return s

    def write(self, ev: Event) -> None:
        """Buffer one event; flush when the event count or the time since the last flush says so."""
        if self._closed:
            raise RuntimeError("TickWriter is closed")
        kind = kind_of(ev)
        s = self._streams.get((ev.venue, ev.symbol)) or self._stream(ev.venue, ev.symbol)
        s.events[kind].append(ev)
        s.seqs[kind].append(s.next_seq)
        s.next_seq += 1
        self._pending += 1
        if self._pending >= self.flush_events or (
                self.flush_seconds is not None and self.clock() - self._last_flush >= self.flush_seconds):
            self.flush()

    def write_many(self, events: Iterable[Event]) -> None:
        """Buffer many events (flushing as configured)."""
        for ev in events:
            self.write(ev)

    def maybe_flush(self) -> bool:
        """Flush if `flush_seconds` have passed with events pending (for a timer while the stream is quiet)."""
        if self._pending and self.flush_seconds is not None and self.clock() - self._last_flush >= self.flush_seconds:
            self.flush()
            return True
        return False

    def flush(self) -> list[Path]:
        """Write every buffered event: one file per stream, kind and day. Returns the new files.

        An event that cannot be stored (e.g. a value beyond int64) does not block the others: the rest
        are written, then a `ValueError` names the rejected event(s).
        """
        written: list[Path] = []
        rejected: list[str] = []
        for s in self._streams.values():
            for kind in KINDS:
                seqs, evs = s.seqs[kind], s.events[kind]
                if not evs:
                    continue
                s.events[kind], s.seqs[kind] = [], []
                try:
                    table = to_table(kind, s.venue, s.symbol, seqs, evs)
                except ValueError:
                    table, bad = self._salvage(kind, s, seqs, evs)
                    rejected += bad
                if table.num_rows:
                    written += self._write_days(kind, s, table)
        self.stats.events += self._pending - len(rejected)
        self.stats.flushes += 1 if written else 0
        self._pending = 0
        self._last_flush = self.clock()
        if rejected:
            raise ValueError(f"{len(rejected)} event(s) not stored: " + "; ".join(rejected[:3]))
        return written

    @staticmethod
    def _salvage(kind: str, s: _Stream, seqs: list[int], evs: list[Any]) -> tuple[pa.Table, list[str]]:
        """The storable events of a batch that failed to convert, and why each other one failed."""
        ok_seqs: list[int] = []
        ok: list[Any] = []
        bad: list[str] = []
        for q, ev in zip(seqs, evs, strict=True):
            try:
                to_table(kind, s.venue, s.symbol, [q], [ev])
            except ValueError as exc:
                bad.append(f"{ev!r}: {exc}")
                continue
            ok_seqs.append(q)
            ok.append(ev)
        return to_table(kind, s.venue, s.symbol, ok_seqs, ok), bad

    def _write_days(self, kind: str, s: _Stream, table: pa.Table) -> list[Path]:
        days = _partition_times(kind, table) // NS_PER_DAY
        uniq = np.unique(days).tolist()
        out: list[Path] = []
        for d in uniq:
            part = table if len(uniq) == 1 else table.filter(pa.array(days == d))
            seq = part.column("seq").to_numpy()
            final = partition_dir(self.root, kind, s.venue, s.symbol, day_of(d * NS_PER_DAY)) / part_name(
                int(seq.min()), int(seq.max()))
            meta = FileMeta(kind, s.venue, s.symbol, s.inst.price_decimals, s.inst.size_decimals,
                            part.num_rows, part.nbytes)
            self.stats.bytes += write_file(final, encode(kind, part), meta, self.compression_level, self.fsync)
            self.stats.files += 1
            self.stats.decoded_bytes += part.nbytes
            out.append(final)
        return out

    def close(self) -> None:
        """Flush what is buffered; the writer cannot be used afterwards."""
        if not self._closed:
            self.flush()
            self._closed = True

    def __enter__(self) -> TickWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
