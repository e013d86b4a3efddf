"""Exact tension for a handful of geoids (n <= ~8), without the blocked-matrix engine's per-call setup.

Same definition as `kimera.cognition.reference` (E = clip(1 − cos), L = Jaccard distance of semantic key
sets, S = mean symbolic opposition over common keys, T = w_E·E + w_L·L + w_S·S), evaluated pair by pair
on plain Python floats; `tests/strategy` checks it equals `detect_tensions` on every pair.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from operator import mul
from typing import Any, NamedTuple

import numpy as np

from kimera.cognition import Geoid, TensionWeights
from kimera.cognition.geoid import SymbolicValue


class GeoidDraft(NamedTuple):
    """A geoid's content built on the hot path; `to_geoid()` makes the validated `Geoid` (≈15 µs) on demand."""

    geoid_id: str
    semantic_state: Mapping[str, float]
    symbolic_state: Mapping[str, SymbolicValue]
    embedding: tuple[float, ...] | None
    metadata: Mapping[str, Any]

    def to_geoid(self) -> Geoid:
        """The validated cognition `Geoid` with the same content."""
        emb = None if self.embedding is None else np.array(self.embedding, dtype=np.float32)
        return Geoid(self.geoid_id, dict(self.semantic_state), dict(self.symbolic_state), emb, dict(self.metadata))


def f32(values: Sequence[float]) -> tuple[float, ...]:
    """Round to float32 as `Geoid` stores embeddings, so tensions match the engine's exactly (values beyond
    float32's range raise OverflowError)."""
    st = _F32.get(len(values))
    if st is None:
        st = _F32[len(values)] = struct.Struct(f"{len(values)}f")
    return st.unpack(st.pack(*values))


_F32: dict[int, struct.Struct] = {}
_new = tuple.__new__  # builds a NamedTuple from a tuple in C (its generated __new__ is a Python call)


class PairTension(NamedTuple):
    """Tension of drafts i < j with its components."""

    i: int
    j: int
    tension: float
    E: float
    L: float
    S: float


def _opposition(x: SymbolicValue, y: SymbolicValue) -> float:
    """Differing bools 1, opposite-signed non-zero numbers 1, strings differing ignoring case 0.5, else 0."""
    if isinstance(x, bool) or isinstance(y, bool):
        return 1.0 if isinstance(x, bool) and isinstance(y, bool) and x != y else 0.0
    if isinstance(x, str) or isinstance(y, str):
        return 0.5 if isinstance(x, str) and isinstance(y, str) and x.casefold() != y.casefold() else 0.0
    return 1.0 if (x > 0 > y) or (x < 0 < y) else 0.0


def all_pair_tensions(drafts: Sequence[GeoidDraft], weights: TensionWeights) -> list[PairTension]:
    """Every pair i < j (input order) with T, E, L, S; meant for n of a handful (O(n²·d) Python).

    Shortcuts that keep it exact: when every draft has the same semantic key set, L = 0 for all pairs; when
    every draft has the same symbolic keys, the common keys are those keys (no intersections built).
    """
    n = len(drafts)
    if n < 2:
        return []
    embs = [d.embedding for d in drafts]
    norms = [None if e is None else math.hypot(*e) for e in embs]
    keys = [d.semantic_state.keys() for d in drafts]
    syms = [d.symbolic_state for d in drafts]
    k0, y0 = keys[0], syms[0].keys()
    same_sem = keys.count(k0) == n  # list.count compares in C
    same_sym = [y.keys() for y in syms].count(y0) == n
    we, wl, ws = weights.e, weights.l, weights.s
    out: list[PairTension] = []
    for i in range(n):
        ei, ni, ki, si = embs[i], norms[i], keys[i], syms[i]
        for j in range(i + 1, n):
            ej, nj = embs[j], norms[j]
            if ei is None or ej is None or ni is None or nj is None:
                e = 0.0
            elif len(ei) != len(ej):
                raise ValueError(f"embedding dimensions differ: {len(ei)} vs {len(ej)}")
            elif ni == 0.0 or nj == 0.0:
                e = 1.0
            else:
                e = 1.0 - math.fsum(map(mul, ei, ej)) / (ni * nj)
                e = 0.0 if e < 0.0 else (1.0 if e > 1.0 else e)
            if same_sem:
                l_ = 0.0
            else:
                kj = keys[j]
                l_ = 0.0 if ki == kj else 1.0 - len(ki & kj) / len(ki | kj)
            sj = syms[j]
            common = y0 if same_sym else si.keys() & sj.keys()
            s = 0.0
            if common:
                for k in common:
                    x, y = si[k], sj[k]
                    if type(x) is int and type(y) is int:  # the common case: direction labels
                        s += 1.0 if (x > 0 > y) or (x < 0 < y) else 0.0
                    else:
                        s += _opposition(x, y)
                s /= len(common)
            out.append(_new(PairTension, (i, j, we * e + wl * l_ + ws * s, e, l_, s)))
    return out
