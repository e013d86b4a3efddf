"""Pure-Python brute-force tension: the readable definition the fast engines are tested against."""

from __future__ import annotations

import math
from collections.abc import Sequence

from kimera.cognition.geoid import Geoid, GeoidError, SymbolicValue
from kimera.cognition.result import TensionGradient
from kimera.cognition.weights import TensionWeights


def embedding_distance(a: list[float] | None, b: list[float] | None) -> float:
    """E = clip(1 − cos, 0, 1); 0 if either is missing, 1 if either has zero norm (sums exact via fsum)."""
    if a is None or b is None:
        return 0.0
    if len(a) != len(b):
        raise GeoidError(f"embedding dimensions differ: {len(a)} vs {len(b)}")
    na = math.sqrt(math.fsum(x * x for x in a))
    nb = math.sqrt(math.fsum(y * y for y in b))
    if na == 0.0 or nb == 0.0:
        return 1.0
    cos = math.fsum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)
    return min(1.0, max(0.0, 1.0 - cos))


def key_distance(a: set[str], b: set[str]) -> float:
    """L = Jaccard distance of two key sets; 0 if both are empty."""
    union = len(a | b)
    return 0.0 if union == 0 else 1.0 - len(a & b) / union


def opposition(x: SymbolicValue, y: SymbolicValue) -> float:
    """Opposition of two values: differing bools 1, opposite-signed numbers 1, different strings 0.5, else 0."""
    if isinstance(x, bool) or isinstance(y, bool):
        return 1.0 if isinstance(x, bool) and isinstance(y, bool) and x != y else 0.0
    if isinstance(x, str) or isinstance(y, str):
        return 0.5 if isinstance(x, str) and isinstance(y, str) and x.casefold() != y.casefold() else 0.0
    return 1.0 if (x > 0 > y) or (x < 0 < y) else 0.0


def symbolic_opposition(a: dict[str, SymbolicValue], b: dict[str, SymbolicValue]) -> float:
    """S = mean opposition over the keys both states have; 0 if they share none."""
    common = a.keys() & b.keys()
    if not common:
        return 0.0
    return sum(opposition(a[k], b[k]) for k in common) / len(common)


def tension(a: Geoid, b: Geoid, weights: TensionWeights | None = None) -> TensionGradient:
    """The tension of one pair with its components."""
    w = weights or TensionWeights()
    ea = None if a.embedding is None else a.embedding.tolist()
    eb = None if b.embedding is None else b.embedding.tolist()
    e = embedding_distance(ea, eb)
    l_ = key_distance(set(a.semantic_state), set(b.semantic_state))
    s = symbolic_opposition(a.symbolic_state, b.symbolic_state)
    return TensionGradient(a.geoid_id, b.geoid_id, w.combine(e, l_, s), e, l_, s)


def detect_tensions_reference(
    geoids: Sequence[Geoid], threshold: float = 0.4, weights: TensionWeights | None = None
) -> list[TensionGradient]:
    """Every pair i < j with T >= threshold, by brute force over all pairs (O(n²·d) in Python)."""
    w = weights or TensionWeights()
    embs = [None if g.embedding is None else g.embedding.tolist() for g in geoids]
    keys = [set(g.semantic_state) for g in geoids]
    out: list[TensionGradient] = []
    n = len(geoids)
    for i in range(n):
        gi = geoids[i]
        for j in range(i + 1, n):
            gj = geoids[j]
            e = embedding_distance(embs[i], embs[j])
            l_ = key_distance(keys[i], keys[j])
            s = symbolic_opposition(gi.symbolic_state, gj.symbolic_state)
            t = w.combine(e, l_, s)
            if t >= threshold:
                out.append(TensionGradient(gi.geoid_id, gj.geoid_id, t, e, l_, s))
    return out
