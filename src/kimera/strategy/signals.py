"""Member signals: order-book-imbalance momentum, z-score mean reversion and trade-flow momentum."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence

from kimera.engine.books import BookUpdate
from kimera.features import MarketFeatures
from kimera.model import Instrument
from kimera.strategy.base import NO_INTENTS, SignalStrategy
from kimera.strategy.intent import OrderIntent, Signal

ZSCORE_QUANTUM = 0.5  # decision-cache bucket of the z-score (MeanReversion reads it)
FLOW_QUANTUM = 0.25  # decision-cache bucket of the trade flow (FlowMomentum reads it)


def _positive(owner: str, name: str, v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {v!r}")
    return float(v)


def _scored(name: str, score: float) -> Signal:
    """Direction past |score| >= 1; confidence min(1, |score| / 2) (0.5 at the threshold, 1 at twice it)."""
    a = abs(score)
    d = (1 if score > 0 else -1) if a >= 1.0 else 0
    return Signal(name, d, score, min(1.0, a * 0.5))


class ScoredSignal(SignalStrategy):
    """A member whose signal is `_scored(strategy_id, score(f))`: the ensemble's fast path reads the bare
    score (no `Signal` built) and derives direction and confidence the same way."""

    @abstractmethod
    def score(self, f: MarketFeatures) -> float:
        """The signed score (|score| >= 1: past the threshold)."""

    def signal(self, f: MarketFeatures) -> Signal:
        return _scored(self.strategy_id, self.score(f))

    def on_book(self, update: BookUpdate, features: MarketFeatures) -> Sequence[OrderIntent]:
        # same intents as `SignalStrategy.on_book`; the `Signal` is built only when the direction changes
        if features.symbol != self._inst_key:
            return NO_INTENTS
        score = self.score(features)
        d = (1 if score > 0 else -1) if abs(score) >= 1.0 else 0
        if d == self._last_direction and math.isfinite(score):
            return NO_INTENTS
        s = _scored(self.strategy_id, score)
        return self.intents_for(s.direction, s.confidence, (s,), 0.0, features.recv_ns)


class ImbalanceMomentum(ScoredSignal):
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

    def score(self, f: MarketFeatures) -> float:
        score = f.imb_l5 / self.threshold
        t = f.trend
        if f.vol > self.max_vol or (t > self.trend_deadband and score < 0) or (t < -self.trend_deadband and score > 0):
            score = max(-0.999, min(0.999, score))  # vetoed: keep the sign for the record, below threshold
        return score


class MeanReversion(ScoredSignal):
    """Fade stretched prices: sell when the log mid is `z_entry` rolling std above its rolling mean, buy below."""

    def __init__(
        self, instrument: Instrument, base_quantity: int, z_entry: float = 2.0, strategy_id: str = "mean_reversion",
        min_confidence: float = 0.0, z_quantum: float = ZSCORE_QUANTUM,
    ) -> None:
        super().__init__(strategy_id, instrument, base_quantity, min_confidence)
        self.z_entry = _positive(strategy_id, "z_entry", z_entry)
        self.key_features = (("zscore", _positive(strategy_id, "z_quantum", z_quantum)),)

    def score(self, f: MarketFeatures) -> float:
        return -f.zscore / self.z_entry


class FlowMomentum(ScoredSignal):
    """Follow aggressor flow: buy when taker buys dominate recent volume (flow >= threshold), sell when sells do."""

    def __init__(
        self, instrument: Instrument, base_quantity: int, threshold: float = 0.5, strategy_id: str = "flow_momentum",
        min_confidence: float = 0.0, flow_quantum: float = FLOW_QUANTUM,
    ) -> None:
        super().__init__(strategy_id, instrument, base_quantity, min_confidence)
        self.key_features = (("flow", _positive(strategy_id, "flow_quantum", flow_quantum)),)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"{strategy_id}: threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold

    def score(self, f: MarketFeatures) -> float:
        return f.flow / self.threshold
