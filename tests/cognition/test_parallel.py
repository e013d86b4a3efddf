"""The strip pool: input order kept, and never more items in flight than asked for."""

from __future__ import annotations

import threading
import time

import pytest

from kimera.cognition import parallel


@pytest.mark.parametrize("width", [2, 3])
def test_map_ordered_keeps_order_and_bounds_items_in_flight(
    monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setattr(parallel, "workers", lambda: 4)
    monkeypatch.setattr(parallel, "_POOL", None)  # a fresh pool of 4 threads for this test
    lock = threading.Lock()
    live = [0, 0]  # now, most seen

    def job(x: int) -> int:
        with lock:
            live[0] += 1
            live[1] = max(live[1], live[0])
        time.sleep(0.002 * (x % 3))  # later items may finish first
        with lock:
            live[0] -= 1
        return x * x

    assert parallel.map_ordered(job, list(range(23)), max_workers=width) == [x * x for x in range(23)]
    assert live[1] <= width
    parallel._pool().shutdown()
