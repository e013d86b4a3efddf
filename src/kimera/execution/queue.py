"""Queue-position models for resting orders: how much of a level's cancelled size was ahead of us.

Trades at our price always consume the queue ahead first (price-time priority). Cancels are ambiguous in
L2 data; a model decides. `RiskAverseQueue` (hftbacktest's RiskAverseQueueModel): cancels never advance
us, the queue ahead only shrinks when the level shrinks below it. `ProbQueue(power)` (hftbacktest's
ProbQueueModel with its power function): a cancel of `c` removes `c * f(ahead) / (f(ahead) + f(behind))`
from ahead of us, f(x) = x**power; power 1 is pro rata, larger powers push cancels to the larger side.
"""

from __future__ import annotations

from typing import Protocol


class QueueModel(Protocol):
    """New size ahead after `cancelled` left a level that had `ahead` before us and `behind` after us."""

    name: str

    def on_cancel(self, ahead: int, behind: int, cancelled: int) -> int: ...


class RiskAverseQueue:
    """Cancels never move us forward (the level clamp still applies)."""

    name = "risk_averse"

    def on_cancel(self, ahead: int, behind: int, cancelled: int) -> int:
        """Unchanged."""
        return ahead


class ProbQueue:
    """Cancels split between ahead and behind by f(x) = x**power."""

    def __init__(self, power: float = 1.0) -> None:
        if not power > 0:
            raise ValueError(f"ProbQueue power must be > 0, got {power!r}")
        self.power = power
        self.name = f"prob_power{power:g}"

    def on_cancel(self, ahead: int, behind: int, cancelled: int) -> int:
        """Remove the model's share of the cancel from ahead (never below zero)."""
        if ahead <= 0 or cancelled <= 0:
            return max(ahead, 0)
        fa = float(ahead) ** self.power
        fb = float(max(behind, 0)) ** self.power
        share = fa / (fa + fb)
        return max(0, ahead - round(cancelled * share))
