"""The SQLite (WAL) journal: an append-only, numbered record log that is idempotent on deterministic replay.

Each `write` commits before it returns (autocommit), so a record that `write` returned is on disk for any
later process even after `kill -9` (WAL with synchronous=NORMAL survives process death; FULL also power loss).
Records are numbered 0, 1, 2...; reopening an existing journal and replaying the same deterministic run
*verifies* the records already there instead of re-inserting them (a difference raises `JournalDivergence`),
then appends the new ones: exactly-once for every fill and position change across a crash.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    event_idx INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
KINDS = frozenset({"order", "transition", "fill", "position", "reject", "cancel_request"})


class JournalError(RuntimeError):
    """The journal cannot be opened or written (bad path, wrong schema, bad record kind)."""


class JournalDivergence(JournalError):
    """A replay produced a record different from the one already journaled at that number."""


class Record(msgspec.Struct, frozen=True):
    """One journal row; `body` is the decoded JSON object."""

    seq: int
    event_idx: int
    ts_ns: int
    kind: str
    body: dict[str, Any]


def _dumps(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


class Journal:
    """Append-only journal at `path`; `event_idx` is set by the runner to the market event being processed."""

    def __init__(self, path: str | Path, synchronous: str = "NORMAL", run_meta: dict[str, str] | None = None) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise JournalError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise JournalError(f"journal directory does not exist: {self.path.parent}")
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.executescript(_SCHEMA)
        self.existing = int(self.db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
        last = self.db.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
        if self.existing and last != self.existing - 1:
            raise JournalError(f"{self.path}: record numbers are not contiguous ({self.existing} rows, last {last})")
        self.next_seq = 0
        self.event_idx = 0
        self.verified = 0
        self.appended = 0
        if run_meta:
            self._check_meta(run_meta)

    def _check_meta(self, meta: dict[str, str]) -> None:
        """Store the run's identity on first use; refuse to resume a journal written by a different run."""
        for k, v in sorted(meta.items()):
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (k,)).fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta(key, value) VALUES(?, ?)", (k, v))
            elif row[0] != v:
                raise JournalError(f"{self.path} belongs to another run: {k}={row[0]!r}, this run has {v!r}")

    @property
    def replaying(self) -> bool:
        """True while the run is still re-deriving records that the journal already holds."""
        return self.next_seq < self.existing

    def write(self, kind: str, ts_ns: int, body: dict[str, Any]) -> int:
        """Durably record (or, when replaying, verify) one record; returns its number."""
        if kind not in KINDS:
            raise JournalError(f"unknown record kind {kind!r}; known: {sorted(KINDS)}")
        seq = self.next_seq
        blob = _dumps(body)
        if seq < self.existing:
            row = self.db.execute("SELECT kind, ts_ns, body FROM journal WHERE seq=?", (seq,)).fetchone()
            if row != (kind, ts_ns, blob):
                raise JournalDivergence(
                    f"{self.path}: record {seq} differs on replay: journal {row!r}, now {(kind, ts_ns, blob)!r}")
            self.verified += 1
        else:
            self.db.execute("INSERT INTO journal(seq, event_idx, ts_ns, kind, body) VALUES(?,?,?,?,?)",
                            (seq, self.event_idx, ts_ns, kind, blob))
            self.appended += 1
        self.next_seq = seq + 1
        return seq

    def records(self) -> Iterator[Record]:
        """Every record in order."""
        cur = self.db.execute("SELECT seq, event_idx, ts_ns, kind, body FROM journal ORDER BY seq")
        for seq, idx, ts, kind, body in cur:
            yield Record(seq, idx, ts, kind, orjson.loads(body))

    def rows(self) -> list[tuple[int, int, str, bytes]]:
        """Raw `(seq, ts_ns, kind, body)` rows (for comparing two journals byte for byte)."""
        return list(self.db.execute("SELECT seq, ts_ns, kind, body FROM journal ORDER BY seq"))

    def close(self) -> None:
        """Close the connection (records are already durable)."""
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NullJournal:
    """No journaling (a backtest run without `--journal`): same interface, nothing stored."""

    replaying = False

    def __init__(self) -> None:
        self.event_idx = 0
        self.next_seq = 0

    def write(self, kind: str, ts_ns: int, body: dict[str, Any]) -> int:
        """Count the record and drop it."""
        if kind not in KINDS:
            raise JournalError(f"unknown record kind {kind!r}; known: {sorted(KINDS)}")
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def close(self) -> None:
        """Nothing to close."""
