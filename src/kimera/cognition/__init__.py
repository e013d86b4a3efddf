"""Cognition: geoids, the exact contradiction engine, pulse and decisions, the market encoder and field store.

    from kimera.cognition import Geoid, ContradictionEngine, detect_tensions, pulse, decide, TensionWeights
"""

from kimera.cognition.engine import ContradictionEngine, detect_tensions
from kimera.cognition.geoid import Geoid, GeoidError, semantic_entropy
from kimera.cognition.pack import PackedGeoids, pack_geoids
from kimera.cognition.reference import detect_tensions_reference
from kimera.cognition.result import TensionGradient, TensionPairs
from kimera.cognition.weights import TensionWeights

__all__ = [
    "ContradictionEngine",
    "Geoid",
    "GeoidError",
    "PackedGeoids",
    "TensionGradient",
    "TensionPairs",
    "TensionWeights",
    "detect_tensions",
    "detect_tensions_reference",
    "pack_geoids",
    "semantic_entropy",
]
