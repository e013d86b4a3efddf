"""A small shared thread pool for nogil numba kernels and BLAS calls (which release the GIL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import count
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_POOL: ThreadPoolExecutor | None = None
_BLAS: Any = None


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


def start_chunks(kernel: Callable[..., Any], n: int, *args: Any, min_chunk: int = 64) -> Callable[[], None]:
    """Like `run_chunks`, but return at once with a function that waits for the chunks (so the caller's
    thread can do GIL-bound work meanwhile); inline, already done, when n is small or one thread."""
    k = min(workers(), max(1, n // min_chunk))
    if k <= 1:
        kernel(0, n, *args)
        return lambda: None
    bounds = [n * t // k for t in range(k + 1)]
    futures = [_pool().submit(kernel, bounds[t], bounds[t + 1], *args) for t in range(k)]

    def wait() -> None:
        for f in futures:
            f.result()

    return wait


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread while our own threads each run whole GEMMs (no oversubscription, no
    spinning BLAS workers competing with numba); a no-op without threadpoolctl."""
    global _BLAS
    try:
        if _BLAS is None:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        ctx = _BLAS.limit(limits=1, user_api="blas")
    except ImportError:
        yield
        return
    with ctx:
        yield


def map_ordered(fn: Callable[[T], R], items: Sequence[T], max_workers: int | None = None) -> list[R]:
    """`[fn(x) for x in items]` on at most `max_workers` pool threads (results in input order). Each thread
    takes the next item as soon as it is free, so items start in input order: an item may wait for the one
    before it, which has always been taken by a running thread."""
    width = min(workers(), len(items), max_workers or len(items))
    if width <= 1:
        return [fn(x) for x in items]
    n = len(items)
    out: list[R | None] = [None] * n
    ticket = count()  # next() on it is atomic under the GIL

    def lane() -> None:
        while (m := next(ticket)) < n:
            out[m] = fn(items[m])

    with single_threaded_blas():
        for f in [_pool().submit(lane) for _ in range(width)]:
            f.result()
    return out  # type: ignore[return-value]  # every slot was filled
