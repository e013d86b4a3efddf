"""Shared causal market features (returns, realised volatility, imbalance, trade flow, entropy)."""

from kimera.features.entropy import count_entropy, temperature, thermal_stats
from kimera.features.hub import FeatureHub
from kimera.features.market import DEPTHS, FeatureConfig, FeatureEngine, FeatureError, MarketFeatures
from kimera.features.ring import Ring

__all__ = [
    "DEPTHS",
    "FeatureConfig",
    "FeatureEngine",
    "FeatureError",
    "FeatureHub",
    "MarketFeatures",
    "Ring",
    "count_entropy",
    "temperature",
    "thermal_stats",
]
