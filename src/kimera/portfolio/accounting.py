"""Portfolio accounting: positions per instrument and venue, average price, realised/unrealised PnL, fees,
cash, an equity curve and drawdown.

Average-cost method: buying adds to the position at a weighted average price; reducing realises
(exit - average) x size x direction; crossing through zero closes then opens the rest at the fill price.
Cash moves by the full notional and the fee, so at every step
    equity = cash + sum(position x mark) = initial cash + realised + unrealised - fees.
Every position change is journaled before it is applied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from kimera.execution.orders import Fill
from kimera.model import Instrument, Side


class AccountingError(ValueError):
    """A fill or mark the books cannot take (unknown instrument, non-positive size, NaN price)."""


class _Sink(Protocol):
    def write(self, kind: str, ts_ns: int, body: dict[str, Any]) -> int: ...


class Position:
    """A signed position in one instrument on one venue (size fixed-point, money float)."""

    __slots__ = ("avg_price", "fees", "instrument", "mark", "qty", "realised", "trades")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.qty = 0  # signed, fixed-point size units
        self.avg_price = 0.0  # float price of the open position
        self.realised = 0.0  # gross of fees
        self.fees = 0.0
        self.mark: float | None = None
        self.trades = 0

    @property
    def size(self) -> float:
        """Signed size in base units."""
        return self.qty / self.instrument.size_scale

    def unrealised(self) -> float:
        """(mark - average) x size; 0 when flat or unmarked."""
        if not self.qty or self.mark is None:
            return 0.0
        return (self.mark - self.avg_price) * self.size

    def value(self) -> float:
        """Marked value of the position (size x mark; at average price before the first mark)."""
        if not self.qty:
            return 0.0
        return self.size * (self.mark if self.mark is not None else self.avg_price)

    def apply(self, side: Side, size: int, price: float, fee: float) -> float:
        """Fold in one fill; returns the realised PnL (gross) it produced."""
        signed = size * int(side)
        realised = 0.0
        q = self.qty
        if q == 0 or (q > 0) == (signed > 0):
            new = q + signed
            self.avg_price = (self.avg_price * abs(q) + price * size) / abs(new)
            self.qty = new
        else:
            closing = min(abs(q), size)
            direction = 1 if q > 0 else -1
            realised = (price - self.avg_price) * closing / self.instrument.size_scale * direction
            self.qty = q + signed
            if self.qty == 0:
                self.avg_price = 0.0
            elif (self.qty > 0) != (q > 0):
                self.avg_price = price
        self.realised += realised
        self.fees += fee
        self.trades += 1
        return realised


@dataclass
class EquityPoint:
    """One sample of the equity curve."""

    ts_ns: int
    equity: float
    cash: float
    drawdown: float


@dataclass
class Portfolio:
    """Cash and positions keyed by `VENUE:SYMBOL`; fed `Fill`s and marks."""

    initial_cash: float = 100_000.0
    journal: _Sink | None = None
    sample_ns: int = 1_000_000_000
    cash: float = field(init=False)
    positions: dict[str, Position] = field(default_factory=dict)
    curve: list[EquityPoint] = field(default_factory=list)
    peak: float = field(init=False)
    max_drawdown: float = 0.0
    fees: float = 0.0
    realised: float = 0.0
    fills: int = 0
    _next_sample: int = 0

    def __post_init__(self) -> None:
        if not math.isfinite(self.initial_cash) or self.initial_cash < 0:
            raise AccountingError(f"initial cash must be finite and >= 0, got {self.initial_cash!r}")
        self.cash = self.initial_cash
        self.peak = self.initial_cash

    def position(self, instrument: Instrument) -> Position:
        """The position of an instrument (created flat)."""
        p = self.positions.get(instrument.key)
        if p is None:
            p = self.positions[instrument.key] = Position(instrument)
        return p

    def on_fill(self, fill: Fill, instrument: Instrument) -> float:
        """Journal the position change this fill makes, then apply it; returns its realised PnL."""
        if fill.size <= 0 or fill.price <= 0 or not math.isfinite(fill.fee):
            raise AccountingError(f"bad fill {fill!r}")
        if instrument.key != fill.key:
            raise AccountingError(f"fill for {fill.key} booked against {instrument.key}")
        pos = self.position(instrument)
        price = instrument.px(fill.price)
        notional = price * instrument.qty(fill.size)
        if self.journal is not None:
            signed = fill.size * int(fill.side)
            self.journal.write("position", fill.ts_ns, {
                "inst": fill.key, "fill_id": fill.fill_id, "qty": pos.qty + signed,
                "cash_delta": -notional * int(fill.side) - fill.fee, "fee": fill.fee})
        realised = pos.apply(fill.side, fill.size, price, fill.fee)
        self.cash -= notional * int(fill.side) + fill.fee
        self.fees += fill.fee
        self.realised += realised
        self.fills += 1
        if pos.mark is None:
            pos.mark = price
        self.sample(fill.ts_ns, force=True)
        return realised

    def mark(self, key: str, price: float, ts_ns: int) -> None:
        """Mark an instrument (mid price) and sample the equity curve every `sample_ns`."""
        pos = self.positions.get(key)
        if pos is not None:
            if not math.isfinite(price):
                raise AccountingError(f"mark {price!r} for {key} is not finite")
            pos.mark = price
        if ts_ns >= self._next_sample:
            self.sample(ts_ns)

    def unrealised(self) -> float:
        """Sum of unrealised PnL."""
        return sum(p.unrealised() for p in self.positions.values())

    def equity(self) -> float:
        """Cash plus marked positions."""
        return self.cash + sum(p.value() for p in self.positions.values())

    def sample(self, ts_ns: int, force: bool = False) -> None:
        """Append an equity point and update peak and drawdown."""
        if not force and ts_ns < self._next_sample:
            return
        self._next_sample = ts_ns + self.sample_ns
        eq = self.equity()
        if eq > self.peak:
            self.peak = eq
        dd = (self.peak - eq) / self.peak if self.peak > 0 else 0.0
        if dd > self.max_drawdown:
            self.max_drawdown = dd
        self.curve.append(EquityPoint(ts_ns, eq, self.cash, dd))

    def net_position(self, instrument: Instrument) -> int:
        """Signed fixed-point position (0 if never traded)."""
        p = self.positions.get(instrument.key)
        return 0 if p is None else p.qty

    def summary(self) -> dict[str, float]:
        """Headline numbers."""
        return {
            "cash": self.cash, "equity": self.equity(), "realised": self.realised,
            "unrealised": self.unrealised(), "fees": self.fees, "max_drawdown": self.max_drawdown,
            "fills": float(self.fills),
        }


def portfolio_view(pf: Portfolio, max_returns: int = 512) -> Any:
    """The portfolio as the risk engine reads it (`kimera.risk.PortfolioSnapshot`, a `PortfolioView`)."""
    import numpy as np

    from kimera.risk.portfolio import PortfolioSnapshot
    from kimera.risk.portfolio import Position as RiskPosition

    positions = {
        k: RiskPosition(p.instrument, p.qty, round(p.avg_price * p.instrument.price_scale))
        for k, p in pf.positions.items() if p.qty
    }
    eq = pf.equity()
    curve = np.array([pt.equity for pt in pf.curve[-max_returns - 1:]] + [eq], dtype=np.float64)
    rets = np.diff(curve) / curve[:-1] if len(curve) > 1 and (curve[:-1] > 0).all() else np.zeros(0)
    return PortfolioSnapshot(positions, eq, max(pf.peak, eq), eq - pf.initial_cash, rets)
