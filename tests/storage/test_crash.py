"""A recording killed with SIGKILL mid-write loses at most its un-flushed tail and no file is damaged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kimera.data.binance import load_binance_capture
from kimera.storage import TickStore, compact
from kimera.storage.files import read_file
from kimera.storage.layout import live_parts, next_seq, partitions
from kimera.storage.schema import from_table
from tests.conftest import REPO, data_path

FLUSH = 2000


def _count_parts(root: Path) -> int:
    return sum(1 for _ in root.rglob("part-*.parquet")) if root.exists() else 0


def test_sigkill_mid_recording_loses_only_the_unflushed_tail(tmp_path: Path) -> None:
    cap = data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz")
    root = tmp_path / "ticks"
    cmd = [sys.executable, "-m", "kimera.storage.cli", "record", "--from-file", str(cap), "--out", str(root),
           "--flush-events", str(FLUSH), "--flush-seconds", "3600", "--speed", "50", "--no-fsync"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 100
    try:
        while _count_parts(root) < 7:  # a few flushes (each writes one file per kind present)
            assert proc.poll() is None, f"recorder exited early: {proc.stderr.read().decode() if proc.stderr else ''}"
            assert time.monotonic() < deadline, "recorder wrote nothing in time"
            time.sleep(0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    original = list(load_binance_capture([cap]))
    # every visible file is complete and valid; each row is the event with that position in the stream
    stored_seqs: dict[str, list[int]] = {}
    for p in live_parts(root):
        table, _ = read_file(p.path, p.kind)
        store = TickStore(root)
        decoded = store.read_part(p)
        seqs = decoded.column("seq").to_pylist()
        assert from_table(p.kind, decoded) == [original[s] for s in seqs]
        assert table.num_rows == len(seqs)
        stored_seqs.setdefault(p.kind, []).extend(seqs)
    stored = sorted(s for v in stored_seqs.values() for s in v)
    assert FLUSH <= len(stored) < len(original), "the kill must land mid-recording"
    # per kind, what is stored is exactly a prefix of that kind's events
    kind_of = {"BookDelta": "book_delta", "BookSnapshot": "book_snapshot", "Quote": "quote", "Trade": "trade"}
    for kind, seqs in stored_seqs.items():
        all_of_kind = [i for i, e in enumerate(original) if kind_of[type(e).__name__] == kind]
        assert sorted(seqs) == all_of_kind[: len(seqs)]
    # whatever is missing below the highest stored seq belongs to the last (partly written) flush
    top = stored[-1]
    missing = sorted(set(range(top + 1)) - set(stored))
    assert not missing or missing[0] > top - FLUSH
    # the replay stream reads back in order, and a new writer continues after everything on disk
    back = list(TickStore(root).events("BINANCE", "BTCUSDT"))
    assert back == [original[s] for s in stored]
    assert next_seq(root, "BINANCE", "BTCUSDT") == top + 1
    # compaction removes the killed writer's temporary file, if it left one, and keeps every event
    compact(root, fsync=False)
    assert not any(part.temp for part in partitions(root))
    assert list(TickStore(root).events("BINANCE", "BTCUSDT")) == back
