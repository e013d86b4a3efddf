"""Run a nogil numba kernel over [0, n) in contiguous chunks on a small shared thread pool."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_POOL: ThreadPoolExecutor | None = None


def workers() -> int:
    """Threads to use: the CPUs this process may run on (override with KIMERA_THREADS)."""
    env = os.environ.get("KIMERA_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="kimera-cognition")
    return _POOL


def run_chunks(kernel: Callable[..., Any], n: int, *args: Any, min_chunk: int = 64) -> None:
    """Call `kernel(a, b, *args)` over chunks covering [0, n); inline when n is small or one thread."""
    k = min(workers(), max(1, n // min_chunk))
    if k <= 1:
        kernel(0, n, *args)
        return
    bounds = [n * t // k for t in range(k + 1)]
    futures = [_pool().submit(kernel, bounds[t], bounds[t + 1], *args) for t in range(k)]
    for f in futures:
        f.result()
