"""numba kernels of the stored format's decoding: one pass each over Arrow buffers (validity bitmaps read in
place), so the format-4 predictions and first-level columns cost the reader next to nothing.

int64 arithmetic wraps in numba exactly as in numpy, so every kernel is the exact inverse of its encoder in
`kimera.storage.codec`, for any values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit


@njit(cache=True, nogil=True)
def _bit(bitmap: np.ndarray, i: int) -> bool:
    return bool((bitmap[i >> 3] >> (i & 7)) & 1)


@njit(cache=True, nogil=True)
def _fill_forward(data: np.ndarray, bitmap: np.ndarray, offset: int, scale: np.ndarray, last: int,
                  out: np.ndarray) -> int:
    for i in range(len(out)):
        j = i + offset
        keep = -((bitmap[j >> 3] >> (j & 7)) & 1)  # all ones where valid: branch-free (half the rows are NULL)
        last = (data[i] & keep) | (last & ~keep)
        out[i] = last * scale[i]
    return last


@njit(cache=True, nogil=True)
def _fill_chained(data: np.ndarray, bitmap: np.ndarray, offset: int, source: np.ndarray, before: int, step: int,
                  out: np.ndarray) -> None:
    prev = before
    for i in range(len(out)):
        out[i] = data[i] if _bit(bitmap, i + offset) else prev + step
        prev = source[i]


@njit(cache=True, nogil=True)
def _first_then_cumsum(tails: np.ndarray, tail_offs: np.ndarray, firsts: np.ndarray, bitmap: np.ndarray,
                       offset: int, all_valid: bool, scale: int, out: np.ndarray, out_offs: np.ndarray) -> bool:
    k = 0
    out_offs[0] = 0
    for r in range(len(tail_offs) - 1):
        a, b = tail_offs[r], tail_offs[r + 1]
        if all_valid or _bit(bitmap, r + offset):
            acc = firsts[r]
            out[k] = acc * scale
            k += 1
            for j in range(a, b):
                acc += tails[j]
                out[k] = acc * scale
                k += 1
        elif b > a:  # a tail without a first value
            return False
        out_offs[r + 1] = k
    return True


def _parts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, int]:
    """An int64 array's values (slots under NULL arbitrary) and its validity bitmap with its bit offset."""
    bitmap, data = arr.buffers()[:2]
    values = np.frombuffer(data, np.int64, len(arr), arr.offset * 8)
    bits = np.frombuffer(bitmap, np.uint8) if bitmap is not None else np.ones(len(arr) // 8 + 1, np.uint8) * 255
    return values, bits, arr.offset if bitmap is not None else 0


def fill_forward(arr: pa.Array, scale: np.ndarray, last: int | None) -> tuple[np.ndarray, int]:
    """Each NULL of an int64 array replaced by the nearest non-NULL value before it (`last`: the stored value
    of the row before the array, None at a file's first row), every value times its row's `scale`. Returns
    the values and the last stored value (the next batch's `last`)."""
    out = np.empty(len(arr), np.int64)
    if not len(arr):
        return out, 0 if last is None else last
    if last is None and not arr[0].is_valid:
        raise ValueError("a predicted column's first row is NULL: the file is damaged")
    values, bits, offset = _parts(arr)
    end = _fill_forward(values, bits, offset, scale.astype(np.int64, copy=False), last or 0, out)
    return out, int(end)


def fill_chained(arr: pa.Array, source: np.ndarray, step: int, before: int | None) -> np.ndarray:
    """Each NULL of an int64 array replaced by the previous row's `source` plus `step` (`before`: the source
    of the row before the array, None at a file's first row)."""
    out = np.empty(len(arr), np.int64)
    if len(arr):
        if before is None and not arr[0].is_valid:
            raise ValueError("a predicted column's first row is NULL: the file is damaged")
        values, bits, offset = _parts(arr)
        _fill_chained(values, bits, offset, source.astype(np.int64, copy=False), before or 0, step, out)
    return out


def first_then_cumsum(tails: np.ndarray, tail_offs: np.ndarray, firsts: pa.Array,
                      scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows rebuilt from their first value and the running sum of their tail, times `scale`: (values, offsets)."""
    n_valid = len(firsts) - firsts.null_count
    out = np.empty(len(tails) + n_valid, np.int64)
    out_offs = np.empty(len(tail_offs), np.int64)
    values, bits, offset = _parts(firsts)
    if len(tail_offs) != len(firsts) + 1 or not _first_then_cumsum(
            tails, tail_offs, values, bits, offset, firsts.null_count == 0, scale, out, out_offs):
        raise ValueError("level list and first-level column do not match: the file is damaged")
    return out, out_offs


@njit(cache=True, nogil=True)
def _level_sizes(data: np.ndarray, bitmap: np.ndarray, offset: int, all_valid: bool, offs: np.ndarray,
                 scale: np.ndarray, out: np.ndarray) -> None:
    for r in range(len(offs) - 1):
        s = scale[r]
        raw_negatives = s < 0  # a negative scale: negative stored values are raw (negated) outliers
        if raw_negatives:
            s = -s
        for j in range(offs[r], offs[r + 1]):
            x = np.int64(data[j])
            v = -x if raw_negatives and x < 0 else x * s
            if not all_valid:
                k = j + offset
                v *= (bitmap[k >> 3] >> (k & 7)) & 1  # NULL: a zero size
            out[j] = v


def level_sizes(arr: pa.ListArray, scale: np.ndarray) -> pa.ListArray:
    """Stored level sizes -> true sizes: NULL -> 0, value x -> x * |scale of its row|, and where that scale is
    negative, a negative x -> -x (an outlier stored raw): one pass."""
    offs = arr.offsets.to_numpy()
    offs = (offs - offs[0]).astype(np.int64)
    values = arr.flatten()
    out = np.empty(len(values), np.int64)
    if len(values):
        bitmap, data = values.buffers()[:2]
        dtype = np.int32 if values.type == pa.int32() else np.int64
        raw = np.frombuffer(data, dtype, len(values), values.offset * np.dtype(dtype).itemsize)
        bits = np.frombuffer(bitmap, np.uint8) if bitmap is not None else np.zeros(1, np.uint8)
        _level_sizes(raw, bits, values.offset, bitmap is None or values.null_count == 0, offs,
                     scale.astype(np.int64, copy=False), out)
    return pa.ListArray.from_arrays(pa.array(offs.astype(np.int32)), pa.array(out, pa.int64()))
