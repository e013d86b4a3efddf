"""`HtmlReport`: build one self-contained HTML page from summaries, tables and matplotlib figures.

Nothing is linked: figures are embedded as base64 PNG or inline SVG and the style sheet is inline, so the
page can be mailed or archived as a single file. Text is always HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from matplotlib.figure import Figure

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.9rem}table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}figure{margin:1rem 0}figcaption{color:#555;font-size:.9rem}
img,svg{max-width:100%;height:auto}p.note{color:#444}
"""


def format_value(value: Any, digits: int = 4) -> str:
    """A compact cell: floats to `digits` significant figures (at or above 10**digits: two decimals, no
    exponent), None as an em dash, others via str()."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if abs(value) >= 10**digits:  # no exponent for large amounts (equity, prices): 99,965.20
            return f"{value:,.2f}"
        return f"{value:,.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.{digits}e}"
    return str(value)


def figure_to_png(fig: Figure, dpi: int = 100) -> str:
    """An <img> tag with the figure as a base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def figure_to_svg(fig: Figure) -> str:
    """The figure as inline SVG markup (XML prologue removed)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.find("<svg") :]


class HtmlReport:
    """Accumulate sections in order, then `render()` or `write(path)` one HTML page."""

    def __init__(self, title: str, subtitle: str | None = None) -> None:
        self.title = title
        self.subtitle = subtitle
        self._parts: list[str] = []

    def add_heading(self, text: str) -> HtmlReport:
        """A section heading."""
        self._parts.append(f"<h2>{html.escape(text)}</h2>")
        return self

    def add_paragraph(self, text: str) -> HtmlReport:
        """A paragraph of plain (escaped) text."""
        self._parts.append(f'<p class="note">{html.escape(text)}</p>')
        return self

    def add_summary(self, values: Mapping[str, Any], title: str | None = None) -> HtmlReport:
        """A two-column key/value table."""
        rows = [[k, v] for k, v in values.items()]
        return self.add_table(rows, header=["metric", "value"], caption=title)

    def add_table(
        self,
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
        header: Sequence[str] | None = None,
        caption: str | None = None,
    ) -> HtmlReport:
        """A table from a list of dicts (keys of the first give the header) or of sequences plus `header`."""
        if rows and isinstance(rows[0], Mapping):
            dict_rows = [r for r in rows if isinstance(r, Mapping)]
            cols = list(header) if header is not None else list(dict_rows[0].keys())
            body = [[r.get(c) for c in cols] for r in dict_rows]
        else:
            cols = list(header) if header is not None else []
            body = [list(r) for r in rows if not isinstance(r, Mapping)]
        out = ["<table>"]
        if caption:
            out.append(f"<caption>{html.escape(caption)}</caption>")
        if cols:
            out.append("<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in cols) + "</tr>")
        for r in body:
            out.append("<tr>" + "".join(f"<td>{html.escape(format_value(v))}</td>" for v in r) + "</tr>")
        out.append("</table>")
        self._parts.append("".join(out))
        return self

    def add_figure(self, fig: Figure, caption: str = "", fmt: Literal["png", "svg"] = "png") -> HtmlReport:
        """Embed a matplotlib figure (PNG as base64, or inline SVG) with a caption."""
        body = figure_to_png(fig) if fmt == "png" else figure_to_svg(fig)
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f"<figure>{body}{cap}</figure>")
        return self

    def add_html(self, markup: str) -> HtmlReport:
        """Trusted raw markup (not escaped): for callers that build their own fragment."""
        self._parts.append(markup)
        return self

    def render(self) -> str:
        """The complete page."""
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        sub = f'<div class="meta">{html.escape(self.subtitle)}</div>' if self.subtitle else ""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
            f'<h1>{html.escape(self.title)}</h1>{sub}<div class="meta">generated {when}</div>'
            + "\n".join(self._parts)
            + "</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page (parents created); returns the path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.render(), encoding="utf-8")
        return p
