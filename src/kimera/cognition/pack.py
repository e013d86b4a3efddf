"""Geoids packed into arrays once: embeddings, key-set CSR rows and bitsets, symbolic kinds and codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, is_not, itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from kimera.cognition import kernels, vocab
from kimera.cognition.geoid import Geoid, GeoidError, key_ids
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


_ID = attrgetter("geoid_id")
_EMB = attrgetter("embedding")
_KEYS = attrgetter("packed_keys")


def _embeddings(
    geoids: Sequence[Geoid], dim: int | None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], int]:
    """Stack embeddings (zero rows where missing); every one must have the same dimension."""
    embs = list(map(_EMB, geoids))
    n = len(embs)
    has = np.fromiter(map(is_not, embs, repeat(None)), dtype=np.bool_, count=n)
    present = embs if has.all() else [e for e in embs if e is not None]
    if not present:
        return np.zeros((n, dim or 0), dtype=np.float32), has, dim or 0
    dims = np.fromiter(map(len, present), dtype=np.int64, count=len(present))
    d = int(dims[0])
    if (dim is not None and d != dim) or (dims != d).any():
        _dimension_error(geoids, embs, dim)
    if len(present) == n:  # one copy: the validated float32 vectors end to end
        return np.concatenate(present).reshape(n, d), has, d
    emb = np.zeros((n, d), dtype=np.float32)
    emb[has] = np.concatenate(present).reshape(-1, d)
    return emb, has, d


def _dimension_error(geoids: Sequence[Geoid], embs: list[Any], dim: int | None) -> None:
    """Name the first geoid whose embedding dimension differs from `dim` (or from the first one's)."""
    want = dim if dim is not None else next(e.shape[0] for e in embs if e is not None)
    i, bad = next((i, e.shape[0]) for i, e in enumerate(embs) if e is not None and e.shape[0] != want)
    raise GeoidError(f"geoid {geoids[i].geoid_id!r} (#{i}) has embedding dimension {bad}, expected {want}")


def _key_arrays(geoids: Sequence[Geoid]) -> tuple[I64, I32, I64, I32]:
    """Every geoid's cached key ids, concatenated: (semantic lengths, semantic ids, symbolic lengths,
    symbolic rows (key, kind, string)); geoids interned in an older vocabulary generation are redone."""
    voc = vocab.current()
    cached = list(map(_KEYS, geoids))
    gen = voc.gen
    if set(map(itemgetter(0), cached)) - {gen}:
        cached = [c if c[0] == gen else key_ids(g, voc) for g, c in zip(geoids, cached, strict=True)]
    n = len(cached)
    sems = list(map(itemgetter(1), cached))
    syms = list(map(itemgetter(2), cached))
    ns = np.fromiter(map(len, sems), dtype=np.int64, count=n)
    ny = np.fromiter(map(len, syms), dtype=np.int64, count=n)
    sem = np.concatenate(sems) if n else np.zeros(0, np.int32)
    sym = np.concatenate(syms) if n else np.zeros((0, 3), np.int32)
    return ns, sem, ny, sym


def _rows(n: int, lens: I64, ids: I32) -> tuple[I32, npt.NDArray[np.bool_], I64, int]:
    """Keep only entries whose id occurs in two rows or more (each row's ids are distinct): the kept
    entries renumbered densely, in the same order (a monotone map keeps rows sorted), with row pointers."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    if ids.size == 0:
        return ids, np.zeros(0, dtype=np.bool_), ptr, 0
    top = int(ids.max()) + 1
    if top <= 4 * ids.size + 1024:
        shared = np.bincount(ids, minlength=top) > 1
        remap = np.cumsum(shared, dtype=np.int32) - 1
        keep = shared[ids]
        new = remap[ids[keep]]
        n_keys = int(remap[-1]) + 1
    else:  # a sparse slice of a large vocabulary
        _, inv, cnt = np.unique(ids, return_inverse=True, return_counts=True)
        shared = cnt > 1
        keep = shared[inv]
        new = (np.cumsum(shared, dtype=np.int32) - 1)[inv[keep]]
        n_keys = int(shared.sum())
    row = np.repeat(np.arange(n), lens)
    np.cumsum(np.bincount(row[keep], minlength=n), out=ptr[1:])
    return new.astype(np.int32, copy=False), keep, ptr, n_keys


def _key_sets(n: int, ns: I64, sem: I32) -> KeySets:
    """Semantic key sets restricted to shared keys, plus every set's full size."""
    key, _, ptr, n_keys = _rows(n, ns, sem)
    return KeySets(ns.astype(np.int32), ptr, key, n_keys)


def _symbolic_sets(n: int, ny: I64, sym: I32) -> SymbolicSets:
    """Shared symbolic keys with each value's kind (bool true/false, number sign, string) and string code."""
    key, keep, ptr, n_keys = _rows(n, ny, np.ascontiguousarray(sym[:, 0]))
    kept = sym[keep]
    kind = kept[:, 1].astype(np.int8)
    code = np.ascontiguousarray(kept[:, 2])
    pair = np.full(key.shape[0], -1, dtype=np.int32)
    is_str = code >= 0
    n_pairs = 0
    if is_str.any():
        pid = key[is_str].astype(np.int64) * (int(code.max()) + 1) + code[is_str]
        _, inv, cnt = np.unique(pid, return_inverse=True, return_counts=True)
        shared = cnt > 1
        pair[is_str] = np.where(shared, np.cumsum(shared) - 1, -1)[inv.reshape(-1)]
        n_pairs = int(shared.sum())
    return SymbolicSets(ptr, key, kind, code, n_keys, pair, n_pairs)


def pack_geoids(geoids: Sequence[Geoid], dim: int | None = None) -> PackedGeoids:
    """Pack geoids for the engines; mixed embedding dimensions (or a mismatch with `dim`) are an error."""
    if not all(map(isinstance, geoids, repeat(Geoid))):
        i, g = next((i, g) for i, g in enumerate(geoids) if not isinstance(g, Geoid))
        raise GeoidError(f"item #{i} is a {type(g).__name__}, not a Geoid")
    ids = list(map(_ID, geoids))
    ns, sem, ny, sym = _key_arrays(geoids)
    emb, has, d = _embeddings(geoids, dim)
    norm = np.empty(emb.shape[0], dtype=np.float64)
    unit = np.empty_like(emb)
    run_chunks(kernels.unit_rows, emb.shape[0], emb, norm, unit, min_chunk=2048)
    n = len(ids)
    return PackedGeoids(
        ids=ids,
        dim=d,
        emb=emb,
        has=has,
        norm=norm,
        unit=unit,
        sem=_key_sets(n, ns, sem),
        sym=_symbolic_sets(n, ny, sym),
    )
