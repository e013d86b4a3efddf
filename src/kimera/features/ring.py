"""A fixed-capacity float ring whose last `n` values are always one contiguous, chronological numpy view."""

from __future__ import annotations

from array import array

import numpy as np
import numpy.typing as npt


class Ring:
    """Ring of floats written twice (at i and i + capacity) so `view()` never copies.

    Storage is an `array('d')` (cheap scalar writes from Python) shared zero-copy with a numpy view.
    """

    __slots__ = ("_np", "buf", "capacity", "count", "head")

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"Ring capacity must be an int >= 1, got {capacity!r}")
        self.capacity = capacity
        self.buf = array("d", bytes(16 * capacity))
        self._np = np.frombuffer(self.buf, dtype=np.float64)
        self._np.flags.writeable = False
        self.head = 0  # next write position in [0, capacity)
        self.count = 0

    def push(self, x: float) -> float:
        """Append `x`; returns the value that left the window (0.0 while not yet full)."""
        h = self.head
        buf = self.buf
        cap = self.capacity
        out = buf[h] if self.count == cap else 0.0
        buf[h] = x
        buf[h + cap] = x
        h += 1
        self.head = 0 if h == cap else h
        if self.count < cap:
            self.count += 1
        return out

    def ago(self, k: int) -> float:
        """The value pushed `k` pushes ago (0 = newest); caller ensures 0 <= k < count."""
        return self.buf[self.head + self.capacity - 1 - k]

    def view(self) -> npt.NDArray[np.float64]:
        """The values in the window, oldest first: a read-only view, valid until the next push."""
        end = self.head + self.capacity
        return self._np[end - self.count : end]

    def clear(self) -> None:
        """Forget every value."""
        self.head = 0
        self.count = 0
