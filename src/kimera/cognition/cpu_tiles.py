"""One CPU worker's job: a tile of the upper triangle in, the tile's decided pairs out.

The float32 GEMM of unit embeddings gives cos; the numba screen adds exact L and S and keeps every pair
whose tension could reach the threshold given the proven error of cos; each candidate is then decided
in float64 (from a float64 GEMM when the tile is dense with candidates, else a dot product per pair).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from kimera.cognition import kernels
from kimera.cognition.pack import PackedGeoids
from kimera.cognition.parallel import run_chunks
from kimera.cognition.weights import TensionWeights

Part = tuple[npt.NDArray[Any], ...]  # i, j, tension, E, L, S of one tile
Tile = tuple[int, int, int, int]  # i0, i1, j0, j1


def tiles(n: int, block: int) -> list[Tile]:
    """Tiles of the upper triangle (j0 >= i0), row-block major."""
    return [
        (i0, min(n, i0 + block), j0, min(n, j0 + block))
        for i0 in range(0, n, block)
        for j0 in range(i0, n, block)
    ]


def decide(
    p: PackedGeoids,
    mode: int,
    data: tuple[Any, ...],
    w: TensionWeights,
    ci: Any,
    cj: Any,
    cos64: Any,
    thr: float,
    threads: bool = False,
) -> Part:
    """Float64 decision of candidate pairs: keep those with T >= thr (on the pool when `threads`)."""
    m = ci.shape[0]
    t, e, l_, s = (np.empty(m, np.float64) for _ in range(4))
    keep = np.empty(m, np.bool_)
    args = (ci, cj, cos64, p.emb, p.norm, p.has, mode, data, w.e, w.l, w.s, thr, t, e, l_, s, keep)
    if threads:
        run_chunks(kernels.exact_pairs, m, *args, min_chunk=4096)
    else:
        kernels.exact_pairs(0, m, *args)
    if keep.all():
        return ci, cj, t, e, l_, s
    return ci[keep], cj[keep], t[keep], e[keep], l_[keep], s[keep]


class TileJob:
    """Callable on a tile; thread-safe (per-thread buffers), so a pool can run tiles concurrently."""

    def __init__(
        self,
        p: PackedGeoids,
        mode: int,
        data: tuple[Any, ...],
        w: TensionWeights,
        thr: float,
        thr_lo: float,
        block: int,
        dense_fraction: float,
    ) -> None:
        self.p, self.mode, self.data, self.w = p, mode, data, w
        self.thr, self.thr_lo, self.block, self.dense_fraction = thr, thr_lo, block, dense_fraction
        self._local = threading.local()
        self._lock = threading.Lock()
        self._unit64: npt.NDArray[np.float64] | None = None
        self._density = 0.0  # candidates per pair in the last tile screened

    def _buffers(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32], npt.NDArray[np.int64]]:
        loc = self._local
        if not hasattr(loc, "cos"):
            b = self.block
            loc.cos = np.empty(b * b, np.float32)
            loc.cand = np.empty((b, b), np.int32)
            loc.counts = np.empty(b, np.int64)
        return loc.cos, loc.cand, loc.counts

    def unit64(self) -> npt.NDArray[np.float64]:
        """Float64 unit embeddings (built once, on first need)."""
        with self._lock:
            if self._unit64 is None:
                p = self.p
                self._unit64 = p.emb.astype(np.float64) / np.where(p.norm > 0, p.norm, 1.0)[:, None]
            return self._unit64

    def __call__(self, tile: Tile) -> Part | None:
        i0, i1, j0, j1 = tile
        p, w = self.p, self.w
        buf, cand, counts = self._buffers()
        cos = buf[: (i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
        tile64: npt.NDArray[np.float64] | None = None
        if p.dim and self._density > self.dense_fraction:
            # dense with candidates so far: one float64 GEMM serves both the screen and the decision
            u = self.unit64()
            tile64 = u[i0:i1] @ u[j0:j1].T
            np.copyto(cos, tile64, casting="same_kind")
        else:
            np.matmul(p.unit[i0:i1], p.unit[j0:j1].T, out=cos)
        diag = i0 == j0
        args = (p.has, self.mode, self.data, w.e, w.l, w.s, self.thr_lo, cand, counts)
        kernels.screen_rows(0, i1 - i0, cos, i0, j0, diag, *args)
        ci, cj = kernels.gather(cand, counts, i1 - i0, i0, j0)
        pairs = max(1, (i1 - i0) * (j1 - j0) // (2 if diag else 1))
        self._density = ci.shape[0] / pairs  # a hint for the next tile (races are harmless)
        if ci.shape[0] == 0:
            return None
        if tile64 is None and p.dim and ci.shape[0] > self.dense_fraction * pairs:
            u = self.unit64()
            tile64 = u[i0:i1] @ u[j0:j1].T
        cos64 = np.zeros(0, np.float64) if tile64 is None else tile64[ci - i0, cj - j0]
        return decide(p, self.mode, self.data, w, ci, cj, cos64, self.thr)
