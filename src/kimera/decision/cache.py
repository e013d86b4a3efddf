"""A bounded, thread-safe LRU cache of decisions with a time-to-live and honest counters."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

V = TypeVar("V")


class CacheEntry(NamedTuple, Generic[V]):
    """A cached decision and when it was made (ns, on the caller's clock)."""

    value: V
    created_ns: int


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters: `misses` include lookups that found only an expired entry (also counted in `expirations`)."""

    hits: int
    misses: int
    expirations: int
    evictions: int
    size: int
    capacity: int

    @property
    def lookups(self) -> int:
        """hits + misses."""
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """hits / lookups (0 before any lookup)."""
        n = self.hits + self.misses
        return self.hits / n if n else 0.0


class DecisionCache(Generic[V]):
    """LRU of at most `capacity` entries; an entry is returned only while `now − created < ttl_ns`.

    Every operation holds one lock, so the size never exceeds the capacity and the counters add up under
    concurrent use. Time is passed in (event time in replay); `now_ns=None` reads `time.monotonic_ns()`.
    """

    def __init__(self, capacity: int, ttl_ns: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"DecisionCache capacity must be an int >= 1, got {capacity!r}")
        if isinstance(ttl_ns, bool) or not isinstance(ttl_ns, int) or ttl_ns < 1:
            raise ValueError(f"DecisionCache ttl_ns must be an int >= 1, got {ttl_ns!r}")
        self.capacity = capacity
        self.ttl_ns = ttl_ns
        self._d: OrderedDict[Hashable, CacheEntry[V]] = OrderedDict()
        self._move_to_end = self._d.move_to_end
        self._get = self._d.get
        self._lock = threading.Lock()
        # (key, entry) of the most recently used key, which is then the last of `_d` (None: not known)
        self._mru: tuple[Hashable, CacheEntry[V]] | None = None
        self.hits = 0
        self.misses = 0
        self.expirations = 0
        self.evictions = 0

    def get(self, key: Hashable, now_ns: int | None = None) -> V | None:
        """The live value for `key`, or None (missing or expired; an expired entry is removed)."""
        if now_ns is None:
            now_ns = time.monotonic_ns()
        lock = self._lock
        lock.acquire()  # (explicit acquire/release: measured cheaper than `with` on the hot path)
        try:
            mru = self._mru
            if mru is not None and key == mru[0]:  # the most recent key again: no hashing, already last in order
                m = mru[1]
                if now_ns - m[1] < self.ttl_ns:
                    self.hits += 1
                    return m[0]
            e = self._get(key)
            if e is not None and now_ns - e[1] < self.ttl_ns:  # the common case first: a live entry
                self._move_to_end(key)
                self._mru = (key, e)
                self.hits += 1
                return e[0]
            if e is not None:
                del self._d[key]
                self.expirations += 1
                self._mru = None
            self.misses += 1
            return None
        finally:
            lock.release()

    def put(self, key: Hashable, value: V, now_ns: int | None = None) -> None:
        """Store `value` made at `now_ns`, evicting the least recently used entry when full."""
        now = time.monotonic_ns() if now_ns is None else now_ns
        with self._lock:
            d = self._d
            if key in d:
                d.move_to_end(key)
            elif len(d) >= self.capacity:
                d.popitem(last=False)
                self.evictions += 1
            e = d[key] = CacheEntry(value, now)
            self._mru = (key, e)

    def purge_expired(self, now_ns: int | None = None) -> int:
        """Drop every expired entry now (lookups also drop them lazily); returns how many."""
        now = time.monotonic_ns() if now_ns is None else now_ns
        with self._lock:
            dead = [k for k, e in self._d.items() if now - e.created_ns >= self.ttl_ns]
            for k in dead:
                del self._d[k]
            if dead:
                self._mru = None
            self.expirations += len(dead)
            return len(dead)

    def __len__(self) -> int:
        return len(self._d)

    def clear(self) -> None:
        """Drop every entry (counters kept)."""
        with self._lock:
            self._d.clear()
            self._mru = None

    def stats(self) -> CacheStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return CacheStats(self.hits, self.misses, self.expirations, self.evictions, len(self._d), self.capacity)
