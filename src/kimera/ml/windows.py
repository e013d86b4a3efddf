"""Exact sliding-window sums and as-of lookups over event time, the state behind causal features.

Values are integers (fixed-point sizes, price changes), so a running sum is exact whatever the order
of pushes and evictions: the same events give bit-identical features offline and live.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque


class WindowSums:
    """Integer sums of the values pushed in the window `(now - window_ns, now]`."""

    __slots__ = ("_items", "last_ns", "sums", "window_ns")

    def __init__(self, window_ns: int, width: int) -> None:
        if window_ns <= 0:
            raise ValueError(f"window_ns must be positive, got {window_ns}")
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        self.window_ns = window_ns
        self.sums = [0] * width
        self._items: deque[tuple[int, tuple[int, ...]]] = deque()
        self.last_ns = -(2**62)

    def push(self, t_ns: int, values: tuple[int, ...]) -> None:
        """Add one event's values at time `t_ns` (times must not go backwards)."""
        if t_ns < self.last_ns:
            raise ValueError(f"time went backwards: {t_ns} < {self.last_ns}")
        if len(values) != len(self.sums):
            raise ValueError(f"expected {len(self.sums)} values, got {len(values)}")
        self.last_ns = t_ns
        self._items.append((t_ns, values))
        s = self.sums
        for i, v in enumerate(values):
            s[i] += v

    def advance(self, now_ns: int) -> list[int]:
        """Drop events at or before `now_ns - window_ns` and return the sums of what is left."""
        cutoff = now_ns - self.window_ns
        items = self._items
        s = self.sums
        while items and items[0][0] <= cutoff:
            _, values = items.popleft()
            for i, v in enumerate(values):
                s[i] -= v
        return s

    def __len__(self) -> int:
        return len(self._items)


class AsOfHistory:
    """The last value recorded at or before a time, for lookbacks up to `keep_ns` behind the newest entry."""

    __slots__ = ("_head", "keep_ns", "times", "values")

    def __init__(self, keep_ns: int) -> None:
        if keep_ns <= 0:
            raise ValueError(f"keep_ns must be positive, got {keep_ns}")
        self.keep_ns = keep_ns
        self.times: list[int] = []
        self.values: list[int] = []
        self._head = 0

    def append(self, t_ns: int, value: int) -> None:
        """Record `value` as of `t_ns` (times must not go backwards) and forget what no lookback needs."""
        times = self.times
        if times and t_ns < times[-1]:
            raise ValueError(f"time went backwards: {t_ns} < {times[-1]}")
        times.append(t_ns)
        self.values.append(value)
        # keep the newest entry at or before t_ns - keep_ns: it is the as-of value for the longest lookback
        cutoff = t_ns - self.keep_ns
        head = self._head
        while head + 1 < len(times) and times[head + 1] <= cutoff:
            head += 1
        self._head = head
        if head > 4096:
            del times[:head], self.values[:head]
            self._head = 0

    def asof(self, t_ns: int) -> int | None:
        """The value recorded last at or before `t_ns`; None when nothing that old is known."""
        i = bisect_right(self.times, t_ns, self._head) - 1
        if i < self._head:
            return None
        return self.values[i]

    def __len__(self) -> int:
        return len(self.times) - self._head
