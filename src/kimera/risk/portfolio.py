"""What the risk engine reads of a portfolio: `PortfolioView` (a protocol the execution/portfolio side
implements) and `PortfolioSnapshot`, a validated immutable implementation of it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from kimera.model import Instrument
from kimera.risk.errors import RiskInputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Position:
    """A signed position: `quantity` and `avg_price` fixed-point at the instrument's scales."""

    instrument: Instrument
    quantity: int
    avg_price: int

    def __post_init__(self) -> None:
        for name in ("quantity", "avg_price"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise RiskInputError(f"position {self.instrument.key}: {name} must be a fixed-point int, got {v!r}")
        if self.avg_price < 0:
            raise RiskInputError(f"position {self.instrument.key}: negative avg_price {self.avg_price}")

    @property
    def qty(self) -> float:
        """Signed quantity in base units."""
        return self.quantity / self.instrument.size_scale

    @property
    def notional(self) -> float:
        """|quantity| × avg price in quote units (cost basis)."""
        return abs(self.quantity) / self.instrument.size_scale * self.avg_price / self.instrument.price_scale


@runtime_checkable
class PortfolioView(Protocol):
    """The portfolio as risk sees it. `returns` is the portfolio's return history, oldest first, sampled
    like the instruments' returns it is correlated with."""

    @property
    def positions(self) -> Mapping[str, Position]: ...

    @property
    def equity(self) -> float: ...

    @property
    def equity_peak(self) -> float: ...

    @property
    def daily_pnl(self) -> float: ...

    @property
    def returns(self) -> FloatArray: ...


def _finite(name: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise RiskInputError(f"portfolio {name} must be a finite number, got {v!r}")
    return float(v)


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """An immutable, validated `PortfolioView` (positions keyed by `VENUE:SYMBOL`)."""

    positions: Mapping[str, Position] = field(default_factory=dict)
    equity: float = 0.0
    equity_peak: float = 0.0
    daily_pnl: float = 0.0
    returns: FloatArray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        eq = _finite("equity", self.equity)
        peak = _finite("equity_peak", self.equity_peak)
        _finite("daily_pnl", self.daily_pnl)
        if peak < eq:
            raise RiskInputError(f"portfolio equity_peak {peak} is below equity {eq}")
        for k, p in self.positions.items():
            if not isinstance(p, Position):
                raise RiskInputError(f"portfolio position {k!r} is not a Position: {p!r}")
            if p.instrument.key != k:
                raise RiskInputError(f"portfolio position keyed {k!r} holds {p.instrument.key}")
        r = np.array(self.returns, dtype=np.float64).reshape(-1)
        if not np.isfinite(r).all():
            raise RiskInputError(f"portfolio returns contain NaN or infinity at {np.flatnonzero(~np.isfinite(r))[:5].tolist()}")
        r.setflags(write=False)
        object.__setattr__(self, "positions", dict(self.positions))
        object.__setattr__(self, "returns", r)
