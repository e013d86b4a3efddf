"""Exact tension for a handful of geoids (n <= ~8), without the blocked-matrix engine's per-call setup.

Same definition as `kimera.cognition.reference` (E = clip(1 − cos), L = Jaccard distance of semantic key
sets, S = mean symbolic opposition over common keys, T = w_E·E + w_L·L + w_S·S), evaluated pair by pair;
`tests/strategy` checks it equals `detect_tensions` on every pair (within 1e-9).

E comes from one compiled kernel (`pair_distances`) that every tiny-n path shares, the ensemble's hot path
included, so they agree bit for bit: norms and dot products summed in float64 in coordinate order.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numba import njit

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


@njit(cache=True, nogil=True)
def _norm(v):  # type: ignore[no-untyped-def]
    """Euclidean norm of a row, squares summed in float64 in order (float32 rows are widened exactly)."""
    acc = 0.0
    for k in range(v.shape[0]):
        x = np.float64(v[k])
        acc += x * x
    return math.sqrt(acc)


@njit(cache=True, nogil=True)
def _distance(a, b, na, nb):  # type: ignore[no-untyped-def]
    """E = clip(1 − a·b / (|a|·|b|), 0, 1); 1 when either norm is 0."""
    if na == 0.0 or nb == 0.0:
        return 1.0
    dot = 0.0
    for k in range(a.shape[0]):
        dot += np.float64(a[k]) * np.float64(b[k])
    e = 1.0 - dot / (na * nb)
    return 0.0 if e < 0.0 else (1.0 if e > 1.0 else e)


@njit(cache=True, nogil=True)
def pair_distances(emb):  # type: ignore[no-untyped-def]
    """E of every row pair i < j of an (n, d) float32 or float64 array, in pair order (0-1, 0-2, …, 1-2, …)."""
    n = emb.shape[0]
    norms = np.empty(n)
    for i in range(n):
        norms[i] = _norm(emb[i])
    out = np.empty(n * (n - 1) // 2)
    p = 0
    for i in range(n):
        for j in range(i + 1, n):
            out[p] = _distance(emb[i], emb[j], norms[i], norms[j])
            p += 1
    return out


@njit(cache=True, nogil=True)
def member_summary(emb, we, wl, ws, thr, amp):  # type: ignore[no-untyped-def]
    """(pairs at or above `thr`, T of the pair with the largest T·amp) of member geoids (rows of `emb`), whose
    direction is the sign of their first coordinate (d·c, with c > 0 whenever d ≠ 0): S = 1 for opposite
    directions; T = we·E + wl·0 + ws·S as `member_pair_tensions` computes it."""
    n = emb.shape[0]
    norms = np.empty(n)
    for i in range(n):
        norms[i] = _norm(emb[i])
    n_tense = 0
    best_t = 0.0
    best_raw = -1.0
    for i in range(n):
        di = emb[i, 0]
        for j in range(i + 1, n):
            dj = emb[j, 0]
            s = 1.0 if (di > 0 > dj) or (di < 0 < dj) else 0.0
            t = we * _distance(emb[i], emb[j], norms[i], norms[j]) + wl * 0.0 + ws * s
            if t >= thr:
                n_tense += 1
            raw = t * amp
            if raw > best_raw:
                best_t = t
                best_raw = raw
    return n_tense, best_t


def embedding_distances(embs: Sequence[tuple[float, ...] | None]) -> list[float | None]:
    """E of every pair i < j (None where either embedding is missing, the caller's E = 0); raises ValueError
    at the first pair whose dimensions differ (pair order)."""
    n = len(embs)
    dims = {len(e) for e in embs if e is not None}
    if len(dims) == 1 and all(e is not None for e in embs):
        return pair_distances(np.array(embs, dtype=np.float64)).tolist()  # type: ignore[no-any-return]
    out: list[float | None] = []
    for i in range(n):
        ei = embs[i]
        for j in range(i + 1, n):
            ej = embs[j]
            if ei is None or ej is None:
                out.append(None)
            elif len(ei) != len(ej):
                raise ValueError(f"embedding dimensions differ: {len(ei)} vs {len(ej)}")
            else:
                out.append(float(pair_distances(np.array((ei, ej), dtype=np.float64))[0]))
    return out


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
    es = embedding_distances([d.embedding for d in drafts])
    keys = [d.semantic_state.keys() for d in drafts]
    syms = [d.symbolic_state for d in drafts]
    k0, y0 = keys[0], syms[0].keys()
    same_sem = keys.count(k0) == n  # list.count compares in C
    same_sym = [y.keys() for y in syms].count(y0) == n
    we, wl, ws = weights.e, weights.l, weights.s
    out: list[PairTension] = []
    p = 0
    for i in range(n):
        ki, si = keys[i], syms[i]
        for j in range(i + 1, n):
            e = es[p]
            if e is None:
                e = 0.0
            p += 1
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
