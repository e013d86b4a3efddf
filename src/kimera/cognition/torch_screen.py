"""Torch screen (CUDA when present, or CPU for testing the same code): per tile, E from a GEMM of unit
embeddings, L from a key-presence product K·Kᵀ, S from indicator and sign products; candidates only."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from kimera.cognition.engine import cos_error_bound
from kimera.cognition.geoid import BOOL_FALSE, BOOL_TRUE, NUM_NEG, NUM_POS, STRING
from kimera.cognition.pack import PackedGeoids
from kimera.cognition.weights import TensionWeights

_DENSE_BUDGET = 2 << 30  # bytes of dense indicator matrices on the device


def _dense(
    n: int, ptr: npt.NDArray[np.int64], key: npt.NDArray[np.int32], cols: int, mask: Any = None
) -> Any:
    """A 0/1 float32 matrix (n × cols) with a one at (row, key) for every CSR entry selected by `mask`."""
    out = np.zeros((n, max(cols, 1)), dtype=np.float32)
    rows = np.repeat(np.arange(n), np.diff(ptr))
    if mask is None:
        out[rows, key] = 1.0
    else:
        out[rows[mask], key[mask]] = 1.0
    return out


class TorchScreen:
    """All-matrix-product screen on a torch device; exact float64 decisions stay with the numba kernel."""

    def __init__(self, p: PackedGeoids, w: TensionWeights, device: str) -> None:
        n, vk, vs = p.n, p.sem.n_keys, p.sym.n_keys
        nbytes = 4 * n * (vk + 11 * vs + p.dim)
        if nbytes > _DENSE_BUDGET:
            raise MemoryError(
                f"torch screen needs {nbytes / 2**30:.1f} GiB of dense matrices; use backend='numpy'"
            )
        dev = torch.device(device)
        self.dev, self.w = dev, w
        sym = p.sym
        kind = sym.kind

        def t(a: npt.NDArray[Any]) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(dev)

        ind = {
            k: _dense(n, sym.ptr, sym.key, vs, kind == k)
            for k in (BOOL_TRUE, BOOL_FALSE, NUM_POS, NUM_NEG, STRING)
        }
        self.unit = t(p.unit)
        self.has = t(p.has.astype(np.float32))
        self.keys = t(_dense(n, p.sem.ptr, p.sem.key, vk))
        self.size = t(p.sem.size.astype(np.float32))
        self.present = t(_dense(n, sym.ptr, sym.key, vs))
        left = [2 * ind[BOOL_TRUE], 2 * ind[BOOL_FALSE], 2 * ind[NUM_POS], 2 * ind[NUM_NEG], ind[STRING]]
        right = [ind[BOOL_FALSE], ind[BOOL_TRUE], ind[NUM_NEG], ind[NUM_POS], ind[STRING]]
        self.opp_left = t(np.hstack(left))
        self.opp_right = t(np.hstack(right))
        str_cols = np.unique(sym.key[kind == STRING])
        codes = np.full((n, max(vs, 1)), -1, dtype=np.int32)
        sel = kind == STRING
        codes[np.repeat(np.arange(n), np.diff(sym.ptr))[sel], sym.key[sel]] = sym.code[sel]
        self.codes = t(codes[:, str_cols])
        cuda = dev.type == "cuda"
        self.cos_error = cos_error_bound(p.dim, tf32=cuda)
        self.slack = 2.0**-20  # float32 L, S and weighted sum on the device

    @torch.no_grad()
    def candidates(self, i0: int, i1: int, j0: int, j1: int, thr_lo: float) -> tuple[Any, Any]:
        w = self.w
        cos = self.unit[i0:i1] @ self.unit[j0:j1].T
        e = (1.0 - cos.clamp_(0.0, 1.0)) * (self.has[i0:i1, None] * self.has[None, j0:j1])
        o = self.keys[i0:i1] @ self.keys[j0:j1].T
        u = self.size[i0:i1, None] + self.size[None, j0:j1] - o
        lv = torch.where(u > 0, 1.0 - o / u.clamp(min=1.0), 0.0)
        c = self.present[i0:i1] @ self.present[j0:j1].T
        opp2 = self.opp_left[i0:i1] @ self.opp_right[j0:j1].T
        ci_codes, cj_codes = self.codes[i0:i1], self.codes[j0:j1]
        for k in range(ci_codes.shape[1]):
            a = ci_codes[:, k, None]
            opp2 -= ((a == cj_codes[None, :, k]) & (a >= 0)).to(opp2.dtype)
        sv = torch.where(c > 0, 0.5 * opp2 / c.clamp(min=1.0), 0.0)
        tt = w.e * e + w.l * lv + w.s * sv
        mask = tt >= thr_lo
        if i0 == j0:
            mask = torch.triu(mask, diagonal=1)
        idx = mask.nonzero().cpu().numpy()
        return idx[:, 0] + i0, idx[:, 1] + j0
