"""The reusable HTML report builder: escaping, tables, embedded PNG and SVG, one self-contained file."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kimera.report import HtmlReport, format_value


def test_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    fig.subplots().plot([0, 1, 2], [1, 3, 2])
    rep = HtmlReport("P&L <test>", "sub")
    rep.add_summary({"sharpe": 1.23456, "note": "<b>x</b>", "none": None})
    rep.add_table([{"a": 1, "b": 2.5}, {"a": 3, "b": None}], caption="rows")
    rep.add_figure(fig, "png one")
    rep.add_figure(fig, "svg one", fmt="svg")
    path = rep.write(tmp_path / "sub" / "r.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "P&amp;L &lt;test&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert page.count("data:image/png;base64,") == 1 and page.count("<svg") == 1
    assert 'src="http' not in page and "<link" not in page and "<script" not in page  # nothing fetched
    assert format_value(1.23456) == "1.235" and format_value(None) == "—" and format_value(True) == "yes"
