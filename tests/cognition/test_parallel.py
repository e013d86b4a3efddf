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


def test_a_free_thread_takes_the_next_item_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """No head-of-line blocking: while item 0 is still running, the other thread runs items 1, 2 and 3
    (item 0 waits for item 3 here; with submissions held back behind item 0 it would time out)."""
    monkeypatch.setattr(parallel, "workers", lambda: 4)
    monkeypatch.setattr(parallel, "_POOL", None)
    third_done = threading.Event()

    def job(x: int) -> bool:
        if x == 0:
            return third_done.wait(10.0)
        if x == 3:
            third_done.set()
        return True

    assert parallel.map_ordered(job, list(range(6)), max_workers=2) == [True] * 6
    parallel._pool().shutdown()
