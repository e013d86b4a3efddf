"""Direction labels: dead band, horizon, and use of t..t+h only."""

from __future__ import annotations

import numpy as np
import pytest

from kimera.ml.labels import DOWN, FLAT, UP, class_balance, direction_labels

BPS = 1e-4


def _mid_path() -> tuple[np.ndarray, np.ndarray]:
    # bid+ask changes at these times; values chosen so moves are 0.5 and 2 bps
    t = np.array([0, 150, 300, 700], dtype=np.int64)
    base = 2_000_000
    s = np.array([base, round(base * (1 + 0.5 * BPS)), round(base * (1 + 2.5 * BPS)), base], dtype=np.int64)
    return t, s


def test_labels_follow_the_sign_beyond_the_dead_band() -> None:
    t, s = _mid_path()
    rows = np.array([0, 100, 200, 400], dtype=np.int64)
    y, valid = direction_labels(rows, t, s, end_ns=1_000, horizon_ns=200, band_bps=1.0)
    # 0->200: +0.5 bps (flat, inside band); 100->300: +2.5 bps (up); 200->400: +2 bps (up); 400->600: 0 (flat)
    assert y.tolist() == [FLAT, UP, UP, FLAT]
    assert valid.all()
    y0, _ = direction_labels(rows, t, s, end_ns=1_000, horizon_ns=200, band_bps=0.0)
    assert y0.tolist() == [UP, UP, UP, FLAT]
    y_down, _ = direction_labels(np.array([600]), t, s, end_ns=1_000, horizon_ns=200, band_bps=1.0)
    assert y_down.tolist() == [DOWN]


def test_rows_whose_horizon_passes_the_end_are_invalid() -> None:
    t, s = _mid_path()
    _, valid = direction_labels(np.array([700, 800, 801]), t, s, end_ns=1_000, horizon_ns=200, band_bps=0.0)
    assert valid.tolist() == [True, True, False]
    _, valid = direction_labels(np.array([-5]), t, s, end_ns=1_000, horizon_ns=200, band_bps=0.0)
    assert valid.tolist() == [False]  # no mid known at t


def test_label_uses_only_the_mid_at_t_and_at_t_plus_h() -> None:
    t, s = _mid_path()
    row = np.array([100], dtype=np.int64)
    before, _ = direction_labels(row, t, s, 1_000, 200, 0.0)
    # change the mid strictly after t+h: same label
    later_t, later_s = np.insert(t, 3, 301), np.insert(s, 3, 1)
    same, _ = direction_labels(row, later_t, later_s, 1_000, 200, 0.0)
    assert same.tolist() == before.tolist() == [UP]
    # a change exactly at t+h counts (as of t+h includes it)
    at_h = np.array([0, 150, 300], dtype=np.int64)
    flipped, _ = direction_labels(row, at_h, np.array([s[0], s[1], s[0] - 500]), 1_000, 200, 0.0)
    assert flipped.tolist() == [DOWN]


def test_bad_label_arguments_are_rejected() -> None:
    t, s = _mid_path()
    with pytest.raises(ValueError, match="horizon"):
        direction_labels(t, t, s, 1_000, 0, 0.0)
    with pytest.raises(ValueError, match="dead band"):
        direction_labels(t, t, s, 1_000, 10, -1.0)
    with pytest.raises(ValueError, match="dead band"):
        direction_labels(t, t, s, 1_000, 10, float("nan"))
    with pytest.raises(ValueError, match="sorted"):
        direction_labels(t, t[::-1].copy(), s, 1_000, 10, 0.0)


def test_class_balance_shares() -> None:
    assert class_balance(np.array([0, 1, 1, 2])) == {"down": 0.25, "flat": 0.5, "up": 0.25}
