"""The geoid: one unit of meaning (semantic weights, symbolic facts, an embedding), validated on creation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import numpy.typing as npt

from kimera.cognition import vocab

SymbolicValue = bool | int | float | str
FloatVector = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]

# Kinds of symbolic values; their opposition rules live in `reference.opposition` and the kernels.
BOOL_TRUE, BOOL_FALSE, NUM_POS, NUM_NEG, NUM_ZERO, STRING = 1, 2, 3, 4, 5, 6


class GeoidError(ValueError):
    """A geoid (or a set of geoids) that breaks the spec: NaN, negative weight, mixed dimensions, bad type."""


def _semantic(gid: str, state: Mapping[str, Any]) -> dict[str, float]:
    """Validate semantic weights: string keys, finite non-negative numbers (bools refused)."""
    if not isinstance(state, Mapping):
        raise GeoidError(f"geoid {gid!r}: semantic_state must be a mapping, got {type(state).__name__}")
    out: dict[str, float] = {}
    for k, v in state.items():
        if not isinstance(k, str):
            raise GeoidError(f"geoid {gid!r}: semantic key {k!r} is not a string")
        if isinstance(v, bool | np.bool_) or not isinstance(v, Real):
            raise GeoidError(f"geoid {gid!r}: semantic_state[{k!r}] = {v!r} is not a number")
        x = float(v)
        if not math.isfinite(x):
            raise GeoidError(f"geoid {gid!r}: semantic_state[{k!r}] = {x} is not finite")
        if x < 0:
            raise GeoidError(f"geoid {gid!r}: semantic_state[{k!r}] = {x} is negative (weights must be >= 0)")
        out[k] = x
    return out


def _symbolic_value(gid: str, k: str, v: Any) -> SymbolicValue:
    """One symbolic value as a plain Python bool, int, float or str (numpy scalars converted)."""
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, Integral):
        return int(v)
    if isinstance(v, Real):
        x = float(v)
        if math.isnan(x):
            raise GeoidError(f"geoid {gid!r}: symbolic_state[{k!r}] is NaN")
        return x
    if isinstance(v, str):
        return v
    raise GeoidError(f"geoid {gid!r}: symbolic_state[{k!r}] = {v!r} must be a bool, number or string")


def _symbolic(gid: str, state: Mapping[str, Any]) -> dict[str, SymbolicValue]:
    """Validate symbolic facts: string keys; bool, int, float (not NaN) or str values."""
    if not isinstance(state, Mapping):
        raise GeoidError(f"geoid {gid!r}: symbolic_state must be a mapping, got {type(state).__name__}")
    out: dict[str, SymbolicValue] = {}
    for k, v in state.items():
        if not isinstance(k, str):
            raise GeoidError(f"geoid {gid!r}: symbolic key {k!r} is not a string")
        out[k] = _symbolic_value(gid, k, v)
    return out


def _embedding(gid: str, emb: Any) -> FloatVector | None:
    """Validate an embedding: None, or a non-empty 1-D vector of finite numbers, stored as read-only float32."""
    if emb is None:
        return None
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf is reported just below
            arr = np.array(emb, dtype=np.float32, copy=True)
    except (TypeError, ValueError) as exc:
        raise GeoidError(f"geoid {gid!r}: embedding is not a vector of numbers ({exc})") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise GeoidError(f"geoid {gid!r}: embedding must be a non-empty 1-D vector, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise GeoidError(f"geoid {gid!r}: embedding contains NaN or infinity (or overflows float32)")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class Geoid:
    """A validated geoid; `embedding` is a read-only float32 vector (or None) of the engine's dimension."""

    geoid_id: str
    semantic_state: dict[str, float] = field(default_factory=dict)
    symbolic_state: dict[str, SymbolicValue] = field(default_factory=dict)
    embedding: npt.NDArray[Any] | None = None  # any vector-like in; a read-only float32 vector after init
    metadata: dict[str, Any] = field(default_factory=dict)
    # (vocabulary generation, semantic key ids sorted, symbolic rows (key id, kind, string id or -1)
    # sorted by key id): what packing needs, computed once (see `key_ids`)
    packed_keys: tuple[int, I32, I32] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        gid = self.geoid_id
        if not isinstance(gid, str) or not gid:
            raise GeoidError(f"geoid_id must be a non-empty string, got {gid!r}")
        if not isinstance(self.metadata, Mapping):
            raise GeoidError(f"geoid {gid!r}: metadata must be a mapping")
        object.__setattr__(self, "semantic_state", _semantic(gid, self.semantic_state))
        object.__setattr__(self, "symbolic_state", _symbolic(gid, self.symbolic_state))
        object.__setattr__(self, "embedding", _embedding(gid, self.embedding))
        object.__setattr__(self, "metadata", dict(self.metadata))
        object.__setattr__(self, "packed_keys", key_ids(self, vocab.current()))

    @property
    def dim(self) -> int | None:
        """The embedding's dimension, None without one."""
        return None if self.embedding is None else int(self.embedding.shape[0])

    @property
    def entropy(self) -> float:
        """Shannon entropy in bits of the semantic weights taken as a probability vector (0 if empty or all 0)."""
        return semantic_entropy(self.semantic_state.values())


def key_ids(g: Geoid, voc: vocab.Vocab) -> tuple[int, I32, I32]:
    """A geoid's keys as ids of `voc`: semantic key ids (sorted) and symbolic rows (key id, kind, id of
    the casefolded string or -1), sorted by key id."""
    sem = vocab.intern(voc, voc.keys, list(g.semantic_state))
    sem.sort()
    sym = g.symbolic_state
    rows = np.empty((len(sym), 3), dtype=np.int32)
    if sym:
        vals = list(sym.values())
        rows[:, 0] = vocab.intern(voc, voc.keys, list(sym))
        rows[:, 1] = np.fromiter(map(symbolic_kind, vals), dtype=np.int32, count=len(vals))
        strs = [v.casefold() for v in vals if isinstance(v, str)]
        rows[:, 2] = -1
        if strs:
            rows[rows[:, 1] == STRING, 2] = vocab.intern(voc, voc.strings, strs)
        rows = rows[np.argsort(rows[:, 0], kind="stable")]
    sem.setflags(write=False)
    rows.setflags(write=False)
    return voc.gen, sem, rows


def symbolic_kind(v: SymbolicValue) -> int:
    """The kind of a symbolic value: bool true/false, positive/negative/zero number, or string."""
    if isinstance(v, bool):
        return BOOL_TRUE if v else BOOL_FALSE
    if isinstance(v, str):
        return STRING
    return NUM_POS if v > 0 else NUM_NEG if v < 0 else NUM_ZERO


def semantic_entropy(weights: Any) -> float:
    """Entropy in bits of non-negative weights after normalising; negative weights are an error."""
    w = np.asarray(list(weights), dtype=np.float64)
    if w.size == 0:
        return 0.0
    if not np.isfinite(w).all() or (w < 0).any():
        raise GeoidError("entropy needs finite non-negative weights")
    total = float(w.sum())
    if total == 0.0:
        return 0.0
    p = w[w > 0] / total
    return float(-(p * np.log2(p)).sum()) + 0.0
