"""The CLI contracts (`replay --bbo-out`, `--json`, `demo`) and the embedded simulated market."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kimera.cli import app
from kimera.engine import replay
from kimera.sim.market import SimParams, SimulatedMarket
from kimera.venues.registry import resolve_instrument
from tests.conftest import data_path

runner = CliRunner()


def test_replay_bbo_out_contract(tmp_path: Path) -> None:
    f = data_path("binance-usdm-btcusdt-l2", "btcusdt_20240808.gz")
    out = tmp_path / "bbo.csv"
    r = runner.invoke(app, ["replay", str(f), "--bbo-out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["recv_ns", "venue", "symbol", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty"]
    assert len(rows) == summary["diffs_applied"] - 0 or len(rows) >= summary["diffs_applied"] - 10
    assert all(float(r["bid_px"]) < float(r["ask_px"]) for r in rows)
    ids = [int(r["update_id"]) for r in rows]
    assert ids == sorted(ids)
    last = rows[-1]
    book = summary["books"]["BINANCE_USDM:BTCUSDT"]
    assert [last["bid_px"], last["bid_qty"]] == book["best_bid"]


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    r = runner.invoke(app, ["replay", str(tmp_path / "nope.gz")])
    assert r.exit_code == 2 and "no such file" in r.output
    f = tmp_path / "x.txt"
    f.write_text("hello\n")
    r = runner.invoke(app, ["replay", str(f)])
    assert r.exit_code == 2 and "cannot detect" in r.output


def test_demo_runs_without_shared_data() -> None:
    r = runner.invoke(app, ["demo", "--market-only", "--events", "3000", "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["gaps"] == 0 and s["crossed_books"] == 0 and s["trades"] > 0 and s["diffs_applied"] > 2500


def test_simulator_is_deterministic_and_sane() -> None:
    a = list(SimulatedMarket(seed=3).events(2000))
    b = list(SimulatedMarket(seed=3).events(2000))
    c = list(SimulatedMarket(seed=4).events(2000))
    assert a == b and a != c
    s = replay([a], resolve_instrument)
    assert s.gaps == 0 and s.crossed_books == 0 and s.untrusted_at_end == 0


def test_embedded_params_come_from_the_capture() -> None:
    """Re-running the estimator on the shared capture reproduces the embedded parameters."""
    from kimera.sim.estimate import estimate

    d = data_path("binance-spot-btcusdt-l2")
    got = estimate([d / "btcusdt_20240808.gz", d / "btcusdt_20240809.gz"])
    emb = SimParams.default()
    assert got["limit_rate"] == pytest.approx(emb.limit_rate)
    assert got["market_rate"] == pytest.approx(emb.market_rate)
    assert tuple(got["market_size"]) == pytest.approx(emb.market_size)


@pytest.mark.parametrize("rel,fmt,applied", [
    ("cryptofeed-ws-captures-a/KRAKEN.ws.50.0.gz", "cryptofeed", 4269),
    ("bybit-linear-xrpusdt-ob500/xrpusdt-ob500.data.zip", "bybit", 49),
])
def test_replay_other_formats(rel: str, fmt: str, applied: int) -> None:
    f = data_path(*rel.split("/"))
    for given in ("auto", fmt):
        r = runner.invoke(app, ["replay", str(f), "--format", given, "--json"])
        assert r.exit_code == 0, r.output
        s = json.loads(r.stdout)
        assert s["diffs_applied"] == applied and s["gaps"] == 0 and s["checksum_failures"] == 0
        assert s["crossed_books"] == 0
