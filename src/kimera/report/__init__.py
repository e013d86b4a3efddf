"""Self-contained HTML report pages (figures embedded), shared by the portfolio and trading reports."""

from kimera.report.html import HtmlReport, figure_to_png, figure_to_svg, format_value

__all__ = ["HtmlReport", "figure_to_png", "figure_to_svg", "format_value"]
