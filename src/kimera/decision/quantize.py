"""Cache keys: a tuple of quantised features with explicit, configurable quanta (never a string hash).

The base key is (price bucket, volatility bucket, trend sign, imbalance bucket, symbol, strategy). A strategy
whose decision also reads other features declares them (`key_features`: (feature name, quantum) pairs, e.g.
the ensemble's z-score and trade flow); their buckets are appended, so equal keys mean equal inputs up to
the grid for every feature the decision depends on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import floor
from operator import attrgetter

from kimera.features import MarketFeatures

DecisionKey = tuple[int | str, ...]
"""(price bucket, volatility bucket, trend sign, imbalance bucket, symbol, strategy, *extra feature buckets)."""

KeyFeatures = Sequence[tuple[str, float]]
"""Extra quantised features of a key: (MarketFeatures field name, quantum) pairs."""


class QuantaError(ValueError):
    """A quantum that is not a finite positive number, or an extra key feature that does not exist."""


def _check_quantum(name: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise QuantaError(f"{name} must be a finite number > 0, got {v!r}")
    return float(v)


def check_key_features(extra: KeyFeatures) -> tuple[tuple[str, float], ...]:
    """Validated extra key features: known numeric `MarketFeatures` fields, positive finite quanta, no repeats."""
    fields = set(MarketFeatures.__struct_fields__) - {"symbol", "recv_ns"}
    out = []
    for name, q in extra:
        if name not in fields:
            raise QuantaError(f"key feature {name!r} is not a MarketFeatures field (choose from {sorted(fields)})")
        out.append((name, _check_quantum(f"quantum of key feature {name!r}", q)))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise QuantaError(f"key features repeat a name: {names}")
    return tuple(out)


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
            _check_quantum(f"Quanta.{name}", getattr(self, name))

    def key(self, f: MarketFeatures, strategy: str, extra: KeyFeatures = ()) -> DecisionKey:
        """The cache key of features `f` for `strategy` (with the buckets of `extra` features appended)."""
        t = f.trend
        db = self.trend_deadband
        base = (
            floor(f.mid / self.price),
            floor(f.vol / self.vol),
            1 if t > db else (-1 if t < -db else 0),
            floor(f.imb_l5 / self.imbalance),
            f.symbol,
            strategy,
        )
        if not extra:
            return base
        return base + tuple(floor(getattr(f, name) / q) for name, q in check_key_features(extra))

    def key_fn(self, strategy: str, extra: KeyFeatures = ()) -> Callable[[MarketFeatures], DecisionKey]:
        """`lambda f: self.key(f, strategy, extra)` with the quanta bound once: the hot-path form."""
        p, v, i, db = self.price, self.vol, self.imbalance, self.trend_deadband
        ex = check_key_features(extra)
        if not ex:
            def key(f: MarketFeatures) -> DecisionKey:
                t = f.trend
                return (floor(f.mid / p), floor(f.vol / v), 1 if t > db else (-1 if t < -db else 0), floor(f.imb_l5 / i),
                        f.symbol, strategy)
            return key
        qs = tuple(q for _, q in ex)
        if len(ex) == 1:
            get1 = attrgetter(ex[0][0])
            (q0,) = qs

            def key1(f: MarketFeatures) -> DecisionKey:
                t = f.trend
                return (floor(f.mid / p), floor(f.vol / v), 1 if t > db else (-1 if t < -db else 0), floor(f.imb_l5 / i),
                        f.symbol, strategy, floor(get1(f) / q0))
            return key1
        get = attrgetter(*(n for n, _ in ex))

        def keyn(f: MarketFeatures) -> DecisionKey:
            t = f.trend
            return (floor(f.mid / p), floor(f.vol / v), 1 if t > db else (-1 if t < -db else 0), floor(f.imb_l5 / i),
                    f.symbol, strategy, *[floor(x / q) for x, q in zip(get(f), qs, strict=True)])
        return keyn
