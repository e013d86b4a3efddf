"""`TickStore`: read the store back as Arrow tables (exact fixed-point columns) or as replayable events.

`events(venue, symbol)` yields the very event objects that were written, in their original order (by
`seq`), so a replay from the store is the replay of the recorded stream; feed it to `ReplayEngine`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kimera.model import Event
from kimera.storage.codec import decode
from kimera.storage.errors import SchemaMismatchError, StoreError
from kimera.storage.files import FileMeta, open_file, read_file
from kimera.storage.layout import Part, day_of, live_parts, streams
from kimera.storage.schema import KINDS, SCHEMAS, from_table

_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """Threads that read files side by side (Parquet decoding and the numba kernels release the GIL)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="kimera-read")
    return _POOL


def _windows(parts: list[Part]) -> list[list[Part]]:
    """Group parts whose seq ranges overlap: each group can be ordered on its own, in bounded memory."""
    groups: list[list[Part]] = []
    hi = -1
    for p in sorted(parts, key=lambda q: q.first):
        if groups and p.first <= hi:
            groups[-1].append(p)
            hi = max(hi, p.last)
        else:
            groups.append([p])
            hi = p.last
    return groups


class TickStore:
    """A store directory opened for reading; nothing is cached except what each call reads."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise StoreError(self.root, "no such store directory")
        self._decimals: dict[tuple[str, str], tuple[int, int, Path]] = {}

    def streams(self) -> list[tuple[str, str]]:
        """Every (venue, symbol) in the store."""
        return streams(self.root)

    def parts(self, kind: str, venue: str | None = None, symbol: str | None = None,
              start_ns: int | None = None, end_ns: int | None = None) -> list[Part]:
        """Live files of a kind that may hold rows with `start_ns <= recv_ns < end_ns` (day pruning)."""
        first = day_of(start_ns) if start_ns is not None else None
        last = day_of(end_ns - 1) if end_ns is not None else None
        return live_parts(self.root, kind, venue, symbol, first, last)

    def _check(self, part: Part, meta: FileMeta, seq: np.ndarray) -> None:
        if (meta.venue, meta.symbol) != (part.venue, part.symbol):
            raise SchemaMismatchError(part.path, f"file holds {meta.venue}:{meta.symbol} but lies under "
                                                 f"{part.venue}/{part.symbol}")
        if len(seq) and (int(seq[0]) != part.first or int(seq[-1]) != part.last):
            raise StoreError(part.path, f"rows have seq {int(seq[0])}..{int(seq[-1])}, the name says "
                                        f"{part.first}..{part.last}")
        key = (meta.venue, meta.symbol)
        dec = (meta.price_decimals, meta.size_decimals)
        seen = self._decimals.setdefault(key, (*dec, part.path))
        if seen[:2] != dec:
            raise SchemaMismatchError(part.path, f"{key[0]}:{key[1]} decimals {dec} differ from {seen[:2]} in {seen[2]}")

    def read_part(self, part: Part, start_ns: int | None = None, end_ns: int | None = None) -> pa.Table:
        """One file, validated and decoded, optionally restricted to `start_ns <= recv_ns < end_ns`."""
        return self._checked(part, *self._decoded(part), start_ns, end_ns)

    @staticmethod
    def _decoded(part: Part) -> tuple[FileMeta, np.ndarray, pa.Table]:
        """A file read and decoded (no store state touched: safe on any thread), with its seq column."""
        stored, meta = read_file(part.path, part.kind)
        seq = stored.column("seq").to_numpy() if stored.num_rows else np.empty(0, np.int64)
        return meta, seq, decode(part.kind, stored)

    def _checked(self, part: Part, meta: FileMeta, seq: np.ndarray, table: pa.Table,
                 start_ns: int | None, end_ns: int | None) -> pa.Table:
        """A decoded file checked against its place in the store (in file order), then cut to the range."""
        self._check(part, meta, seq)
        if start_ns is not None or end_ns is not None:
            recv = table.column("recv_ns")
            mask = None
            if start_ns is not None:
                mask = pc.greater_equal(recv, start_ns)
            if end_ns is not None:
                m2 = pc.less(recv, end_ns)
                mask = m2 if mask is None else pc.and_(mask, m2)
            table = table.filter(mask)
        return table

    def decimals(self, venue: str, symbol: str) -> tuple[int, int]:
        """The (price, size) decimals stored with a stream, from a file footer."""
        seen = self._decimals.get((venue, symbol))
        if seen is not None:
            return seen[0], seen[1]
        for kind in KINDS:
            parts = self.parts(kind, venue, symbol)
            if parts:
                _, meta = open_file(parts[0].path, kind)
                return meta.price_decimals, meta.size_decimals
        raise StoreError(self.root, f"no data for {venue}:{symbol}; streams: {self.streams()}")

    def read_table(self, kind: str, venue: str | None = None, symbol: str | None = None,
                   start_ns: int | None = None, end_ns: int | None = None) -> pa.Table:
        """All rows of a kind (optionally one venue/symbol and a recv_ns range), ordered by stream and seq.

        Prices and sizes are exact fixed-point integers; with a single stream the schema metadata has
        `kimera.price_decimals` / `kimera.size_decimals` to turn them into decimals.
        """
        if kind not in SCHEMAS:
            raise StoreError(self.root, f"unknown table kind {kind!r}; known: {KINDS}")
        parts = self.parts(kind, venue, symbol, start_ns, end_ns)
        if len(parts) > 1:  # decoded side by side, checked in file order: the first bad file's error is raised
            futures = [_pool().submit(self._decoded, p) for p in parts]
            tables = [self._checked(p, *f.result(), start_ns, end_ns) for p, f in zip(parts, futures, strict=True)]
        else:
            tables = [self.read_part(p, start_ns, end_ns) for p in parts]
        out = pa.concat_tables(tables) if tables else SCHEMAS[kind].empty_table()
        keys = {(p.venue, p.symbol) for p in parts}
        if len(keys) == 1:
            pd, sd, _ = self._decimals[keys.pop()]
            out = out.replace_schema_metadata({"kimera.price_decimals": str(pd), "kimera.size_decimals": str(sd)})
        return out

    def events(self, venue: str, symbol: str, start_ns: int | None = None, end_ns: int | None = None,
               kinds: Iterable[str] = KINDS) -> Iterator[Event]:
        """The stream's events, every kind interleaved in the original (seq) order."""
        parts = [p for k in kinds for p in self.parts(k, venue, symbol, start_ns, end_ns)]
        for window in _windows(parts):
            seqs: list[np.ndarray] = []
            evs: list[Event] = []
            for p in window:
                t = self.read_part(p, start_ns, end_ns)
                seqs.append(t.column("seq").to_numpy())
                evs.extend(from_table(p.kind, t))
            if not evs:
                continue
            allseq = np.concatenate(seqs)
            order = np.argsort(allseq, kind="stable")
            ordered = allseq[order]
            if len(ordered) > 1 and not (np.diff(ordered) > 0).all():
                dup = int(ordered[1:][np.diff(ordered) == 0][0])
                raise StoreError(window[0].path.parent, f"seq {dup} of {venue}:{symbol} stored twice")
            for i in order.tolist():
                yield evs[i]
