"""The decision engine: quantised features → cache → (on a miss) the strategy's uncached decision.

With `verify=True` every hit is also recomputed uncached and compared, which measures the cache's
agreement (the share of hits whose cached decision equals what the strategy decides at that moment).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from kimera.decision.cache import DecisionCache
from kimera.decision.quantize import KeyFeatures, Quanta
from kimera.features import MarketFeatures
from kimera.strategy import Ensemble, ImbalanceMomentum

V = TypeVar("V")


class Choice(NamedTuple):
    """A trading decision: direction in {-1, 0, 1} and a size tier in {0, 0.25, 0.5, 0.75, 1}."""

    direction: int
    size: float


def size_tier(x: float) -> float:
    """Round a size fraction in [0, 1] to the nearest quarter."""
    return round(max(0.0, min(1.0, x)) * 4.0) / 4.0


def vol_tier(vol: float) -> float:
    """Size by volatility regime: 1 below 50% annualised, 0.5 below 100%, else 0.25."""
    return 1.0 if vol < 0.5 else (0.5 if vol < 1.0 else 0.25)


def momentum_choice(strategy: ImbalanceMomentum) -> Callable[[MarketFeatures], Choice]:
    """The imbalance-momentum decision: its signal's direction, sized by the volatility regime."""

    def decide(f: MarketFeatures) -> Choice:
        d = strategy.signal(f).direction
        return Choice(d, vol_tier(f.vol) if d else 0.0)

    return decide


def ensemble_choice(ensemble: Ensemble) -> Callable[[MarketFeatures], Choice]:
    """The ensemble's decision: direction when it trades (else 0), size fraction to the nearest quarter."""

    def decide(f: MarketFeatures) -> Choice:
        d = ensemble.decide(f)
        return Choice(d.direction, size_tier(d.size_fraction)) if d.trade else Choice(0, 0.0)

    return decide


class DecisionEngine(Generic[V]):
    """Decisions of one strategy through a `DecisionCache` keyed by `Quanta.key(features, strategy_id,
    key_features)`: `key_features` are the extra (feature, quantum) pairs the decision reads (a strategy's
    `key_features`), so a strategy that reads more than the base key is keyed on what it reads."""

    def __init__(
        self, strategy_id: str, decide: Callable[[MarketFeatures], V], cache: DecisionCache[V],
        quanta: Quanta | None = None, verify: bool = False, key_features: KeyFeatures = (),
    ) -> None:
        if not strategy_id:
            raise ValueError("DecisionEngine needs a non-empty strategy_id")
        self.strategy_id = strategy_id
        self.uncached = decide
        self.cache = cache
        self.quanta = quanta or Quanta()
        self.key_features = tuple(key_features)
        self.key = self.quanta.key_fn(strategy_id, self.key_features)
        self.verify = verify
        self.checked = 0
        self.agreed = 0

    def decide(self, f: MarketFeatures) -> V:
        """The decision for `f` at its own time `f.recv_ns`: cached when a live entry exists."""
        key = self.key(f)
        v = self.cache.get(key, f.recv_ns)
        if v is not None:
            if self.verify:
                self.checked += 1
                if self.uncached(f) == v:
                    self.agreed += 1
            return v
        v = self.uncached(f)
        self.cache.put(key, v, f.recv_ns)
        return v

    @property
    def agreement(self) -> float:
        """Share of verified hits that equal the uncached decision (nan before any)."""
        return self.agreed / self.checked if self.checked else float("nan")
