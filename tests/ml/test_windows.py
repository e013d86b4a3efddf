"""Sliding-window sums and as-of lookups against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from kimera.ml.windows import AsOfHistory, WindowSums


def test_window_sums_match_brute_force_over_half_open_window() -> None:
    rng = np.random.default_rng(7)
    times = np.cumsum(rng.integers(0, 40, 400))
    vals = rng.integers(-1000, 1000, (400, 2))
    w = WindowSums(100, 2)
    pushed = 0
    for now in range(0, int(times[-1]) + 150, 13):
        while pushed < len(times) and times[pushed] <= now:
            w.push(int(times[pushed]), (int(vals[pushed, 0]), int(vals[pushed, 1])))
            pushed += 1
        got = list(w.advance(now))
        inside = (times[:pushed] > now - 100) & (times[:pushed] <= now)
        assert got == vals[:pushed][inside].sum(axis=0).tolist()


def test_window_excludes_event_exactly_one_window_old() -> None:
    w = WindowSums(10, 1)
    w.push(5, (3,))
    assert w.advance(14) == [3]
    assert w.advance(15) == [0]


def test_window_rejects_time_going_backwards_and_wrong_width() -> None:
    w = WindowSums(10, 1)
    w.push(5, (1,))
    with pytest.raises(ValueError, match="backwards"):
        w.push(4, (1,))
    with pytest.raises(ValueError, match="expected 1 values"):
        w.push(6, (1, 2))
    with pytest.raises(ValueError):
        WindowSums(0, 1)


def test_asof_matches_brute_force_within_keep() -> None:
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.integers(0, 30, 20_000))
    vals = rng.integers(1, 10**9, 20_000)
    h = AsOfHistory(keep_ns=500)
    for i, (t, v) in enumerate(zip(times, vals, strict=True)):
        h.append(int(t), int(v))
        if i % 97 == 0:
            for lag in (0, 1, 250, 500):
                q = int(t) - lag
                j = np.searchsorted(times[: i + 1], q, side="right") - 1
                assert h.asof(q) == (int(vals[j]) if j >= 0 else None)
    assert len(h) < 100  # old entries were forgotten


def test_asof_before_first_entry_is_none() -> None:
    h = AsOfHistory(100)
    assert h.asof(5) is None
    h.append(10, 1)
    assert h.asof(9) is None
    assert h.asof(10) == 1
