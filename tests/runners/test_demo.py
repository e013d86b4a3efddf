"""The full-system demo runs end to end: two emulated venues, streams, consolidated book, ensemble, risk,
routing, simulated fills, journal and report."""

from __future__ import annotations

from pathlib import Path

from kimera.demo import run_demo
from kimera.journal import rebuild


def test_demo_end_to_end(tmp_path: Path) -> None:
    s = run_demo(seconds=5, out_dir=tmp_path, echo=False)
    assert all(v["trusted"] and v["book_updates"] > 100 for v in s.venues.values()), s.venues
    assert s.report.exists() and "plot-equity-drawdown" in s.report.read_text()
    st = rebuild(s.journal)
    assert len(st.fill_ids) == s.fills
    assert s.seconds < 60
