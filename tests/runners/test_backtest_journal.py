"""Deterministic backtests (identical journals) and crash safety: `kill -9` mid-run, resume, nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kimera.journal import Journal, JournalDivergence, JournalError, rebuild
from kimera.runners.backtest import BacktestConfig, load_events, run_backtest


def test_backtest_on_real_capture_is_deterministic(capture_paths: list[Path], tmp_path: Path) -> None:
    cfg = BacktestConfig(paths=capture_paths[:1], strategy="ensemble")  # the first file: ~47k events
    events, inst = load_events(cfg)
    a = run_backtest(cfg, tmp_path / "a.db", events, inst)
    b = run_backtest(cfg, tmp_path / "b.db", events, inst)
    with Journal(tmp_path / "a.db") as ja, Journal(tmp_path / "b.db") as jb:
        rows_a, rows_b = ja.rows(), jb.rows()
    assert a.result.fills > 10 and len(rows_a) > 50
    assert rows_a == rows_b
    assert a.result.portfolio == b.result.portfolio
    st = rebuild(tmp_path / "a.db")
    assert st.positions == {k: p.qty for k, p in a.pipeline.portfolio.positions.items()}
    assert len(st.fill_ids) == a.result.fills == len(set(st.fill_ids))
    assert st.fees == pytest.approx(a.pipeline.portfolio.fees)
    assert st.cash_delta == pytest.approx(a.pipeline.portfolio.cash - a.pipeline.portfolio.initial_cash)
    assert {c: s for c, (s, _) in st.orders.items()} == {c: o.status.value for c, o in a.pipeline.om.orders.items()}


def test_resume_refuses_another_runs_journal_and_detects_divergence(tmp_path: Path) -> None:
    cfg = BacktestConfig(sim_events=3000, strategy="obi", risk_engine=False, quantity="0.001")
    run_backtest(cfg, tmp_path / "j.db")
    other = BacktestConfig(sim_events=3000, strategy="obi", risk_engine=False, quantity="0.002")
    with pytest.raises(JournalError, match="another run"):
        run_backtest(other, tmp_path / "j.db")
    with Journal(tmp_path / "j.db") as j:
        assert j.existing > 0
        with pytest.raises(JournalDivergence):
            j.write("order", 0, {"cid": "not-what-was-journaled"})


def _count(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            return int(con.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_kill_9_mid_run_loses_and_duplicates_nothing(capture_paths: list[Path], tmp_path: Path) -> None:
    args = [sys.executable, "-m", "kimera.cli", "backtest", *map(str, capture_paths), "--strategy", "obi",
            "--no-risk-engine", "--json"]
    db = tmp_path / "crash.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*args, "--journal", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    target = 150
    deadline = time.monotonic() + 90
    while _count(db) < target and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be killed; the test would prove nothing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    crashed = rebuild(db)  # consistent as it stands: no fill twice, every position = previous + fill
    n_before = _count(db)
    assert target <= n_before
    # restart: the same command resumes from the journal
    done = subprocess.run([*args, "--journal", str(db)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f'"journal_verified": {n_before}' in done.stdout
    # the uninterrupted run, for comparison
    cfg = BacktestConfig(paths=capture_paths, strategy="obi", risk_engine=False)
    clean = run_backtest(cfg, tmp_path / "clean.db")
    with Journal(db) as j1, Journal(tmp_path / "clean.db") as j2:
        assert j1.rows() == j2.rows()
    final = rebuild(db)
    assert len(final.fill_ids) == len(set(final.fill_ids)) == clean.result.fills > len(crashed.fill_ids) > 0
    assert final.fill_ids[: len(crashed.fill_ids)] == crashed.fill_ids
    assert final.unbooked_fills == []
    assert final.positions == {k: p.qty for k, p in clean.pipeline.portfolio.positions.items()}
    assert final.cash_delta == pytest.approx(clean.pipeline.portfolio.cash - clean.pipeline.portfolio.initial_cash)
