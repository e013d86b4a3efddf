"""The compiled E kernel every tiny-n tension path shares: against plain maths, float32 = float64 input,
and the general path's handling of missing embeddings and mismatched dimensions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimera.cognition import TensionWeights
from kimera.strategy.tension import (
    GeoidDraft,
    all_pair_tensions,
    embedding_distances,
    member_summary,
    pair_distances,
)

f32s = st.floats(-1e6, 1e6, allow_nan=False, width=32)


def _e(a: list[float], b: list[float]) -> float:
    na, nb = math.hypot(*a), math.hypot(*b)
    if na == 0.0 or nb == 0.0:
        return 1.0
    return min(1.0, max(0.0, 1.0 - math.fsum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)))


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.integers(1, 8).flatmap(
    lambda d: st.lists(st.lists(f32s, min_size=d, max_size=d), min_size=n, max_size=n))))
def test_pair_distances_match_exact_maths_and_do_not_depend_on_the_input_width(rows: list[list[float]]) -> None:
    a64 = np.array(rows, dtype=np.float64)
    got = pair_distances(a64)
    assert got.tolist() == pair_distances(a64.astype(np.float32)).tolist()  # float32 rows widen exactly
    want = [_e(rows[i], rows[j]) for i in range(len(rows)) for j in range(i + 1, len(rows))]
    assert got == pytest.approx(want, abs=1e-12)


def test_zero_norm_missing_embedding_and_mismatched_dimensions() -> None:
    assert pair_distances(np.array([[0.0, 0.0], [1.0, 0.0]])).tolist() == [1.0]
    assert embedding_distances([(1.0, 0.0), None, (0.0, 1.0)]) == [None, pytest.approx(1.0), None]
    with pytest.raises(ValueError, match="dimensions differ: 2 vs 3"):
        embedding_distances([(1.0, 0.0), (1.0, 0.0, 0.0)])
    d = GeoidDraft("a", {"x": 1.0}, {"dir": 1}, None, {})
    e = GeoidDraft("b", {"x": 1.0}, {"dir": -1}, (1.0, 0.0), {})
    (p,) = all_pair_tensions([d, e], TensionWeights())
    assert (p.E, p.S) == (0.0, 1.0)


def test_member_summary_counts_and_picks_the_most_tense_pair() -> None:
    # members: buy (c=.8), sell (c=.6), flat; directions are the signs of the first coordinate
    emb = np.array([[0.8, 0.2, 0.9], [-0.6, 0.4, -0.7], [0.0, 1.0, 0.1]], dtype=np.float32)
    w = TensionWeights()
    es = pair_distances(emb)
    ts = [w.e * es[0] + w.s * 1.0, w.e * es[1], w.e * es[2]]
    n, best = member_summary(emb, w.e, w.l, w.s, 0.4, 1.075)
    assert n == sum(t >= 0.4 for t in ts) and best == max(ts)
