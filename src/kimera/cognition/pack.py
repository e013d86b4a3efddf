"""Geoids packed into arrays once: embeddings, key-set CSR rows and bitsets, symbolic kinds and codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
import numpy.typing as npt

from kimera.cognition import kernels
from kimera.cognition.geoid import Geoid, GeoidError
from kimera.cognition.parallel import run_chunks

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


def _embeddings(
    geoids: Sequence[Geoid], dim: int | None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], int]:
    """Stack embeddings (zero rows where missing); every one must have the same dimension."""
    embs = [g.embedding for g in geoids]
    has = np.fromiter((e is not None for e in embs), dtype=np.bool_, count=len(embs))
    dims = {e.shape[0] for e in embs if e is not None}
    if dim is not None:
        dims.add(dim)
    if len(dims) > 1:
        want = dim if dim is not None else next(e.shape[0] for e in embs if e is not None)
        i, bad = next((i, e.shape[0]) for i, e in enumerate(embs) if e is not None and e.shape[0] != want)
        raise GeoidError(
            f"geoid {geoids[i].geoid_id!r} (#{i}) has embedding dimension {bad}, expected {want}"
        )
    d = dims.pop() if dims else 0
    emb = np.zeros((len(embs), d), dtype=np.float32)
    for i, e in enumerate(embs):
        if e is not None:
            emb[i] = e
    return emb, has, d


def _ids(items: Iterable[str], vocab: dict[str, int]) -> I64:
    """Integer ids of strings, numbering new ones in order of first appearance (C-level loops)."""
    items = list(items)
    for k in dict.fromkeys(items):
        vocab.setdefault(k, len(vocab))
    return np.fromiter(map(vocab.__getitem__, items), dtype=np.int64, count=len(items))


def _rows(n: int, lens: I64, ids: I64) -> tuple[I64, npt.NDArray[np.bool_], I64]:
    """Keep only entries whose id occurs in two rows or more: (new ids or −1, kept mask, new row pointers)."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    if ids.size == 0:
        return ids, np.zeros(0, dtype=np.bool_), ptr
    counts = np.bincount(ids)
    shared = counts > 1
    remap = np.where(shared, np.cumsum(shared) - 1, -1)
    new = remap[ids]
    keep = new >= 0
    row = np.repeat(np.arange(n), lens)
    np.cumsum(np.bincount(row[keep], minlength=n), out=ptr[1:])
    return new, keep, ptr


def _key_sets(geoids: Sequence[Geoid]) -> KeySets:
    """Semantic key sets restricted to shared keys, plus every set's full size."""
    n = len(geoids)
    ids = _ids(chain.from_iterable(g.semantic_state for g in geoids), {})
    lens = np.fromiter((len(g.semantic_state) for g in geoids), dtype=np.int64, count=n)
    new, keep, ptr = _rows(n, lens, ids)
    key = new[keep].astype(np.int32)
    kernels.sort_segments(ptr, key, np.zeros(0, np.int8), np.zeros(0, np.int32))
    n_keys = int(new.max()) + 1 if new.size and keep.any() else 0
    return KeySets(lens.astype(np.int32), ptr, key, n_keys)


def _symbolic_sets(geoids: Sequence[Geoid]) -> SymbolicSets:
    """Shared symbolic keys with each value's kind (bool true/false, number sign, string) and string code."""
    n = len(geoids)
    ids = _ids(chain.from_iterable(g.symbolic_state for g in geoids), {})
    lens = np.fromiter((len(g.symbolic_state) for g in geoids), dtype=np.int64, count=n)
    kinds = np.fromiter(chain.from_iterable(g.symbolic_kinds for g in geoids), dtype=np.int8, count=ids.size)
    folded = list(chain.from_iterable(g.symbolic_folded for g in geoids))
    strings = {x: i for i, x in enumerate(dict.fromkeys(x for x in folded if x is not None))}
    codes = np.fromiter(map(strings.get, folded, repeat(-1)), dtype=np.int32, count=ids.size)  # type: ignore[arg-type]
    new, keep, ptr = _rows(n, lens, ids)
    key, kind, code = new[keep].astype(np.int32), kinds[keep], codes[keep]
    kernels.sort_segments(ptr, key, kind, code)
    pair = np.full(key.shape[0], -1, dtype=np.int32)
    is_str = code >= 0
    n_pairs = 0
    if is_str.any():
        pid = key[is_str].astype(np.int64) * max(1, len(strings)) + code[is_str]
        _, inv, cnt = np.unique(pid, return_inverse=True, return_counts=True)
        shared = cnt > 1
        pair[is_str] = np.where(shared, np.cumsum(shared) - 1, -1)[inv]
        n_pairs = int(shared.sum())
    n_keys = int(new.max()) + 1 if new.size and keep.any() else 0
    return SymbolicSets(ptr, key, kind, code, n_keys, pair, n_pairs)


def pack_geoids(geoids: Sequence[Geoid], dim: int | None = None) -> PackedGeoids:
    """Pack geoids for the engines; mixed embedding dimensions (or a mismatch with `dim`) are an error."""
    for i, g in enumerate(geoids):
        if not isinstance(g, Geoid):
            raise GeoidError(f"item #{i} is a {type(g).__name__}, not a Geoid")
    emb, has, d = _embeddings(geoids, dim)
    norm = np.empty(emb.shape[0], dtype=np.float64)
    unit = np.empty_like(emb)
    run_chunks(kernels.unit_rows, emb.shape[0], emb, norm, unit, min_chunk=2048)
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
