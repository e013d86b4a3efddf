"""Geoids packed into arrays once: embeddings, key-set CSR rows and bitsets, symbolic kinds and codes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

from kimera.cognition import kernels
from kimera.cognition.geoid import Geoid, GeoidError

# Symbolic value kinds (their opposition rules live in `kernels`).
BOOL_TRUE, BOOL_FALSE, NUM_POS, NUM_NEG, NUM_ZERO, STRING = 1, 2, 3, 4, 5, 6

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class KeySets:
    """Keys shared by at least two geoids (the only ones that can overlap), as sorted CSR rows."""

    size: I32  # every key a geoid has, shared or not (for the union)
    ptr: I64
    key: I32
    n_keys: int


@dataclass(frozen=True, slots=True, eq=False)
class SymbolicSets:
    """Shared symbolic keys per geoid as sorted CSR rows, with each value's kind and string code."""

    ptr: I64
    key: I32
    kind: npt.NDArray[np.int8]
    code: I32  # casefolded-string id for STRING, -1 otherwise
    n_keys: int
    pair: I32  # id of a (key, string) that at least two geoids have, -1 otherwise (bitset equality)
    n_pairs: int


@dataclass(frozen=True, slots=True, eq=False)
class PackedGeoids:
    """Everything the engines need about n geoids, built once in O(total keys + n·d)."""

    ids: list[str]
    dim: int
    emb: npt.NDArray[np.float32]  # raw embeddings, zero rows where missing
    has: npt.NDArray[np.bool_]
    norm: npt.NDArray[np.float64]
    unit: npt.NDArray[np.float32]  # unit rows, zero where missing or zero-norm
    sem: KeySets
    sym: SymbolicSets

    @property
    def n(self) -> int:
        """Number of geoids."""
        return len(self.ids)


def _embeddings(geoids: Sequence[Geoid], dim: int | None) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], int]:
    """Stack embeddings (zero rows where missing); every one must have the same dimension."""
    n = len(geoids)
    with_emb = [i for i, g in enumerate(geoids) if g.embedding is not None]
    d = dim
    for i in with_emb:
        gd = geoids[i].dim
        if d is None:
            d = gd
        elif gd != d:
            raise GeoidError(f"geoid {geoids[i].geoid_id!r} (#{i}) has embedding dimension {gd}, expected {d}")
    d = d or 0
    emb = np.zeros((n, d), dtype=np.float32)
    if with_emb:
        emb[with_emb] = np.stack([geoids[i].embedding for i in with_emb])  # type: ignore[misc]
    has = np.zeros(n, dtype=np.bool_)
    has[with_emb] = True
    return emb, has, d


def _key_sets(geoids: Sequence[Geoid]) -> KeySets:
    """Semantic key sets restricted to shared keys, plus every set's full size."""
    counts = Counter(chain.from_iterable(g.semantic_state.keys() for g in geoids))
    vocab = {k: i for i, k in enumerate(k for k, c in counts.items() if c > 1)}
    get = vocab.get
    rows = [[x for x in map(get, g.semantic_state) if x is not None] for g in geoids]
    size = np.fromiter((len(g.semantic_state) for g in geoids), dtype=np.int32, count=len(geoids))
    lens = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    key = np.fromiter(chain.from_iterable(rows), dtype=np.int32, count=int(ptr[-1]))
    kernels.sort_segments(ptr, key, np.zeros(0, np.int8), np.zeros(0, np.int32))
    return KeySets(size, ptr, key, len(vocab))


def _symbolic_sets(geoids: Sequence[Geoid]) -> SymbolicSets:
    """Shared symbolic keys with each value's kind (bool true/false, number sign, string) and string code."""
    counts = Counter(chain.from_iterable(g.symbolic_state.keys() for g in geoids))
    vocab = {k: i for i, k in enumerate(k for k, c in counts.items() if c > 1)}
    strings: dict[str, int] = {}
    keys: list[int] = []
    kinds: list[int] = []
    codes: list[int] = []
    ptr = np.zeros(len(geoids) + 1, dtype=np.int64)
    for r, g in enumerate(geoids):
        for k, v in g.symbolic_state.items():
            kid = vocab.get(k)
            if kid is None:
                continue
            keys.append(kid)
            if isinstance(v, bool):
                kinds.append(BOOL_TRUE if v else BOOL_FALSE)
                codes.append(-1)
            elif isinstance(v, str):
                kinds.append(STRING)
                codes.append(strings.setdefault(v.casefold(), len(strings)))
            else:
                kinds.append(NUM_POS if v > 0 else NUM_NEG if v < 0 else NUM_ZERO)
                codes.append(-1)
        ptr[r + 1] = len(keys)
    key = np.array(keys, dtype=np.int32)
    kind = np.array(kinds, dtype=np.int8)
    code = np.array(codes, dtype=np.int32)
    kernels.sort_segments(ptr, key, kind, code)
    pair = np.full(key.shape[0], -1, dtype=np.int32)
    is_str = code >= 0
    n_pairs = 0
    if is_str.any():
        uniq, inv, cnt = np.unique(key[is_str].astype(np.int64) * len(strings) + code[is_str], return_inverse=True, return_counts=True)
        shared = cnt > 1
        ids = np.where(shared, np.cumsum(shared) - 1, -1).astype(np.int32)
        pair[is_str] = ids[inv]
        n_pairs = int(shared.sum())
    return SymbolicSets(ptr, key, kind, code, len(vocab), pair, n_pairs)


def pack_geoids(geoids: Sequence[Geoid], dim: int | None = None) -> PackedGeoids:
    """Pack geoids for the engines; mixed embedding dimensions (or a mismatch with `dim`) are an error."""
    for i, g in enumerate(geoids):
        if not isinstance(g, Geoid):
            raise GeoidError(f"item #{i} is a {type(g).__name__}, not a Geoid")
    emb, has, d = _embeddings(geoids, dim)
    e64 = emb.astype(np.float64)
    norm = np.sqrt(np.einsum("ij,ij->i", e64, e64))
    ok = norm > 0
    unit = np.zeros_like(emb)
    unit[ok] = (e64[ok] / norm[ok, None]).astype(np.float32)
    return PackedGeoids(
        ids=[g.geoid_id for g in geoids],
        dim=d,
        emb=emb,
        has=has,
        norm=norm,
        unit=unit,
        sem=_key_sets(geoids),
        sym=_symbolic_sets(geoids),
    )
