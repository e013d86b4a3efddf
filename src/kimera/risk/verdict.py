"""Risk verdicts: the score, its six components, and every hard limit the order breaks (by name, with values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from kimera.risk.config import COMPONENTS

LIMITS = (
    "kill_switch",
    "max_position",
    "max_notional",
    "max_order_rate",
    "max_daily_loss",
    "max_drawdown",
    "min_confidence",
    "max_contradiction",
    "max_risk_score",
)


class Breach(NamedTuple):
    """One broken hard limit: its name, the order's value and the limit's bound."""

    limit: str
    value: float
    bound: float

    def __str__(self) -> str:
        rel = "under" if self.limit == "min_confidence" else "over"
        return f"{self.limit}: {self.value:.6g} {rel} {self.bound:.6g}"


class Components(NamedTuple):
    """The six components, each in [0, 1]."""

    thermal: float
    cognitive: float
    volatility: float
    correlation: float
    liquidity: float
    contradiction: float


class RiskVerdict(NamedTuple):
    """Approved only with no breach. `suggested_quantity` is fixed-point, from risk and volatility sizing;
    `rho` is the instrument/portfolio return correlation and `concentration` the post-order Herfindahl index.
    (A NamedTuple: it is built once per assessment on the hot path.)"""

    approved: bool
    score: float
    components: Components
    breaches: tuple[Breach, ...]
    suggested_quantity: int
    rho: float
    concentration: float
    notional: float

    def breached(self, limit: str) -> bool:
        """True if `limit` is among the breaches."""
        return any(b.limit == limit for b in self.breaches)

    def explain(self) -> str:
        """A one-line human summary."""
        if self.approved:
            return f"approved (risk {self.score:.3f})"
        return "blocked: " + "; ".join(map(str, self.breaches))


@dataclass(frozen=True, slots=True, eq=False)
class BatchVerdict:
    """Column verdicts of a batch: `components` is N×6 in `COMPONENTS` order; `breaches[limit]` a bool mask;
    `values[limit]` the compared value per order (the bound is the configured limit)."""

    approved: npt.NDArray[np.bool_]
    score: npt.NDArray[np.float64]
    components: npt.NDArray[np.float64]
    breaches: dict[str, npt.NDArray[np.bool_]]
    values: dict[str, npt.NDArray[np.float64]]
    bounds: dict[str, float]
    suggested_quantity: npt.NDArray[np.int64]
    rho: float
    concentration: npt.NDArray[np.float64]
    notional: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.approved.shape[0])

    def breaches_of(self, k: int) -> tuple[Breach, ...]:
        """The breaches of order `k`, in `LIMITS` order (as the single-order verdict lists them)."""
        return tuple(
            Breach(name, float(self.values[name][k]), self.bounds[name]) for name in LIMITS if self.breaches[name][k]
        )

    def component_names(self) -> tuple[str, ...]:
        """Column names of `components`."""
        return COMPONENTS
