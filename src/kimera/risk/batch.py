"""Many orders at once, as numpy columns: the same components, limits and sizing as the single path."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kimera.risk.components import cognitive
from kimera.risk.errors import RiskInputError

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class OrderBatch:
    """Orders on one instrument as columns: `side` ±1, `qty` base units > 0, `price` quote (NaN = market:
    valued at the touch it takes), `confidence` and `cognitive` (confidence dispersion) and `tension` in [0, 1]."""

    side: npt.NDArray[np.int8]
    qty: F64
    price: F64
    confidence: F64
    cognitive: F64
    tension: F64

    def __post_init__(self) -> None:
        n = self.side.shape[0]
        cols = {k: np.asarray(getattr(self, k)) for k in ("side", "qty", "price", "confidence", "cognitive", "tension")}
        for k, v in cols.items():
            if v.ndim != 1 or v.shape[0] != n:
                raise RiskInputError(f"OrderBatch.{k} must be 1-D of length {n}, got shape {v.shape}")
        bad = np.flatnonzero((self.side != 1) & (self.side != -1))
        if bad.size:
            raise RiskInputError(f"OrderBatch.side must be +1/-1; order {bad[0]} has {self.side[bad[0]]}")
        bad = np.flatnonzero(~(np.isfinite(self.qty) & (self.qty > 0)))
        if bad.size:
            raise RiskInputError(f"OrderBatch.qty must be finite and > 0; order {bad[0]} has {self.qty[bad[0]]}")
        bad = np.flatnonzero(~(np.isnan(self.price) | (np.isfinite(self.price) & (self.price > 0))))
        if bad.size:
            raise RiskInputError(f"OrderBatch.price must be > 0 (NaN = market); order {bad[0]} has {self.price[bad[0]]}")
        for k in ("confidence", "cognitive", "tension"):
            v = getattr(self, k)
            bad = np.flatnonzero(~((v >= 0.0) & (v <= 1.0)))
            if bad.size:
                raise RiskInputError(f"OrderBatch.{k} must be in [0, 1]; order {bad[0]} has {v[bad[0]]}")

    def __len__(self) -> int:
        return int(self.side.shape[0])

    @staticmethod
    def from_intents(intents: Sequence[object]) -> OrderBatch:
        """Columns from `OrderIntent`s of one instrument (prices of limit orders, NaN for market orders)."""
        from kimera.strategy.intent import OrderIntent

        n = len(intents)
        side = np.empty(n, np.int8)
        qty = np.empty(n)
        price = np.empty(n)
        conf = np.empty(n)
        cog = np.empty(n)
        ten = np.empty(n)
        keys = set()
        for k, it in enumerate(intents):
            if not isinstance(it, OrderIntent):
                raise RiskInputError(f"OrderBatch.from_intents: item {k} is {type(it).__name__}, not OrderIntent")
            inst = it.instrument
            keys.add(inst.key)
            side[k] = int(it.side)
            qty[k] = it.quantity / inst.size_scale
            price[k] = math.nan if it.price is None else it.price / inst.price_scale
            conf[k] = it.confidence
            cog[k] = cognitive([s.confidence for s in it.signals])
            ten[k] = it.tension_rate
        if len(keys) > 1:
            raise RiskInputError(f"OrderBatch.from_intents: one instrument per batch, got {sorted(keys)}")
        return OrderBatch(side, qty, price, conf, cog, ten)
