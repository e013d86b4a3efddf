"""Cognition: geoids, the exact contradiction engine, pulse and decisions, the market encoder, the field store.

    from kimera.cognition import Geoid, ContradictionEngine, detect_tensions, pulse, decide, TensionWeights

Names load lazily, so `import kimera.cognition` (e.g. by the CLI) does not pull in numba until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager: `kimera.cognition.pulse` names both a module and a function; binding the function after the
# submodule has loaded keeps `from kimera.cognition import pulse` the function.
from kimera.cognition.pulse import Decision, decide, pulse

_EXPORTS = {
    "ContradictionEngine": "kimera.cognition.engine",
    "detect_tensions": "kimera.cognition.engine",
    "Geoid": "kimera.cognition.geoid",
    "GeoidError": "kimera.cognition.geoid",
    "semantic_entropy": "kimera.cognition.geoid",
    "PackedGeoids": "kimera.cognition.pack",
    "pack_geoids": "kimera.cognition.pack",
    "detect_tensions_reference": "kimera.cognition.reference",
    "TensionGradient": "kimera.cognition.result",
    "TensionPairs": "kimera.cognition.result",
    "TensionWeights": "kimera.cognition.weights",
    "MarketFeatures": "kimera.cognition.features",
    "FeatureTracker": "kimera.cognition.features",
    "GeoidEncoder": "kimera.cognition.encoder",
    "FieldStore": "kimera.cognition.field",
    "FieldState": "kimera.cognition.field",
    "Neighbour": "kimera.cognition.field",
}

__all__ = [
    "ContradictionEngine",
    "Decision",
    "FeatureTracker",
    "FieldState",
    "FieldStore",
    "Geoid",
    "GeoidEncoder",
    "GeoidError",
    "MarketFeatures",
    "Neighbour",
    "PackedGeoids",
    "TensionGradient",
    "TensionPairs",
    "TensionWeights",
    "decide",
    "detect_tensions",
    "detect_tensions_reference",
    "pack_geoids",
    "pulse",
    "semantic_entropy",
]

if TYPE_CHECKING:
    from kimera.cognition.encoder import GeoidEncoder
    from kimera.cognition.engine import ContradictionEngine, detect_tensions
    from kimera.cognition.features import FeatureTracker, MarketFeatures
    from kimera.cognition.field import FieldState, FieldStore, Neighbour
    from kimera.cognition.geoid import Geoid, GeoidError, semantic_entropy
    from kimera.cognition.pack import PackedGeoids, pack_geoids
    from kimera.cognition.reference import detect_tensions_reference
    from kimera.cognition.result import TensionGradient, TensionPairs
    from kimera.cognition.weights import TensionWeights


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kimera.cognition' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
