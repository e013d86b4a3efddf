"""Loading price CSVs and the gap rule: fill short interior gaps, drop late/early/long-gap assets, errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from kimera.portfolio.optimize import (
    InsufficientDataError,
    MissingDataError,
    PriceTable,
    apply_gap_rule,
    load_prices,
)


def _write(tmp_path: Path, rows: list[str], gz: bool = False) -> Path:
    text = "\n".join(rows) + "\n"
    if gz:
        p = tmp_path / "p.csv.gz"
        p.write_bytes(gzip.compress(text.encode()))
    else:
        p = tmp_path / "p.csv"
        p.write_text(text)
    return p


ROWS = [
    "Date,A,B,C,D,E",
    "2020-01-02,10,20,,5,1",
    "2020-01-03,11,,30,5.5,1.1",
    "2020-01-06,12,,31,,1.2",
    "2020-01-07,11,22,32,,1.1",
    "2020-01-08,12,23,33,,1.3",
    "2020-01-09,,,,,",
    "2020-01-10,13,24,34,6,",
]


def test_gap_rule_fills_drops_and_reports(tmp_path: Path) -> None:
    table = apply_gap_rule(load_prices(_write(tmp_path, ROWS, gz=True)), max_fill=2)
    assert table.assets == ("A", "B")
    assert set(table.dropped) == {"C", "D", "E"}
    assert "first date" in table.dropped["C"]
    assert "gap of 3" in table.dropped["D"]
    assert "last date" in table.dropped["E"]
    assert len(table.dates) == 6  # the all-empty row is not a trading day
    np.testing.assert_allclose(table.values[:, 1], [20, 20, 20, 22, 23, 24])  # B forward-filled
    r = table.returns()
    assert r[0, 1] == 0.0 and r[2, 1] == pytest.approx(0.1)


def test_strict_mode_and_bad_cells_are_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match="missing prices for B, C, D, E"):
        apply_gap_rule(load_prices(_write(tmp_path, ROWS)), strict=True)
    with pytest.raises(MissingDataError, match="positive"):
        load_prices(_write(tmp_path, ["Date,A", "2020-01-02,10", "2020-01-03,-1"]))
    with pytest.raises(MissingDataError, match="not a number"):
        load_prices(_write(tmp_path, ["Date,A", "2020-01-02,ten"]))
    with pytest.raises(MissingDataError, match="duplicate date"):
        load_prices(_write(tmp_path, ["Date,A", "2020-01-02,10", "2020-01-02,11"]))
    with pytest.raises(MissingDataError, match="every asset was dropped"):
        apply_gap_rule(load_prices(_write(tmp_path, ["Date,A,B", "2020-01-02,,1", "2020-01-03,1,"])))
    with pytest.raises(InsufficientDataError, match="header"):
        load_prices(_write(tmp_path, ["Date"]))


def test_real_file_and_window(sp500: PriceTable) -> None:
    assert sp500.values.shape == (8313, 20) and not sp500.dropped
    w = sp500.window("2022-01-01", "2022-01-31")
    assert str(w.dates[0]) == "2022-01-03" and str(w.dates[-1]) == "2022-01-31"
