"""The torch engine (CUDA when present, or CPU for testing the same code): strips of rows against every
column to their right, every pair decided exactly on the device.

E comes from a float64 GEMM of unit embeddings; the key overlaps for L (K·Kᵀ) and the symbolic counts for
S (indicator and sign products) are small integers, exact in float32 GEMMs, and become L, S and T in
float64 with the same formulas as the CPU kernels. So no pair needs a second, CPU-side decision: only the
pairs with T >= threshold leave the device.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from kimera.cognition.geoid import BOOL_FALSE, BOOL_TRUE, NUM_NEG, NUM_POS, STRING
from kimera.cognition.pack import PackedGeoids
from kimera.cognition.weights import TensionWeights

_DENSE_BUDGET = 2 << 30  # bytes of dense per-geoid matrices on the device
_STRIP_BUDGET = 1 << 30  # bytes of one strip's float64 pair matrices (about ten live at once)
Columns = tuple[npt.NDArray[Any], ...]  # i, j, tension, E, L, S


def _row_ids(n: int, ptr: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The row of every CSR entry."""
    return np.repeat(np.arange(n, dtype=np.int64), np.diff(ptr))


def _indicator(
    n: int, cols: int, rows: torch.Tensor, keys: torch.Tensor, sel: torch.Tensor | None
) -> torch.Tensor:
    """A 0/1 float32 matrix (n × cols) on the device: one at (row, key) of every CSR entry selected by `sel`
    (entries are distinct (row, key) pairs, so writing 0 or 1 for each needs no mask and no device sync)."""
    out = torch.zeros((n, max(cols, 1)), dtype=torch.float32, device=rows.device)
    out[rows, keys] = 1.0 if sel is None else sel.to(torch.float32)
    return out


class TorchStrips:
    """Per-geoid matrices on a torch device; `strip(i0, i1, thr)` decides rows i0..i1 against j > i."""

    def __init__(self, p: PackedGeoids, w: TensionWeights, device: str) -> None:
        n, vk, vs = p.n, p.sem.n_keys, p.sym.n_keys
        nbytes = 4 * n * (vk + 11 * vs) + 8 * n * p.dim
        if nbytes > _DENSE_BUDGET:
            raise MemoryError(
                f"torch engine needs {nbytes / 2**30:.1f} GiB of dense matrices; use backend='numpy'"
            )
        dev = torch.device(device)
        self.n, self.dev, self.w = n, dev, w
        sym = p.sym

        def t(a: npt.NDArray[Any]) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(dev)

        # everything is built on the device from the packed arrays: only O(n·d + entries) bytes cross
        # E: unit rows in float64 (zero without an embedding); `ok` says where E comes from cos
        has, norm = t(p.has), t(p.norm)
        ok = has & (norm > 0)
        emb = t(p.emb).to(torch.float64)
        self.unit64 = torch.where(ok[:, None], emb / torch.where(ok, norm, 1.0)[:, None], 0.0)
        self.has = has.to(torch.float64)
        self.ok = ok.to(torch.float64)
        # L: key presence and set sizes
        self.keys = _indicator(n, vk, t(_row_ids(n, p.sem.ptr)), t(p.sem.key.astype(np.int64)), None)
        self.size = t(p.sem.size.astype(np.float64))
        # S: common keys, and twice the opposed ones (bools that differ, numbers of opposite sign, strings)
        rows, keys, kind = t(_row_ids(n, sym.ptr)), t(sym.key.astype(np.int64)), t(sym.kind)
        ind = {
            k: _indicator(n, vs, rows, keys, kind == k)
            for k in (BOOL_TRUE, BOOL_FALSE, NUM_POS, NUM_NEG, STRING)
        }
        self.present = _indicator(n, vs, rows, keys, None)
        left = [2 * ind[BOOL_TRUE], 2 * ind[BOOL_FALSE], 2 * ind[NUM_POS], 2 * ind[NUM_NEG], ind[STRING]]
        right = [ind[BOOL_FALSE], ind[BOOL_TRUE], ind[NUM_NEG], ind[NUM_POS], ind[STRING]]
        self.opp_left = torch.cat(left, dim=1)
        self.opp_right = torch.cat(right, dim=1)
        str_cols = t(np.unique(sym.key[sym.kind == STRING]).astype(np.int64))
        codes = torch.full((n, max(vs, 1)), -1, dtype=torch.int32, device=dev)
        codes[rows, keys] = torch.where(kind == STRING, t(sym.code).to(torch.int32), -1)
        self.codes = codes.index_select(1, str_cols)

    def strip_rows(self, block_size: int) -> int:
        """Rows per strip: at most `block_size`, and the strip's pair matrices within the budget."""
        return max(1, min(block_size, _STRIP_BUDGET // (80 * max(self.n, 1))))

    def detect(self, thr: float, block_size: int) -> Columns:
        """Every pair i < j with T >= thr in (i, j) order: strips kept on the device, joined, copied once."""
        rows = self.strip_rows(block_size)
        parts = [self.strip(i0, min(self.n, i0 + rows), thr) for i0 in range(0, self.n - 1, rows)]
        ij = torch.cat([pt[0] for pt in parts], dim=1).cpu().numpy()
        vals = torch.cat([pt[1] for pt in parts], dim=1).cpu().numpy()
        return ij[0], ij[1], vals[0], vals[1], vals[2], vals[3]

    @torch.no_grad()
    def strip(self, i0: int, i1: int, thr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Every pair i0 <= i < i1, i < j < n with T >= thr, in (i, j) order: indices (2 × k) and
        tension, E, L, S (4 × k), on the device."""
        w = self.w
        r, c = slice(i0, i1), slice(i0, self.n)
        f64 = torch.float64
        cos = self.unit64[r] @ self.unit64[c].T
        e = torch.where(self.ok[r, None] * self.ok[None, c] > 0, 1.0 - cos.clamp_(0.0, 1.0), 1.0)
        e *= self.has[r, None] * self.has[None, c]
        o = (self.keys[r] @ self.keys[c].T).to(f64)
        u = self.size[r, None] + self.size[None, c] - o
        lv = torch.where(u > 0, 1.0 - o / u.clamp(min=1.0), 0.0)
        cnt = (self.present[r] @ self.present[c].T).to(f64)
        opp2 = self.opp_left[r] @ self.opp_right[c].T
        ci_codes, cj_codes = self.codes[r], self.codes[c]
        for k in range(ci_codes.shape[1]):
            a = ci_codes[:, k, None]
            opp2 -= ((a == cj_codes[None, :, k]) & (a >= 0)).to(opp2.dtype)
        sv = torch.where(cnt > 0, 0.5 * opp2.to(f64) / cnt.clamp(min=1.0), 0.0)
        tt = w.e * e + w.l * lv + w.s * sv
        mask = torch.triu(tt >= thr, diagonal=1)  # column k of the strip is j = i0 + k: keep j > i
        idx = mask.nonzero()  # (i, j) order: row-major; one device sync per strip
        flat = idx[:, 0] * tt.shape[1] + idx[:, 1]
        vals = torch.stack([m.reshape(-1).index_select(0, flat) for m in (tt, e, lv, sv)])
        return idx.T + i0, vals
