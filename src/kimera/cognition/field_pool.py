"""Embedding slot pools for the field store: float32 numpy on CPU, fp32/fp16 torch tensors on a device."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]


class Pool:
    """A (capacity × dim) block of slots that only ever grows by reallocating to a larger capacity."""

    capacity: int
    lossy = False  # stored vectors are rounded (fp16): norms must be taken from the stored rows
    tf32 = False  # float32 products may run with TF32 inputs (CUDA)
    extra_error = 0.0

    def grow(self, capacity: int) -> None:
        raise NotImplementedError

    def write(self, slots: I64, emb: F32) -> None:
        raise NotImplementedError

    def write_one(self, slot: int, e: F32) -> None:
        raise NotImplementedError

    def host_array(self) -> F32 | None:
        """The slots as a writable host float32 array, if they live in one (else None)."""
        return None

    def rows(self, slots: I64) -> F32:
        raise NotImplementedError

    def dots(self, q: F32, upto: int) -> npt.NDArray[np.float64]:
        """Float32 dot products of slots [0, upto) with q (screening only)."""
        raise NotImplementedError

    def norms(self, slots: I64) -> npt.NDArray[np.float64]:
        """Float64 norms of stored rows."""
        r = self.rows(slots).astype(np.float64)
        return np.sqrt(np.einsum("ij,ij->i", r, r))  # type: ignore[no-any-return]


class NumpyPool(Pool):
    """float32 slots in one numpy array."""

    def __init__(self, dim: int, capacity: int) -> None:
        self.data = np.zeros((capacity, dim), dtype=np.float32)
        self.capacity = capacity

    def grow(self, capacity: int) -> None:
        new = np.zeros((capacity, self.data.shape[1]), dtype=np.float32)
        new[: self.capacity] = self.data
        self.data, self.capacity = new, capacity

    def write(self, slots: I64, emb: F32) -> None:
        if slots.size and slots[-1] - slots[0] == slots.size - 1 and (np.diff(slots) == 1).all():
            self.data[slots[0] : slots[-1] + 1] = emb  # contiguous fresh slots: one block copy
        else:
            self.data[slots] = emb

    def write_one(self, slot: int, e: F32) -> None:
        self.data[slot] = e

    def host_array(self) -> F32 | None:
        return self.data

    def rows(self, slots: I64) -> F32:
        return self.data[slots]

    def dots(self, q: F32, upto: int) -> npt.NDArray[np.float64]:
        return (self.data[:upto] @ q).astype(np.float64)


class TorchPool(Pool):
    """Slots in a torch tensor on `device` (fp32, or fp16 to halve memory), products on the device."""

    def __init__(self, dim: int, capacity: int, device: str, dtype: str = "float32") -> None:
        import torch

        if dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
        self.torch: Any = torch
        self.device = torch.device(device)
        self.dtype = getattr(torch, dtype)
        self.data = torch.zeros((capacity, dim), dtype=self.dtype, device=self.device)
        self.capacity = capacity
        self.lossy = dtype == "float16"
        self.tf32 = self.device.type == "cuda"

    def grow(self, capacity: int) -> None:
        new = self.torch.zeros((capacity, self.data.shape[1]), dtype=self.dtype, device=self.device)
        new[: self.capacity] = self.data
        self.data, self.capacity = new, capacity

    def write(self, slots: I64, emb: F32) -> None:
        idx = self.torch.from_numpy(slots).to(self.device)
        # copied as float32 and rounded to the pool's dtype on the device (a CPU-side fp16 cast is slow)
        self.data[idx] = self.torch.from_numpy(emb).to(self.device).to(self.dtype)

    def write_one(self, slot: int, e: F32) -> None:
        self.data[slot] = self.torch.from_numpy(e).to(self.device).to(self.dtype)

    def rows(self, slots: I64) -> F32:
        idx = self.torch.from_numpy(np.asarray(slots, dtype=np.int64)).to(self.device)
        return self.data[idx].float().cpu().numpy()  # type: ignore[no-any-return]

    def norms(self, slots: I64) -> npt.NDArray[np.float64]:
        """Float64 norms of stored rows, computed on the device (only n numbers come back)."""
        idx = self.torch.from_numpy(np.asarray(slots, dtype=np.int64)).to(self.device)
        with self.torch.no_grad():
            r = self.data[idx].double()
            return (r * r).sum(dim=1).sqrt().cpu().numpy()  # type: ignore[no-any-return]

    def dots(self, q: F32, upto: int) -> npt.NDArray[np.float64]:
        qt = self.torch.from_numpy(q).to(self.device)
        with self.torch.no_grad():
            out = self.data[:upto].float() @ qt
        return out.cpu().numpy().astype(np.float64)  # type: ignore[no-any-return]
