"""Load a dates × assets CSV (optionally gzipped) of adjusted closes and apply the documented gap rule.

Gap rule (see docs/optimisation.md), applied after the date window is cut:
  1. rows where every asset is missing are dropped (non-trading days);
  2. an asset missing on the window's first or last date (listed late, delisted early) is dropped;
  3. an interior run of at most `max_fill` missing prices is forward-filled (the asset's return is 0 on
     those days and the whole move lands on the next quoted day); a longer run drops the asset;
  4. with `strict=True` any missing price is an error instead.
Every dropped asset is reported with its reason; prices that are not positive numbers are an error.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import InsufficientDataError, MissingDataError

DEFAULT_MAX_FILL = 5  # a trading week: longer gaps are not stale quotes but missing history
MISSING = {"", "nan", "na", "n/a", "null", "none"}


@dataclass(frozen=True)
class PriceTable:
    """A dates × assets table (prices, returns or volumes): `dates` ascending, `values` T×N, NaN = missing."""

    dates: NDArray[np.datetime64]
    assets: tuple[str, ...]
    values: FloatArray
    dropped: dict[str, str] = field(default_factory=dict)

    def window(self, start: str | None = None, end: str | None = None) -> PriceTable:
        """Rows with start ≤ date ≤ end (ISO dates, both inclusive, either optional)."""
        keep = np.ones(len(self.dates), dtype=bool)
        if start:
            keep &= self.dates >= np.datetime64(start, "D")
        if end:
            keep &= self.dates <= np.datetime64(end, "D")
        return PriceTable(self.dates[keep], self.assets, self.values[keep], dict(self.dropped))

    def returns(self) -> FloatArray:
        """Simple daily returns p_t / p_{t−1} − 1, (T−1)×N."""
        out: FloatArray = self.values[1:] / self.values[:-1] - 1.0
        return out


def _open_text(path: Path) -> io.TextIOBase:
    """Open plain or gzip text, decided by the gzip magic bytes rather than the suffix."""
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")  # type: ignore[return-value]


def _parse_cell(cell: str, row: int, asset: str, positive: bool) -> float:
    """A cell as float (NaN when missing); non-numeric (or, with `positive`, ≤ 0) is an error."""
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise MissingDataError(f"row {row}, asset {asset}: {cell!r} is not a number") from None
    if math.isnan(value):
        return value
    if not math.isfinite(value) or (positive and value <= 0):
        kind = "a positive finite number" if positive else "finite"
        raise MissingDataError(f"row {row}, asset {asset}: value {value} is not {kind}")
    return value


def load_prices(path: str | Path) -> PriceTable:
    """Read a prices CSV: `load_table` with every present value required to be a positive number."""
    return load_table(path, positive=True)


def load_table(path: str | Path, positive: bool = False) -> PriceTable:
    """Read `Date,A,B,...` rows; dates must be ISO (YYYY-MM-DD…) and are sorted, duplicates rejected."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"prices file not found: {p}")
    with _open_text(p) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or len(header) < 2:
            raise InsufficientDataError(
                f"{p}: needs a header `Date,ASSET1,...` and at least one asset column"
            )
        assets = tuple(h.strip() for h in header[1:])
        if len(set(assets)) != len(assets):
            raise MissingDataError(f"{p}: duplicate asset columns")
        dates: list[np.datetime64] = []
        rows: list[list[float]] = []
        for i, rec in enumerate(reader, start=2):
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                raise MissingDataError(f"{p} line {i}: {len(rec)} fields, header has {len(header)}")
            try:
                dates.append(np.datetime64(rec[0].strip()[:10], "D"))
            except ValueError:
                raise MissingDataError(f"{p} line {i}: bad date {rec[0]!r}") from None
            rows.append([_parse_cell(c, i, a, positive) for c, a in zip(rec[1:], assets, strict=True)])
    d = np.array(dates, dtype="datetime64[D]")
    order = np.argsort(d, kind="stable")
    d = d[order]
    if len(d) > 1 and np.any(d[1:] == d[:-1]):
        dup = d[1:][d[1:] == d[:-1]][0]
        raise MissingDataError(f"{p}: duplicate date {dup}")
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(assets))[order]
    return PriceTable(d, assets, values)


def _longest_run(missing: NDArray[np.bool_]) -> int:
    """Length of the longest run of True."""
    best = run = 0
    for m in missing:
        run = run + 1 if m else 0
        best = max(best, run)
    return best


def apply_gap_rule(table: PriceTable, max_fill: int = DEFAULT_MAX_FILL, strict: bool = False) -> PriceTable:
    """Apply the module's gap rule; returns a table without NaN and with `dropped` = {asset: reason}."""
    values = table.values
    any_price = ~np.all(np.isnan(values), axis=1)
    dates, values = table.dates[any_price], values[any_price]
    if len(dates) == 0:
        raise InsufficientDataError("no dates with prices in the selected window")
    missing = np.isnan(values)
    if strict and missing.any():
        t, j = np.argwhere(missing)[0]
        bad = [table.assets[k] for k in np.flatnonzero(missing.any(axis=0))]
        raise MissingDataError(
            f"missing prices for {', '.join(bad)} (first: {table.assets[j]} on {dates[t]}); "
            "drop --strict to apply the gap rule"
        )
    dropped = dict(table.dropped)
    keep: list[int] = []
    for j, name in enumerate(table.assets):
        col = missing[:, j]
        if col[0]:
            dropped[name] = "no price on the window's first date (listed later)"
        elif col[-1]:
            dropped[name] = "no price on the window's last date (delisted or stale)"
        elif col.any() and _longest_run(col) > max_fill:
            dropped[name] = f"a gap of {_longest_run(col)} dates, more than max_fill={max_fill}"
        else:
            keep.append(j)
    if not keep:
        raise MissingDataError(f"every asset was dropped by the gap rule: {dropped}")
    kept = values[:, keep].copy()
    for j in range(kept.shape[1]):
        col = kept[:, j]
        for t in np.flatnonzero(np.isnan(col)):
            col[t] = col[t - 1]  # t > 0: the first row is never missing for a kept asset
    return PriceTable(dates, tuple(table.assets[j] for j in keep), kept, dropped)
