"""Hypothesis strategies: geoid sets mixing missing/zero/parallel embeddings, shared and disjoint keys,
and bool, number and string symbolic values (case variants included)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from kimera.cognition import Geoid

SEM_KEYS = ["a", "b", "c", "d", "e", "f"]
SYM_KEYS = ["p", "q", "r", "s"]
STRINGS = ["up", "UP", "Up", "down", "ß", "SS", "ss", ""]

sym_value = st.one_of(
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, -0.0, 1.5, -2.25, 1e-300, -1e300]),
    st.sampled_from(STRINGS),
)


@st.composite
def embedding(draw: Any, dim: int) -> Any:
    kind = draw(st.sampled_from(["none", "zero", "small", "float", "basis"]))
    if kind == "none":
        return None
    if kind == "zero":
        return np.zeros(dim, dtype=np.float32)
    if kind == "small":  # small integers: parallel, antiparallel and orthogonal vectors are common
        return np.array(draw(st.lists(st.integers(-2, 2), min_size=dim, max_size=dim)), dtype=np.float32)
    if kind == "basis":
        v = np.zeros(dim, dtype=np.float32)
        v[draw(st.integers(0, dim - 1))] = draw(st.sampled_from([1.0, -1.0, 3.0]))
        return v
    vals = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32), min_size=dim, max_size=dim))
    return np.array(vals, dtype=np.float32)


@st.composite
def geoid(draw: Any, i: int, dim: int) -> Geoid:
    sem_keys = draw(st.lists(st.sampled_from(SEM_KEYS), unique=True, max_size=5))
    if draw(st.booleans()):
        sem_keys.append(f"own{i}")  # a key no other geoid has
    sem = {k: draw(st.sampled_from([0.0, 0.5, 1.0, 7.0])) for k in sem_keys}
    sym = draw(st.dictionaries(st.sampled_from(SYM_KEYS), sym_value, max_size=4))
    if draw(st.booleans()):
        sym[f"mine{i}"] = True
    return Geoid(f"g{i}", sem, sym, draw(embedding(dim)))


@st.composite
def geoid_sets(draw: Any, max_n: int = 24) -> list[Geoid]:
    n = draw(st.integers(0, max_n))
    dim = draw(st.integers(1, 6))
    base = [draw(geoid(i, dim)) for i in range(n)]
    if n >= 2 and draw(st.booleans()):  # exact duplicates of another geoid's content
        src = base[draw(st.integers(0, n - 1))]
        k = draw(st.integers(0, n - 1))
        base[k] = Geoid(f"g{k}", src.semantic_state, src.symbolic_state, src.embedding)
    return base
