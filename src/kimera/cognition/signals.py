"""Simple directional signals over `MarketFeatures`: each names a direction (+1 long, −1 short, 0 flat)
and a conviction in [0, 1]; different signals about the same moment may disagree, which is the point."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from kimera.cognition.features import DEPTHS, HORIZONS_S, MarketFeatures


class Signal(Protocol):
    """A named view on the market: a direction in {−1, 0, 1} and a conviction in [0, 1]."""

    @property
    def name(self) -> str: ...

    def direction(self, f: MarketFeatures) -> int: ...

    def conviction(self, f: MarketFeatures) -> float: ...


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


@dataclass(frozen=True, slots=True)
class Momentum:
    """Follow the move: the sign of the return over `horizon_s` when it exceeds `min_bps`."""

    horizon_s: float = 5.0
    min_bps: float = 0.1
    name: str = "momentum"

    def direction(self, f: MarketFeatures) -> int:
        r = f.returns_bps[HORIZONS_S.index(self.horizon_s)]
        return _sign(r) if abs(r) >= self.min_bps else 0

    def conviction(self, f: MarketFeatures) -> float:
        return math.tanh(abs(f.returns_bps[HORIZONS_S.index(self.horizon_s)]) / 2.0)


@dataclass(frozen=True, slots=True)
class MeanReversion:
    """Fade the stretch: against the sign of the mid's z-score when |z| exceeds `z_entry`."""

    z_entry: float = 1.0
    name: str = "mean_reversion"

    def direction(self, f: MarketFeatures) -> int:
        return -_sign(f.zscore) if abs(f.zscore) >= self.z_entry else 0

    def conviction(self, f: MarketFeatures) -> float:
        return math.tanh(abs(f.zscore) / 2.0)


@dataclass(frozen=True, slots=True)
class BookPressure:
    """Lean with the heavier side of the book over `depth` levels when |imbalance| exceeds `min_imbalance`."""

    depth: int = 5
    min_imbalance: float = 0.2
    name: str = "book_pressure"

    def direction(self, f: MarketFeatures) -> int:
        x = f.imbalance[DEPTHS.index(self.depth)]
        return _sign(x) if abs(x) >= self.min_imbalance else 0

    def conviction(self, f: MarketFeatures) -> float:
        return abs(f.imbalance[DEPTHS.index(self.depth)])


@dataclass(frozen=True, slots=True)
class TradeFlow:
    """Follow the takers: the sign of the trade-flow imbalance when it exceeds `min_imbalance`."""

    min_imbalance: float = 0.2
    name: str = "trade_flow"

    def direction(self, f: MarketFeatures) -> int:
        return _sign(f.flow_imbalance) if abs(f.flow_imbalance) >= self.min_imbalance else 0

    def conviction(self, f: MarketFeatures) -> float:
        return abs(f.flow_imbalance)
