"""`kimera optimize` and `kimera optimize-backtest` through typer's CliRunner on kimera.cli.app."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kimera.cli import app

CONTRACT = {"method", "weights", "expected_return", "volatility", "sharpe", "solve_seconds"}
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "method", ["min-variance", "mean-variance", "max-sharpe", "risk-parity", "cvar", "qubo"]
)
def test_optimize_writes_the_contract(sp500_file: Path, tmp_path: Path, method: str) -> None:
    out = tmp_path / "w.json"
    code, text = _run(
        "optimize", "--prices", str(sp500_file), "--method", method, "--start", "2018-01-01",
        "--end", "2022-12-31", "--k", "4", "--risk-aversion", "2", "--json", str(out),
    )  # fmt: skip
    assert code == 0, text
    got = json.loads(out.read_text())
    assert set(got) == CONTRACT and got["method"] == method
    w = np.array(list(got["weights"].values()))
    assert len(w) == 20 and np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-9)
    assert got["sharpe"] == pytest.approx(got["expected_return"] / got["volatility"])
    assert 0 < got["volatility"] < 1 and got["solve_seconds"] > 0
    if method == "qubo":
        assert np.count_nonzero(w) <= 4


def test_optimize_risk_free_and_options(sp500_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    code, text = _run(
        "optimize", "--prices", str(sp500_file), "--method", "max-sharpe", "--start", "2018-01-01",
        "--risk-free", "0.03", "--max-weight", "0.2", "--estimator", "ledoit-wolf",
        "--group", "pharma=JNJ,LLY,MRK,PFE:0:0.3", "--json", str(out),
    )  # fmt: skip
    assert code == 0, text
    got = json.loads(out.read_text())
    w = got["weights"]
    assert max(w.values()) <= 0.2 + 1e-9
    assert w["JNJ"] + w["LLY"] + w["MRK"] + w["PFE"] <= 0.3 + 1e-8
    assert got["sharpe"] == pytest.approx((got["expected_return"] - 0.03) / got["volatility"])


def test_bad_inputs_exit_2_with_a_clear_message(sp500_file: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "w.json")
    base = ["optimize", "--prices", str(sp500_file), "--json", out]
    code, text = _run(*base, "--method", "black-litterman")
    assert code == 2 and "unknown method 'black-litterman'" in text and "min-variance" in text
    code, text = _run(*base, "--method", "qubo", "--k", "25")
    assert code == 2 and "K = 25 assets cannot be chosen from N = 20" in text
    code, text = _run(*base, "--method", "min-variance", "--start", "2022-12-01", "--end", "2022-12-10")
    assert code == 2 and "too few dates" in text
    code, text = _run(*base[:2], str(tmp_path / "nope.csv"), *base[3:], "--method", "cvar")
    assert code == 2 and "not found" in text
    gappy = tmp_path / "gappy.csv"
    gappy.write_text(
        "Date,A,B\n" + "".join(f"2020-02-{d:02d},{10 + d},{'' if d == 5 else 20 + d}\n" for d in range(1, 29))
    )
    code, text = _run(
        "optimize", "--prices", str(gappy), "--method", "min-variance", "--strict", "--json", out
    )
    assert code == 2 and "missing prices for B" in text
    code, text = _run("optimize", "--prices", str(gappy), "--method", "min-variance", "--json", out)
    assert code == 0, text  # the gap rule forward-fills the one-day gap
    assert not math.isnan(json.loads(Path(out).read_text())["volatility"])
    assert not Path(tmp_path / "never.json").exists()


def test_optimize_backtest_writes_a_report(dow30: Path, tmp_path: Path) -> None:
    html, summary = tmp_path / "bt.html", tmp_path / "bt.json"
    code, text = _run(
        "optimize-backtest", "--returns", str(dow30 / "returns.csv"), "--volumes", str(dow30 / "volumes.csv"),
        "--sigmas", str(dow30 / "sigmas.csv"), "--method", "min-variance", "--method", "equal-weight",
        "--html", str(html), "--json", str(summary),
    )  # fmt: skip
    assert code == 0, text
    page = html.read_text()
    assert page.count("data:image/png;base64,") == 5  # equity, drawdown, turnover, 2 weight plots
    rows = json.loads(summary.read_text())["summary"]
    assert [r["strategy"] for r in rows] == ["min-variance", "equal-weight"]
    code, text = _run(
        "optimize-backtest", "--returns", str(dow30 / "returns.csv"), "--method", "magic", "--html", str(html)
    )
    assert code == 2 and "unknown strategy 'magic'" in text
