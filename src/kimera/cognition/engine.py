"""The contradiction engine: every pair above a threshold, exactly, by blocked matrix products.

The CPU engine samples the answer's density first. Dense answers (many pairs in tension: each needs a
float64 cos anyway) take one float64 GEMM per strip of rows, and one numba pass decides every pair in
float64 and writes it straight into the result. Sparse answers take a float32 GEMM per tile and a screen
that keeps every pair whose tension could reach the threshold given the proven float32 error on cos,
then decides each candidate in float64. Strips run on a thread pool (BLAS single-threaded per strip) and
reach the result columns in order, so nothing is concatenated or merged. On a GPU (backend 'torch') every
pair is decided exactly on the device instead, in strips (see `torch_strips`).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from kimera.cognition import kernels
from kimera.cognition.cpu_tiles import Output, StripJob
from kimera.cognition.geoid import Geoid, GeoidError
from kimera.cognition.pack import PackedGeoids, pack_geoids
from kimera.cognition.parallel import map_ordered, run_chunks, workers
from kimera.cognition.reference import tension as reference_tension
from kimera.cognition.result import TensionGradient, TensionPairs
from kimera.cognition.weights import TensionWeights

Backend = Literal["auto", "numpy", "torch"]
_log = logging.getLogger(__name__)
_BITSET_BUDGET = 256 << 20  # bytes of key bitsets before falling back to merging sorted rows
_SUM_SLACK = 1e-12  # rounding of the float64 weighted sum in the screen
_MIN_ROWS = 16  # rows of a strip: fewer make the GEMMs inefficient
_DENSE_ROWS = 128  # rows of a strip decided from a float64 GEMM
_SCREEN_ROWS = 256  # rows of a strip screened in float32 column tiles of block_size
_STRIP_BYTES = 16 << 20  # float64 cos of one dense strip, per worker
_PAIRS_PER_THREAD = 100_000  # pairs of the upper triangle per strip thread, at least
_SAMPLES = 1024  # pairs sampled to estimate the answer's density
_SEED = 0x2545F4914F6CDD1D


def cos_error_bound(dim: int, tf32: bool = False) -> float:
    """A safe bound on |cos_float32 − cos_exact| for unit vectors: twice γ_d plus the rounding to float32
    (and the 10-bit TF32 inputs a GPU may use)."""
    return (dim + 8) * 2.0**-23 + (2.0**-9 if tf32 else 0.0)


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
    """Finds every pair of geoids in tension (T >= threshold), exactly, on CPU (numba/BLAS) or a torch device.

    `dense_fraction`: the sampled fraction of pairs in tension from which the CPU engine takes the float64
    GEMM for every pair rather than the float32 screen (0 forces it, above 1 never). `block_size` bounds
    the tiles (and strip heights) of both paths."""

    def __init__(
        self,
        weights: TensionWeights | None = None,
        *,
        dim: int | None = None,
        backend: Backend = "auto",
        device: str | None = None,
        block_size: int = 2048,
        max_bitset_words: int = 16,
        dense_fraction: float = 0.15,
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
        self.fallback = backend == "auto"  # chosen for the caller: may go back to numpy when the GPU is full
        self.fell_back = 0  # detect calls answered by numpy instead of the device

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
        if self.backend == "torch":
            try:
                return self._detect_torch(p, thr)
            except MemoryError as exc:  # ours (dense matrices over budget) or torch's OutOfMemoryError
                if not self.fallback:
                    raise
                _log.warning("contradiction engine: %s; using the numpy engine for this call", exc)
                self.fell_back += 1
        mode, data = key_data(p, self.max_bitset_words)
        return self._detect_cpu(p, mode, data, thr)

    def _detect_cpu(self, p: PackedGeoids, mode: int, data: tuple[Any, ...], thr: float) -> TensionPairs:
        """Strips of rows on the thread pool, float64 GEMM (dense answers) or float32 screen (sparse)
        by the sampled density; see `cpu_tiles`."""
        n, w = p.n, self.weights
        density = kernels.sample_density(
            _SAMPLES, _SEED, p.emb, p.norm, p.has, mode, data, w.e, w.l, w.s, thr
        )
        unit64 = None
        if p.dim and density >= self.dense_fraction:
            # many pairs in tension: a float64 GEMM costs less than a float64 dot product per candidate
            unit64 = np.empty((n, p.dim), np.float64)
            run_chunks(kernels.unit64_rows, n, p.emb, p.norm, unit64, min_chunk=2048)
        # a thread per ~100k pairs at most: on many cores a small problem loses more to hand-offs than it
        # gains (measured on 16 cores: n = 1,000 took 9.7 ms on 4 threads, 22.9 ms on 16)
        total = n * (n - 1) // 2
        width = min(workers(), max(1, total // _PAIRS_PER_THREAD))
        # at least four strips per thread (the later strips are shorter), within the size limits
        rows = max(_MIN_ROWS, math.ceil(n / (4 * width)))
        if unit64 is not None:  # a dense strip's float64 cos is held whole: bound it per worker
            rows = max(1, min(rows, _DENSE_ROWS, _STRIP_BYTES // (8 * n), self.block_size))
        else:
            rows = min(rows, _SCREEN_ROWS, self.block_size)
        thr_lo = thr - w.e * cos_error_bound(p.dim) - _SUM_SLACK
        # capacity from the sampled density with a wide margin: untouched spare pages cost nothing
        out = Output(min(total, int((1.25 * density + 0.01) * total) + 1024))
        job = StripJob(p, mode, data, w, thr, thr_lo, rows, self.block_size, unit64, density, out)
        map_ordered(job, range(math.ceil(n / rows)), max_workers=width)
        i, j, t, e, l_, s = out.columns()
        return TensionPairs(p.ids, i, j, t, e, l_, s, thr, w)

    def _detect_torch(self, p: PackedGeoids, thr: float) -> TensionPairs:
        """Strips decided exactly on the torch device (see `torch_strips`); only the answer comes back."""
        import torch

        from kimera.cognition.torch_strips import TorchStrips

        try:
            dev = TorchStrips(p, self.weights, self.device or "cpu")
            i, j, t, e, l_, s = dev.detect(thr, self.block_size)
        except torch.OutOfMemoryError as exc:
            raise MemoryError(f"the torch device ran out of memory: {exc}") from exc
        return TensionPairs(p.ids, i, j, t, e, l_, s, thr, self.weights)


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
