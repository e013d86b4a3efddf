"""The CPU engine's strips: a block of rows against every column to its right, decided and written in order.

Dense answers: a float64 GEMM of unit embeddings for the whole strip, then one numba pass computes E, L
and S of every pair exactly and writes those with T >= threshold straight into the result columns.
Sparse answers: per column tile a float32 GEMM; the numba screen adds exact L and S, keeps every pair
whose tension could reach the threshold given the proven error of cos, and decides it in float64 (a dot
product) into the worker's buffer, copied to the result in the strip's turn.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from kimera.cognition import kernels
from kimera.cognition.pack import PackedGeoids
from kimera.cognition.weights import TensionWeights

_TABLE_BUDGET = 1 << 16  # entries of the exact L and S tables before falling back to divisions


class Output:
    """The result columns, filled strip by strip in (i, j) order: a strip waits for its turn, writes or
    copies its pairs after strip k − 1's and passes the turn on, so no tile results are kept, concatenated
    or merged. Spare capacity is never touched (no page faults) and is handed back at the end."""

    def __init__(self, capacity: int) -> None:
        self._alloc(max(capacity, 16), 0)
        self.size = 0
        self._turn = 0
        self._failed = False
        self._cond = threading.Condition()

    def _alloc(self, cap: int, keep: int) -> None:
        old = getattr(self, "arrays", None)
        self.arrays = [np.empty(cap, np.int64), np.empty(cap, np.int64)]
        self.arrays += [np.empty(cap, np.float64) for _ in range(4)]  # tension, E, L, S
        if old is not None:
            for a, b in zip(self.arrays, old, strict=True):
                a[:keep] = b[:keep]

    def reserve(self, extra: int) -> None:
        """Room for `extra` more pairs (only the strip holding the turn calls this)."""
        need = self.size + extra
        cap = self.arrays[0].shape[0]
        if need > cap:  # rare: the sampled density underestimated the answer
            self._alloc(max(need, 2 * cap), self.size)

    def wait_turn(self, k: int) -> None:
        with self._cond:
            while self._turn != k and not self._failed:
                self._cond.wait()
            if self._failed:
                raise RuntimeError("another strip of this detection failed")

    def pass_turn(self, k: int) -> None:
        with self._cond:
            self._turn = k + 1
            self._cond.notify_all()

    def fail(self) -> None:
        """A strip failed: wake every waiting strip (they raise instead of waiting for ever)."""
        with self._cond:
            self._failed = True
            self._cond.notify_all()

    def columns(self) -> list[npt.NDArray[Any]]:
        """The filled columns (shrunk in place: realloc hands the spare pages back without copying)."""
        for a in self.arrays:
            a.resize(self.size, refcheck=False)
        return self.arrays


class StripJob:
    """Callable on a strip: a block of rows against every column right of the diagonal. Thread-safe
    (per-thread buffers); strips reach the output in order.

    Dense answers (`unit64` given): one float64 GEMM for the whole strip, then, in the strip's turn, one
    numba pass decides every pair and writes it straight into the output. Sparse answers: per column tile
    a float32 GEMM and a screen that decides each candidate in float64 into the worker's small buffer
    (in parallel), then, in the strip's turn, a copy to the output."""

    def __init__(
        self,
        p: PackedGeoids,
        mode: int,
        data: tuple[Any, ...],
        w: TensionWeights,
        thr: float,
        thr_lo: float,
        rows: int,
        cols: int,
        unit64: npt.NDArray[np.float64] | None,
        density: float,
        out: Output,
    ) -> None:
        self.p, self.mode, self.data, self.w = p, mode, data, w
        self.thr, self.thr_lo, self.rows, self.cols = thr, thr_lo, rows, cols
        self.unit64, self.density, self.out = unit64, density, out
        self.hasf = p.has.astype(np.float64)
        size, _, nws, nwy, nwq, sp, _, yp, *_ = data
        self.one_word = mode == kernels.BITS and nws == 1 and nwy == 1 and nwq == 1
        if self.one_word:
            o_max = int(np.diff(sp).max())
            c_max = int(np.diff(yp).max())
            u_max = 2 * int(size.max())
            if (o_max + 1) * (u_max + 1) + (c_max + 1) * (2 * c_max + 1) > _TABLE_BUDGET:
                self.one_word = False
            else:
                self.lt, self.st = kernels.ratio_tables(o_max, u_max, c_max)
                self.lu, self.sq = u_max + 1, 2 * c_max + 1
        self._local = threading.local()

    def __call__(self, k: int) -> None:
        try:
            if self.unit64 is not None:
                self._dense(k)
            else:
                self._sparse(k)
        except BaseException:
            self.out.fail()
            raise

    def _dense(self, k: int) -> None:
        p, w, n, out = self.p, self.w, self.p.n, self.out
        i0 = k * self.rows
        i1 = min(n, i0 + self.rows)
        loc = self._local
        if not hasattr(loc, "cos"):
            loc.cos = np.empty(self.rows * n, np.float64)
        u = self.unit64
        assert u is not None
        cos = loc.cos[: (i1 - i0) * (n - i0)].reshape(i1 - i0, n - i0)
        np.matmul(u[i0:i1], u[i0:].T, out=cos)
        out.wait_turn(k)
        r = 0
        while r < i1 - i0:
            out.reserve(n - i0 - r - 1)
            if self.one_word:
                r, out.size = kernels.dense_rows_w1(  # type: ignore[call-arg]
                    cos, r, i0, self.hasf, self.data[0], self.data[1], self.lt, self.lu, self.st,
                    self.sq, w.e, w.l, w.s, self.thr, *out.arrays, out.size,
                )  # fmt: skip
            else:
                r, out.size = kernels.dense_rows(  # type: ignore[call-arg]
                    cos, r, i0, p.has, self.mode, self.data, w.e, w.l, w.s, self.thr, *out.arrays, out.size
                )
        out.pass_turn(k)

    def _buffers(self, need: int) -> tuple[Any, ...]:
        """This thread's tile buffer and pair buffer, the latter grown to hold `need` pairs."""
        loc = self._local
        if not hasattr(loc, "cos"):
            loc.cos = np.empty(self.rows * self.cols, np.float32)
            loc.buf = None
        if loc.buf is None or loc.buf[0].shape[0] < need:
            old = loc.buf
            cap = max(need, 2 * old[0].shape[0]) if old is not None else need
            loc.buf = (np.empty(cap, np.int32), *(np.empty(cap, np.float64) for _ in range(4)))
            if old is not None:  # keep what the current strip wrote so far
                for a, b in zip(loc.buf, old, strict=True):
                    a[: loc.used] = b[: loc.used]
        return loc.cos, loc.buf

    def _sparse(self, k: int) -> None:
        p, w, n, out = self.p, self.w, self.p.n, self.out
        i0 = k * self.rows
        i1 = min(n, i0 + self.rows)
        starts = range(i0, n, self.cols)
        counts = np.zeros((len(starts), i1 - i0), np.int64)
        guess = int(2 * self.density * (i1 - i0) * (n - i0)) + 1024
        loc = self._local
        loc.used = pos = 0
        for t, j0 in enumerate(starts):
            j1 = min(n, j0 + self.cols)
            cos, buf = self._buffers(max(guess, pos + (i1 - i0) * (j1 - j0)))
            tile = cos[: (i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
            np.matmul(p.unit[i0:i1], p.unit[j0:j1].T, out=tile)
            if self.one_word:
                pos = kernels.sparse_tile_w1(  # type: ignore[call-arg]
                    tile, i0, j0, self.hasf, self.data[0], self.data[1], self.lt, self.lu, self.st,
                    self.sq, w.e, w.l, w.s, self.thr_lo, self.thr, p.emb, p.norm, p.has, *buf, pos,
                    counts[t],
                )  # fmt: skip
            else:
                pos = kernels.sparse_tile(  # type: ignore[call-arg]
                    tile, i0, j0, p.has, self.mode, self.data, w.e, w.l, w.s, self.thr_lo, self.thr,
                    p.emb, p.norm, *buf, pos, counts[t],
                )  # fmt: skip
            loc.used = pos
        out.wait_turn(k)
        out.reserve(pos)
        out.size = kernels.copy_strip(i0, counts, *loc.buf, *out.arrays, out.size)  # type: ignore[call-arg]
        out.pass_turn(k)
