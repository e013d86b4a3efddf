"""Transaction costs of a rebalance: half-spread plus square-root market impact from dollar volumes.

For a trade of z dollars in an asset with daily dollar volume V and daily return volatility σ:
    cost = a·|z| + b·σ·|z|·√(|z| / V)
i.e. a fixed half-spread a (default 5 bp) plus the square-root impact law, the impact per dollar growing
with the square root of the fraction of the day's volume taken (Almgren et al. 2005; Tóth et al. 2011).
b = 1 follows cvxportfolio's examples, the source of the Dow-30 data. Without a volume the impact term
is omitted and only the spread is charged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kimera.portfolio.optimize.covariance import FloatArray

DEFAULT_HALF_SPREAD = 5e-4
DEFAULT_IMPACT = 1.0


@dataclass(frozen=True)
class CostModel:
    """a (half-spread, a fraction of the traded value) and b (impact coefficient)."""

    half_spread: float = DEFAULT_HALF_SPREAD
    impact: float = DEFAULT_IMPACT

    def cost(self, trades: FloatArray, volumes: FloatArray | None, sigmas: FloatArray | None) -> FloatArray:
        """Per-asset dollar cost of `trades` (dollars, signed) given dollar volumes and daily σ."""
        z = np.abs(np.asarray(trades, dtype=np.float64))
        out: FloatArray = self.half_spread * z
        if volumes is None or sigmas is None or self.impact == 0:
            return out
        v = np.asarray(volumes, dtype=np.float64)
        s = np.asarray(sigmas, dtype=np.float64)
        usable = np.isfinite(v) & (v > 0) & np.isfinite(s)
        frac = np.zeros_like(z)
        np.divide(z, v, out=frac, where=usable)
        out = out + np.where(usable, self.impact * s * z * np.sqrt(frac), 0.0)
        return out
