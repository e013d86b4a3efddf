"""The contradiction engine: every pair above a threshold, exactly, by blocked matrix products.

Per tile of the upper triangle a float32 GEMM of unit embeddings gives cos; L and S are exact integer
ratios (popcounts of key bitsets); pairs whose tension could reach the threshold given the float32 error
bound on cos become candidates, and every candidate is decided and reported in float64.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from kimera.cognition import kernels
from kimera.cognition.geoid import Geoid, GeoidError
from kimera.cognition.pack import PackedGeoids, pack_geoids
from kimera.cognition.parallel import run_chunks
from kimera.cognition.reference import tension as reference_tension
from kimera.cognition.result import TensionGradient, TensionPairs
from kimera.cognition.weights import TensionWeights

Backend = Literal["auto", "numpy", "torch"]
_BITSET_BUDGET = 256 << 20  # bytes of key bitsets before falling back to merging sorted rows
_SUM_SLACK = 1e-12  # rounding of the float64 weighted sum in the screen


def cos_error_bound(dim: int, tf32: bool = False) -> float:
    """A safe bound on |cos_float32 − cos_exact| for unit vectors: twice γ_d plus the rounding to float32
    (and the 10-bit TF32 inputs a GPU may use)."""
    bound = (dim + 8) * 2.0**-23
    return bound + (2.0**-9 if tf32 else 0.0)


def validate_threshold(threshold: float) -> float:
    """A threshold must be a number in [0, 1]."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return float(threshold)


def key_data(p: PackedGeoids, max_words: int) -> tuple[int, tuple[Any, ...]]:
    """The key representation for the kernels: bitsets when the shared vocabularies are small, else rows."""
    ws = max(1, math.ceil(p.sem.n_keys / 64))
    wy = max(1, math.ceil(p.sym.n_keys / 64))
    wq = max(1, math.ceil(p.sym.n_pairs / 64))
    s, y = p.sem, p.sym
    if max(ws, wy, wq) <= max_words and p.n * (ws + 6 * wy + wq) * 8 <= _BITSET_BUDGET:
        mode = kernels.BITS
        bits = kernels.build_bits(s.ptr, s.key, ws, y.ptr, y.key, y.kind, y.pair, wy, wq)
    else:
        mode = kernels.MERGE
        bits = np.zeros((0, 1), np.uint64)
    return mode, (s.size, bits, ws, wy, wq, s.ptr, s.key, y.ptr, y.key, y.kind, y.code)


class ContradictionEngine:
    """Finds every pair of geoids in tension (T >= threshold), exactly, on CPU (numba/BLAS) or a torch device."""

    def __init__(
        self,
        weights: TensionWeights | None = None,
        *,
        dim: int | None = None,
        backend: Backend = "auto",
        device: str | None = None,
        block_size: int = 2048,
        max_bitset_words: int = 16,
        dense_fraction: float = 0.5,
    ) -> None:
        if block_size < 1:
            raise ValueError(f"block_size must be >= 1, got {block_size}")
        if backend not in ("auto", "numpy", "torch"):
            raise ValueError(f"backend must be 'auto', 'numpy' or 'torch', got {backend!r}")
        self.weights = weights or TensionWeights()
        self.dim = dim
        self.block_size = block_size
        self.max_bitset_words = max_bitset_words
        self.dense_fraction = dense_fraction
        self.backend, self.device = _resolve_backend(backend, device)

    def pack(self, geoids: Sequence[Geoid]) -> PackedGeoids:
        """Pack geoids (validating one embedding dimension, fixed for this engine once seen)."""
        p = pack_geoids(geoids, self.dim)
        if p.has.any():
            self.dim = p.dim
        return p

    def tension(self, a: Geoid, b: Geoid) -> TensionGradient:
        """The tension of a single pair with its components (the reference computation)."""
        for g in (a, b):
            if self.dim is not None and g.dim is not None and g.dim != self.dim:
                raise GeoidError(
                    f"geoid {g.geoid_id!r} has embedding dimension {g.dim}, engine uses {self.dim}"
                )
        return reference_tension(a, b, self.weights)

    def detect(self, geoids: Sequence[Geoid] | PackedGeoids, threshold: float = 0.4) -> TensionPairs:
        """Every unordered pair i < j (input order) with T >= threshold, with E, L and S."""
        thr = validate_threshold(threshold)
        p = geoids if isinstance(geoids, PackedGeoids) else self.pack(geoids)
        if p.n < 2:
            return TensionPairs.empty(p.ids, thr, self.weights)
        if self.dim is not None and p.has.any() and p.dim != self.dim:
            raise GeoidError(f"packed geoids have embedding dimension {p.dim}, engine uses {self.dim}")
        mode, data = key_data(p, self.max_bitset_words)
        if self.backend == "torch":
            from kimera.cognition.torch_screen import TorchScreen

            screen: _Screen = TorchScreen(p, self.weights, self.device or "cpu")
        else:
            screen = _NumpyScreen(p, mode, data, self.weights, self.block_size)
        thr_lo = thr - self.weights.e * screen.cos_error - screen.slack - _SUM_SLACK
        parts: list[tuple[npt.NDArray[Any], ...]] = []
        b = self.block_size
        for i0 in range(0, p.n, b):
            for j0 in range(i0, p.n, b):
                i1, j1 = min(p.n, i0 + b), min(p.n, j0 + b)
                ci, cj = screen.candidates(i0, i1, j0, j1, thr_lo)
                if ci.shape[0]:
                    cos64 = screen.dense_cos64(i0, i1, j0, j1, ci, cj, self.dense_fraction)
                    parts.append(self._decide(p, mode, data, ci, cj, cos64, thr))
        return self._assemble(p, parts, thr, several_columns=p.n > b)

    def _decide(
        self, p: PackedGeoids, mode: int, data: tuple[Any, ...], ci: Any, cj: Any, cos64: Any, thr: float
    ) -> tuple[npt.NDArray[Any], ...]:
        """Decide candidates in float64 and keep those at or above the threshold."""
        m = ci.shape[0]
        t, e, l_, s = (np.empty(m, np.float64) for _ in range(4))
        keep = np.empty(m, np.bool_)
        w = self.weights
        run_chunks(
            kernels.exact_pairs,
            m,
            ci,
            cj,
            cos64,
            p.emb,
            p.norm,
            p.has,
            mode,
            data,
            w.e,
            w.l,
            w.s,
            thr,
            t,
            e,
            l_,
            s,
            keep,
            min_chunk=4096,
        )
        if keep.all():
            return ci, cj, t, e, l_, s
        return ci[keep], cj[keep], t[keep], e[keep], l_[keep], s[keep]

    def _assemble(
        self, p: PackedGeoids, parts: list[tuple[npt.NDArray[Any], ...]], thr: float, several_columns: bool
    ) -> TensionPairs:
        """Concatenate tile results; a stable sort by i restores (i, j) order across column tiles."""
        if not parts:
            return TensionPairs.empty(p.ids, thr, self.weights)
        cols = [np.concatenate(c) if len(parts) > 1 else c[0] for c in zip(*parts, strict=True)]
        if several_columns:
            order = np.argsort(cols[0], kind="stable")
            cols = [c[order] for c in cols]
        i, j, t, e, l_, s = cols
        return TensionPairs(p.ids, i, j, t, e, l_, s, thr, self.weights)


class _Screen:
    """Proposes candidate pairs of one tile; never misses a pair whose exact T reaches the threshold."""

    cos_error: float  # bound on the error of the screen's cos (scaled by w_E)
    slack: float = 0.0  # bound on the error of the screen's L, S and sum

    def candidates(self, i0: int, i1: int, j0: int, j1: int, thr_lo: float) -> tuple[Any, Any]:
        raise NotImplementedError

    def dense_cos64(self, i0: int, i1: int, j0: int, j1: int, ci: Any, cj: Any, frac: float) -> Any:
        """Float64 cos of the candidates from one GEMM when a tile is dense with them; else empty."""
        return np.zeros(0, np.float64)


class _NumpyScreen(_Screen):
    """CPU screen: BLAS float32 GEMM for cos, a numba kernel for L, S and the threshold test."""

    def __init__(
        self, p: PackedGeoids, mode: int, data: tuple[Any, ...], w: TensionWeights, block: int
    ) -> None:
        self.p, self.mode, self.data, self.w = p, mode, data, w
        b = min(block, p.n)
        self.cos_buf = np.empty(b * b, np.float32)
        self.cand = np.empty((b, b), np.int32)
        self.counts = np.empty(b, np.int64)
        self.cos_error = cos_error_bound(p.dim)
        self._unit64: npt.NDArray[np.float64] | None = None

    def candidates(self, i0: int, i1: int, j0: int, j1: int, thr_lo: float) -> tuple[Any, Any]:
        p, w = self.p, self.w
        cos = self.cos_buf[: (i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
        np.matmul(p.unit[i0:i1], p.unit[j0:j1].T, out=cos)
        run_chunks(
            kernels.screen_rows,
            i1 - i0,
            cos,
            i0,
            j0,
            i0 == j0,
            p.has,
            self.mode,
            self.data,
            w.e,
            w.l,
            w.s,
            thr_lo,
            self.cand,
            self.counts,
            min_chunk=max(1, 65536 // (j1 - j0)),
        )
        return kernels.gather(self.cand, self.counts, i1 - i0, i0, j0)  # type: ignore[no-any-return]

    def dense_cos64(self, i0: int, i1: int, j0: int, j1: int, ci: Any, cj: Any, frac: float) -> Any:
        pairs = (i1 - i0) * (j1 - j0) // (2 if i0 == j0 else 1)
        if self.p.dim == 0 or ci.shape[0] <= frac * pairs:
            return np.zeros(0, np.float64)
        if self._unit64 is None:
            p = self.p
            safe = np.where(p.norm > 0, p.norm, 1.0)
            self._unit64 = p.emb.astype(np.float64) / safe[:, None]
        u = self._unit64
        tile = u[i0:i1] @ u[j0:j1].T
        return tile[ci - i0, cj - j0]


def cuda_available() -> bool:
    """True when torch sees a CUDA GPU; without an NVIDIA driver it answers without importing torch."""
    if not any(os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg")):
        return False
    try:
        import torch
    except ImportError:  # torch is a dependency, but the numpy path must never need it
        return False
    return bool(torch.cuda.is_available())


def _resolve_backend(backend: Backend, device: str | None) -> tuple[str, str | None]:
    """'auto' is torch on CUDA when a GPU is present, else numpy; 'torch' defaults to CUDA if present."""
    if backend == "numpy":
        return "numpy", None
    cuda = cuda_available()
    if backend == "auto":
        return ("torch", device or "cuda") if cuda else ("numpy", None)
    return "torch", device or ("cuda" if cuda else "cpu")


def detect_tensions(
    geoids: Sequence[Geoid] | PackedGeoids,
    threshold: float = 0.4,
    weights: TensionWeights | None = None,
    **engine_options: Any,
) -> TensionPairs:
    """Every pair of geoids with tension >= threshold (see `ContradictionEngine` for the options)."""
    return ContradictionEngine(weights, **engine_options).detect(geoids, threshold)
