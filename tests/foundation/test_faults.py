"""Faults: a missing diff is a gap that untrusts the book until a resync; garbage lines are clear errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kimera.book import SyncedBook, SyncStatus
from kimera.cli import app
from kimera.data import LoadStats, MalformedInputError
from kimera.data.binance import load_binance_capture
from kimera.model import BookDelta, BookSnapshot
from kimera.venues.binance import BinanceAdapter
from tests.conftest import data_path


def _events():
    d = data_path("binance-usdm-btcusdt-l2")
    return list(load_binance_capture([d / "btcusdt_20240808.gz"]))


def test_removed_diff_is_a_gap_until_resync() -> None:
    evs = _events()
    ad = BinanceAdapter("usdm")
    ref = SyncedBook(ad.instrument, ad.rule)
    deltas_seen = 0
    drop_at, resync_at = 3000, 4000
    resync_snapshot = None
    victim = SyncedBook(ad.instrument, ad.rule)
    trusted_wrong = 0
    for e in evs:
        if isinstance(e, BookSnapshot):
            ref.on_snapshot(e)
            victim.on_snapshot(e)
            continue
        if not isinstance(e, BookDelta):
            continue
        ref.on_delta(e)
        if ref.trusted and ref.deltas_applied:
            deltas_seen += 1
        if deltas_seen == drop_at:
            continue  # this diff never reaches the victim
        status = victim.on_delta(e)
        if deltas_seen == drop_at + 1:
            assert status is SyncStatus.GAP and not victim.trusted and victim.gaps == 1
        if deltas_seen == resync_at:  # a fresh REST snapshot of the reference book at this u
            bids, asks = ref.book.depth(10_000)
            resync_snapshot = BookSnapshot(e.venue, e.symbol, ref.book.last_update_id, bids, asks, 0, e.recv_ns)
            victim.on_snapshot(resync_snapshot)
            assert victim.trusted and victim.resyncs == 1
        if victim.trusted and victim.book.depth(10_000) != ref.book.depth(10_000):
            trusted_wrong += 1
        if drop_at < deltas_seen < resync_at:
            assert not victim.trusted
    assert resync_snapshot is not None
    assert trusted_wrong == 0
    assert victim.book.depth(10_000) == ref.book.depth(10_000)
    assert "does not follow" in (victim.last_gap or "")


def _corrupt_copy(tmp_path: Path, line_no: int, text: bytes) -> Path:
    src = data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz")
    lines = gzip.decompress(src.read_bytes()).split(b"\n")
    lines[line_no - 1] = text
    out = tmp_path / "bad.gz"
    out.write_bytes(gzip.compress(b"\n".join(lines[:2000])))
    return out


@pytest.mark.parametrize("garbage", [b"1723161254087891268 {not json", b"garbage without a timestamp",
                                     b'1723161254087891268 {"stream":"x","data":{"e":"depthUpdate","s":"BTCUSDT","U":1}}',
                                     b'1723161254087891268 {"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"NaN","q":"1","m":true}}',
                                     b'1723161254087891268 {"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00000000","-1.00000000"]],"a":[]}}'])
def test_garbage_line_names_file_and_line(tmp_path: Path, garbage: bytes) -> None:
    bad = _corrupt_copy(tmp_path, 123, garbage)
    with pytest.raises(MalformedInputError) as ei:
        list(load_binance_capture([bad]))
    assert ei.value.line == 123 and "bad.gz:123" in str(ei.value)
    stats = LoadStats()
    good = list(load_binance_capture([bad], skip_bad=True, stats=stats))
    assert stats.bad_lines == 1 and len(good) == stats.lines - 1 - stats.ignored


def test_cli_garbage_exit_code_and_skip_bad(tmp_path: Path) -> None:
    bad = _corrupt_copy(tmp_path, 50, b"1723161254087891268 {oops")
    r = CliRunner().invoke(app, ["replay", str(bad)])
    assert r.exit_code == 2 and "bad.gz:50" in r.output.replace("\n", "")
    r = CliRunner().invoke(app, ["replay", str(bad), "--skip-bad", "--json"])
    assert r.exit_code == 0, r.output
    assert '"bad_lines": 1' in r.stdout
