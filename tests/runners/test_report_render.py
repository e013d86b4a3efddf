"""`kimera backtest --report` writes one HTML page whose plots render in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kimera.cli import app
from kimera.runners.report import FIGURES

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("report") / "out.html"
    res = CliRunner().invoke(app, ["backtest", "--events", "6000", "--strategy", "ensemble", "--report", str(out),
                                   "--json"])
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout[res.stdout.index("{"):])


def test_report_has_every_plot_and_the_summary(report: tuple[Path, dict[str, object]]) -> None:
    path, stats = report
    text = path.read_text()
    for fid in FIGURES:
        assert f'id="plot-{fid}"' in text
    assert text.count("<svg") >= len(FIGURES)
    for k in ("return %", "Sharpe (annualised)", "max drawdown %", "trades (fills)", "fees", "win rate %"):
        assert k in text and k in stats
    assert stats["report"] == str(path)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless render needs /usr/bin/chromium (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(report: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    path, _ = report
    profile = tmp_path / "profile"
    dom = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    for fid in FIGURES:
        m = re.search(rf'<section class="plot" id="plot-{fid}">.*?</section>', html, re.S)
        assert m is not None, f"plot {fid} missing from the rendered DOM"
        assert "<svg" in m.group(0) and ("<path" in m.group(0) or "<use" in m.group(0))
    shot = tmp_path / "shot.png"
    r = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--window-size=1200,2400",
                        f"--screenshot={shot}", path.as_uri()], capture_output=True, text=True, timeout=90)
    assert r.returncode == 0 and shot.exists() and shot.stat().st_size > 20_000
