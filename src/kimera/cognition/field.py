"""The field store (the seed's "cognitive field"): a preallocated pool of embedding slots with allocate,
free and reuse, growth by doubling, batched adds, and exact neighbour search (optionally FAISS-assisted).

Neighbour score: 0.7·cos + 0.3 / (1 + |Δf|) with f the resonance frequency; `cos` is over the stored
vectors (0 when either is the zero vector). A float32 pass (BLAS, FAISS or a torch device) proposes
candidates with a proven error margin; every candidate is rescored in float64, so results are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from kimera.cognition.engine import cos_error_bound, cuda_available
from kimera.cognition.field_math import (
    N_FREQ,
    field_properties,
    neighbour_score,
    projection,
    row_dots,
    row_props,
    start_field_properties,
)
from kimera.cognition.field_pool import NumpyPool, Pool, TorchPool

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class FieldState(NamedTuple):
    """One field: its id, slot, strength (‖e‖), resonance frequency and phase."""

    field_id: str
    slot: int
    strength: float
    frequency: float
    phase: float


@dataclass(frozen=True, slots=True, eq=False)
class FieldStates:
    """Many fields' states as columns (what a batch add returns)."""

    ids: list[str]
    slots: I64
    strength: F64
    frequency: F64
    phase: F64

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, k: int) -> FieldState:
        return FieldState(
            self.ids[k],
            int(self.slots[k]),
            float(self.strength[k]),
            float(self.frequency[k]),
            float(self.phase[k]),
        )


class Neighbour(NamedTuple):
    """A field near the query, with its exact score and cosine."""

    field_id: str
    score: float
    cos: float


class FieldStore:
    """A pool of fixed-dimension embedding slots; freed slots are reused, full pools double in place.

    `device=None`: float32 numpy slots; `device="cuda"` (or "auto" with a GPU, or "cpu" to test the same
    code): a torch tensor of `dtype` "float32" or "float16".
    """

    def __init__(
        self, dim: int, capacity: int = 1024, device: str | None = None, dtype: str = "float32"
    ) -> None:
        if dim < 1 or capacity < 1:
            raise ValueError(f"dim and capacity must be >= 1, got {dim}, {capacity}")
        if device == "auto":  # the GPU when present, else numpy on the CPU
            device = "cuda" if cuda_available() else None
        self.dim = dim
        self.pool: Pool = (
            NumpyPool(dim, capacity) if device is None else TorchPool(dim, capacity, device, dtype)
        )
        cap = self.pool.capacity
        self._strength = np.zeros(cap)
        self._freq = np.zeros(cap)
        self._phase = np.zeros(cap)
        self._norm = np.zeros(cap)  # norm of the stored (possibly fp16) vector, for cos
        self._alive = np.zeros(cap, dtype=np.bool_)
        self._ids = np.empty(cap, dtype=object)
        self._slot: dict[str, int] = {}
        self._free: list[int] = []
        self._high = 0  # slots [0, _high) have been used at least once
        self._faiss: Any = None
        self.grows = 0
        self._wt = projection(dim)
        self._k = min(N_FREQ, dim)

    # -- capacity ---------------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """Slots allocated (alive + free + never used)."""
        return self.pool.capacity

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, field_id: object) -> bool:
        return field_id in self._slot

    def _grow(self, need: int) -> None:
        """Double the capacity until `need` slots fit (amortised O(1) per insert)."""
        cap = self.capacity
        new = cap
        while new < need:
            new *= 2
        if new == cap:
            return
        self.pool.grow(new)
        for name in ("_strength", "_freq", "_phase", "_norm", "_alive", "_ids"):
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype) if old.dtype != object else np.empty(new, dtype=object)
            arr[:cap] = old
            setattr(self, name, arr)
        self.grows += 1

    def _allocate(self, n: int) -> I64:
        """n slots: freed ones first (reuse), then never-used ones (growing by doubling if needed)."""
        take = min(n, len(self._free))
        reused = [self._free.pop() for _ in range(take)]
        fresh = n - take
        if self._high + fresh > self.capacity:
            self._grow(self._high + fresh)
        slots = np.fromiter(reused, dtype=np.int64, count=take)
        if fresh:
            slots = np.concatenate([slots, np.arange(self._high, self._high + fresh, dtype=np.int64)])
            self._high += fresh
        return slots

    # -- insert / remove --------------------------------------------------------------------------
    def add(self, field_id: str, embedding: Any) -> FieldState:
        """Insert one field and return its state (a lean path: O(dim) work, no per-insert reallocation)."""
        e = np.ascontiguousarray(embedding, dtype=np.float32)
        if e.shape != (self.dim,):
            raise ValueError(f"expected an embedding of dimension {self.dim}, got shape {e.shape}")
        if field_id in self._slot:
            raise KeyError(f"duplicate field id {field_id!r}; remove it first")
        st, fr, ph = row_props(e, self._wt, self._k)
        if not math.isfinite(st):
            raise ValueError("embedding contains NaN or infinity")
        if self._free:
            slot = self._free.pop()
        else:
            if self._high == self.capacity:
                self._grow(self._high + 1)
            slot = self._high
            self._high += 1
        self.pool.write_one(slot, e)
        self._strength[slot], self._freq[slot], self._phase[slot] = st, fr, ph
        self._norm[slot] = self.pool.norms(np.array([slot]))[0] if self.pool.lossy else st
        self._alive[slot] = True
        self._ids[slot] = field_id
        self._slot[field_id] = slot
        if self._faiss is not None:
            self._faiss_add(np.array([slot], dtype=np.int64))
        return FieldState(field_id, slot, st, fr, ph)

    def add_batch(self, ids: Sequence[str], embeddings: Any) -> FieldStates:
        """Insert many fields at once (one float64 pass that also stores the rows) and return every new
        field's state."""
        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        ids = list(ids)
        n = len(ids)
        if emb.ndim != 2 or emb.shape[1] != self.dim or emb.shape[0] != n:
            raise ValueError(f"expected {n} embeddings of dimension {self.dim}, got shape {emb.shape}")
        slots = self._allocate(n)
        fresh = (
            n > 0 and int(slots[-1]) - int(slots[0]) == n - 1 and (n < 2 or bool((np.diff(slots) == 1).all()))
        )
        host = self.pool.host_array()  # numpy pools: rows are stored during the same pass
        # the states run on the pool threads (nogil) while this thread builds the id map (GIL-bound)
        strength, freq, phase, wait = start_field_properties(emb, host, slots if host is not None else None)
        try:
            first = int(slots[0]) if n else 0
            new = dict(zip(ids, range(first, first + n) if fresh else slots.tolist(), strict=True))
            dup = len(new) != n or bool(self._slot and not self._slot.keys().isdisjoint(new))
        finally:
            wait()
        if dup:
            self._free.extend(slots.tolist())  # give the slots back; the rows written are unreachable
            bad = next((i for i in ids if i in self._slot), None) or "within the batch"
            raise KeyError(f"duplicate field id ({bad!r}); remove it first")
        if not np.isfinite(strength).all():  # Σx² is finite iff every float32 element is
            self._free.extend(slots.tolist())
            raise ValueError("embeddings contain NaN or infinity")
        if host is None:
            self.pool.write(slots, emb)
        at: slice | I64 = slice(first, first + n) if fresh else slots  # fresh: slices, not fancy indexing
        self._strength[at] = strength
        self._freq[at] = freq
        self._phase[at] = phase
        self._norm[at] = self.pool.norms(slots) if self.pool.lossy else strength
        self._alive[at] = True
        self._ids[at] = ids
        if self._slot:
            self._slot.update(new)
        else:
            self._slot = new
        if self._faiss is not None:
            self._faiss_add(slots)
        return FieldStates(ids, slots, strength, freq, phase)

    def remove(self, field_id: str) -> None:
        """Free a field's slot for reuse."""
        slot = self._slot.pop(field_id)
        self._alive[slot] = False
        self._ids[slot] = None
        self._free.append(slot)
        if self._faiss is not None:
            self._faiss.remove_ids(np.array([slot], dtype=np.int64))

    def state(self, field_id: str) -> FieldState:
        """The state of one field."""
        s = self._slot[field_id]
        return FieldState(field_id, s, float(self._strength[s]), float(self._freq[s]), float(self._phase[s]))

    def embedding(self, field_id: str) -> npt.NDArray[np.float32]:
        """The stored vector of a field (float32 copy)."""
        return self.pool.rows(np.array([self._slot[field_id]]))[0]

    # -- neighbours -------------------------------------------------------------------------------
    def neighbours(
        self, field_id: str, threshold: float = 0.5, top_k: int | None = None, method: str = "exact"
    ) -> list[Neighbour]:
        """Fields with score >= threshold (best first, at most top_k), the field itself excluded.

        method 'exact': a float32 scan with a proven margin, rescored in float64; 'faiss': FAISS range
        search over unit vectors proposes every j with cos > (threshold − 0.3)/0.7 − margin, then the same
        rescoring. Both return identical results.
        """
        s = self._slot[field_id]
        q = self.pool.rows(np.array([s]))[0].astype(np.float64)
        return self._search(q, float(self._norm[s]), float(self._freq[s]), s, threshold, top_k, method)

    def search(
        self, vector: Any, threshold: float = 0.5, top_k: int | None = None, method: str = "exact"
    ) -> list[Neighbour]:
        """Fields near an arbitrary vector (its frequency computed as for a field)."""
        v = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if v.shape[1] != self.dim or not np.isfinite(v).all():
            raise ValueError(f"query must be a finite vector of dimension {self.dim}")
        strength, freq, _ = field_properties(v)
        return self._search(
            v[0].astype(np.float64), float(strength[0]), float(freq[0]), -1, threshold, top_k, method
        )

    def _search(
        self, q: F64, qnorm: float, qfreq: float, self_slot: int, thr: float, top_k: int | None, method: str
    ) -> list[Neighbour]:
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        margin = 0.7 * (cos_error_bound(self.dim, tf32=self.pool.tf32) + self.pool.extra_error) + 1e-12
        if method == "faiss":
            cand = self._faiss_candidates(q, qnorm, thr, margin)
        elif method == "exact":
            cand = self._scan_candidates(q, qnorm, qfreq, thr, margin)
        else:
            raise ValueError(f"method must be 'exact' or 'faiss', got {method!r}")
        cand = cand[(cand != self_slot) & self._alive[cand]]
        rows = np.ascontiguousarray(self.pool.rows(cand), dtype=np.float32)
        denom = self._norm[cand] * qnorm
        cos = np.where(denom > 0, row_dots(rows, q) / np.where(denom > 0, denom, 1.0), 0.0)
        score = neighbour_score(cos, self._freq[cand] - qfreq)
        keep = score >= thr
        cand, score, cos = cand[keep], score[keep], cos[keep]
        order = np.lexsort((cand, -score))  # best first; ties by slot
        if top_k is not None:
            order = order[:top_k]
        ids = self._ids
        return [
            Neighbour(ids[c], float(sc), float(cs))
            for c, sc, cs in zip(cand[order], score[order], cos[order], strict=True)
        ]

    def _scan_candidates(self, q: F64, qnorm: float, qfreq: float, thr: float, margin: float) -> I64:
        """Every used slot whose float32 score is within the error margin of the threshold."""
        hi = self._high
        if hi == 0:
            return np.zeros(0, dtype=np.int64)
        dots = self.pool.dots(q.astype(np.float32), hi)
        norms = self._norm[:hi]
        denom = norms * qnorm
        cos = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 0.0)
        score = neighbour_score(cos, self._freq[:hi] - qfreq)
        return np.flatnonzero(score >= thr - margin).astype(np.int64)

    # -- FAISS ------------------------------------------------------------------------------------
    def _unit_rows(self, slots: I64) -> npt.NDArray[np.float32]:
        rows = self.pool.rows(slots).astype(np.float64)
        n = self._norm[slots]
        return (rows / np.where(n > 0, n, 1.0)[:, None]).astype(np.float32)

    def _faiss_add(self, slots: I64) -> None:
        self._faiss.add_with_ids(self._unit_rows(slots), slots)

    def _faiss_candidates(self, q: F64, qnorm: float, thr: float, margin: float) -> I64:
        """FAISS range search: score >= thr needs 0.7·cos >= thr − 0.3 (as 0.3/(1+|Δf|) <= 0.3)."""
        radius = (thr - 0.3) / 0.7 - margin / 0.7
        if qnorm == 0.0 or radius <= -1.0:  # cos is 0 for a zero query; or no pruning possible
            return np.flatnonzero(self._alive).astype(np.int64)
        if self._faiss is None:
            import faiss

            self._faiss = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            alive = np.flatnonzero(self._alive).astype(np.int64)
            if alive.size:
                self._faiss_add(alive)
        qu = (q / qnorm).astype(np.float32)[None, :]
        _, _, found = self._faiss.range_search(qu, float(radius))
        cand = found.astype(np.int64)
        if radius < 0.0:  # zero vectors have cos 0 > radius but FAISS sees inner product 0 too: keep them
            cand = np.union1d(cand, np.flatnonzero(self._alive & (self._norm == 0)))
        return cand
