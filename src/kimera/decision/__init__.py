"""Decisions: quantised-feature keys, a TTL/LRU decision cache, and the tick-to-decision pipeline."""

from kimera.decision.cache import CacheEntry, CacheStats, DecisionCache
from kimera.decision.engine import (
    Choice,
    DecisionEngine,
    ensemble_choice,
    momentum_choice,
    size_tier,
    vol_tier,
)
from kimera.decision.pipeline import TickPipeline, TickResult
from kimera.decision.quantize import DecisionKey, Quanta, QuantaError

__all__ = [
    "CacheEntry",
    "CacheStats",
    "Choice",
    "DecisionCache",
    "DecisionEngine",
    "DecisionKey",
    "Quanta",
    "QuantaError",
    "TickPipeline",
    "TickResult",
    "ensemble_choice",
    "momentum_choice",
    "size_tier",
    "vol_tier",
]
