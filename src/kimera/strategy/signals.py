"""Member signals: order-book-imbalance momentum, z-score mean reversion and trade-flow momentum."""

from __future__ import annotations

import math

from kimera.features import MarketFeatures
from kimera.model import Instrument
from kimera.strategy.base import SignalStrategy
from kimera.strategy.intent import Signal


def _positive(owner: str, name: str, v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {v!r}")
    return float(v)


def _scored(name: str, score: float) -> Signal:
    """Direction past |score| >= 1; confidence min(1, |score| / 2) (0.5 at the threshold, 1 at twice it)."""
    a = abs(score)
    d = (1 if score > 0 else -1) if a >= 1.0 else 0
    return Signal(name, d, score, min(1.0, a * 0.5))


class ImbalanceMomentum(SignalStrategy):
    """Follow the top-5 book imbalance: buy when bids dominate (imb >= threshold), sell when asks do.

    Vetoed (flat) when the window trend points the other way beyond `trend_deadband`, or when annualised
    volatility exceeds `max_vol` (imbalance is noise in a fast market).
    """

    def __init__(
        self, instrument: Instrument, base_quantity: int, threshold: float = 0.3, trend_deadband: float = 1e-4,
        max_vol: float = 2.0, strategy_id: str = "obi_momentum", min_confidence: float = 0.0,
    ) -> None:
        super().__init__(strategy_id, instrument, base_quantity, min_confidence)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"{strategy_id}: threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold
        self.trend_deadband = _positive(strategy_id, "trend_deadband", trend_deadband)
        self.max_vol = _positive(strategy_id, "max_vol", max_vol)

    def signal(self, f: MarketFeatures) -> Signal:
        score = f.imb_l5 / self.threshold
        t = f.trend
        if f.vol > self.max_vol or (t > self.trend_deadband and score < 0) or (t < -self.trend_deadband and score > 0):
            score = max(-0.999, min(0.999, score))  # vetoed: keep the sign for the record, below threshold
        return _scored(self.strategy_id, score)


class MeanReversion(SignalStrategy):
    """Fade stretched prices: sell when the log mid is `z_entry` rolling std above its rolling mean, buy below."""

    def __init__(
        self, instrument: Instrument, base_quantity: int, z_entry: float = 2.0, strategy_id: str = "mean_reversion",
        min_confidence: float = 0.0,
    ) -> None:
        super().__init__(strategy_id, instrument, base_quantity, min_confidence)
        self.z_entry = _positive(strategy_id, "z_entry", z_entry)

    def signal(self, f: MarketFeatures) -> Signal:
        return _scored(self.strategy_id, -f.zscore / self.z_entry)


class FlowMomentum(SignalStrategy):
    """Follow aggressor flow: buy when taker buys dominate recent volume (flow >= threshold), sell when sells do."""

    def __init__(
        self, instrument: Instrument, base_quantity: int, threshold: float = 0.5, strategy_id: str = "flow_momentum",
        min_confidence: float = 0.0,
    ) -> None:
        super().__init__(strategy_id, instrument, base_quantity, min_confidence)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"{strategy_id}: threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold

    def signal(self, f: MarketFeatures) -> Signal:
        return _scored(self.strategy_id, f.flow / self.threshold)
