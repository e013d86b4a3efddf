"""Cache keys: a tuple of quantised features with explicit, configurable quanta (never a string hash)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kimera.features import MarketFeatures

DecisionKey = tuple[int, int, int, int, str, str]
"""(price bucket, volatility bucket, trend sign, imbalance bucket, symbol, strategy)."""


class QuantaError(ValueError):
    """A quantum that is not a finite positive number."""


@dataclass(frozen=True, slots=True)
class Quanta:
    """Bucket widths: `price` in quote units, `vol` in annualised volatility, `imbalance` in top-5 imbalance
    units; the trend sign is 0 inside ±`trend_deadband` (log return over the feature window).

    Buckets are floor(x / quantum), so equal keys mean the features lie in the same cell of this grid.
    """

    price: float = 100.0
    vol: float = 0.25
    imbalance: float = 0.1
    trend_deadband: float = 1e-4

    def __post_init__(self) -> None:
        for name in ("price", "vol", "imbalance", "trend_deadband"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise QuantaError(f"Quanta.{name} must be a finite number > 0, got {v!r}")

    def key(self, f: MarketFeatures, strategy: str) -> DecisionKey:
        """The cache key of features `f` for `strategy`."""
        t = f.trend
        db = self.trend_deadband
        return (
            int(f.mid // self.price),
            int(f.vol // self.vol),
            1 if t > db else (-1 if t < -db else 0),
            int(f.imb_l5 // self.imbalance),
            f.symbol,
            strategy,
        )
