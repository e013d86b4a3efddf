"""The decision cache: never returns an expired entry, never exceeds capacity (also under threads), LRU
order and counters that add up, checked against a plain reference model."""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimera.decision import DecisionCache

ops = st.lists(
    st.tuples(st.sampled_from(["get", "put"]), st.integers(0, 7), st.integers(0, 30)), min_size=1, max_size=200
)


def _model_put(model: OrderedDict[int, Any], key: int, value: Any, now: int, cap: int) -> int:
    """The reference LRU's put: refresh `key`, or evict the oldest when full; 1 when it evicted."""
    evicted = 0
    if key in model:
        model.move_to_end(key)
    elif len(model) >= cap:
        model.popitem(last=False)
        evicted = 1
    model[key] = (value, now)
    return evicted


@settings(max_examples=300, deadline=None)
@given(ops, st.integers(1, 5), st.integers(1, 40))
def test_matches_a_reference_lru_with_ttl(seq: list[tuple[str, int, int]], cap: int, ttl: int) -> None:
    c: DecisionCache[tuple[int, int]] = DecisionCache(cap, ttl)
    model: OrderedDict[int, tuple[int, int]] = OrderedDict()  # key -> (value, created)
    hits = misses = exp = ev = 0
    now = 0
    for op, key, dt in seq:
        now += dt
        if op == "put":
            ev += _model_put(model, key, (key, now), now, cap)
            c.put(key, (key, now), now)
        else:
            got = c.get(key, now)
            if key not in model:
                misses += 1
                want = None
            elif now - model[key][1] >= ttl:
                del model[key]
                exp += 1
                misses += 1
                want = None
            else:
                model.move_to_end(key)
                hits += 1
                want = model[key][0]
            assert got == want
            if got is not None:
                assert now - got[1] < ttl  # never an expired entry
        assert len(c) <= cap
    s = c.stats()
    assert (s.hits, s.misses, s.expirations, s.evictions, s.size) == (hits, misses, exp, ev, len(model))


def test_expiry_boundary_and_purge() -> None:
    c: DecisionCache[str] = DecisionCache(10, 100)
    c.put("k", "v", 1_000)
    assert c.get("k", 1_099) == "v"
    assert c.get("k", 1_100) is None  # age == ttl: expired
    c.put("a", "x", 0)
    c.put("b", "y", 50)
    assert c.purge_expired(120) == 1 and len(c) == 1
    with pytest.raises(ValueError, match="capacity"):
        DecisionCache(0, 1)
    with pytest.raises(ValueError, match="ttl"):
        DecisionCache(1, 0)


def test_concurrent_use_never_exceeds_capacity_or_returns_expired() -> None:
    # entries live ~2*cap ticks before LRU eviction; a TTL well below that makes expiry certain to occur
    cap, ttl = 64, 50
    c: DecisionCache[int] = DecisionCache(cap, ttl)
    clock = [0]
    clock_lock = threading.Lock()
    errors: list[str] = []
    gets = [0]
    stop = threading.Event()

    def tick() -> int:
        with clock_lock:
            clock[0] += 1
            return clock[0]

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        n = 0
        for _ in range(6_000):
            key = rng.randrange(200)
            if rng.random() < 0.5:
                t = tick()
                c.put(key, t, t)  # the value is its own creation time
            else:
                now = tick()
                v = c.get(key, now)
                n += 1
                if v is not None and now - v >= ttl:
                    errors.append(f"expired entry returned: created {v}, now {now}")
        with clock_lock:
            gets[0] += n

    def watcher() -> None:
        while not stop.is_set():
            if len(c) > cap:
                errors.append(f"size {len(c)} > capacity {cap}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    w = threading.Thread(target=watcher)
    w.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    w.join()
    s = c.stats()
    assert not errors, errors[:3]
    assert s.size <= cap
    assert s.hits + s.misses == gets[0]
    assert s.hits > 0 and s.evictions > 0 and s.expirations > 0


ops_all = st.lists(
    st.tuples(st.sampled_from(["get", "get", "put", "purge", "clear"]), st.integers(0, 5), st.integers(0, 30)),
    min_size=1, max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(ops_all, st.integers(1, 4), st.integers(1, 40))
def test_recency_order_matches_the_model_with_purges_and_clears(
    seq: list[tuple[str, int, int]], cap: int, ttl: int
) -> None:
    # `get` skips the LRU move when the key is the most recent one: the order (and so every eviction) is the same
    c: DecisionCache[int] = DecisionCache(cap, ttl)
    model: OrderedDict[int, tuple[int, int]] = OrderedDict()
    now = 0
    for op, key, dt in seq:
        now += dt
        if op == "put":
            _model_put(model, key, key * 1000 + now, now, cap)
            c.put(key, key * 1000 + now, now)
        elif op == "get":
            e = model.get(key)
            want = None
            if e is not None and now - e[1] < ttl:
                model.move_to_end(key)
                want = e[0]
            elif e is not None:
                del model[key]
            assert c.get(key, now) == want
        elif op == "purge":
            for k in [k for k, e in model.items() if now - e[1] >= ttl]:
                del model[k]
            c.purge_expired(now)
        else:
            model.clear()
            c.clear()
        assert list(c._d) == list(model)
