"""The fast engine returns exactly the reference's pairs (tensions within 1e-9), on every path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimera.cognition import (
    ContradictionEngine,
    Geoid,
    GeoidError,
    TensionWeights,
    detect_tensions,
    detect_tensions_reference,
)
from kimera.cognition.reference import tension
from kimera.cognition.synth import synthetic_geoids

from .strategies import geoid_sets

TIE = 1e-12  # pairs this close to the threshold may fall either way (float64 rounding of cos)

CONFIGS: list[dict[str, Any]] = [
    {"backend": "numpy"},
    {"backend": "numpy", "block_size": 2},
    {"backend": "numpy", "block_size": 3, "dense_fraction": 0.0},  # float64 GEMM path for every tile
    {"backend": "numpy", "block_size": 5, "max_bitset_words": 0},  # merged sorted rows, no bitsets
    {"backend": "numpy", "block_size": 4, "max_bitset_words": 0, "dense_fraction": 0.0},  # both
    {"backend": "numpy", "block_size": 6, "dense_fraction": 2.0},  # float32 screen for every strip
]
TORCH_CPU: dict[str, Any] = {"backend": "torch", "device": "cpu", "block_size": 4}  # the CUDA code, on CPU


def assert_same(
    geoids: list[Geoid], threshold: float, weights: TensionWeights, *configs: dict[str, Any]
) -> None:
    """For each engine config: fast pairs == reference pairs (outside the tie band), scores within 1e-9."""
    ref = {(r.geoid_a, r.geoid_b): r for r in detect_tensions_reference(geoids, threshold, weights)}
    by_id = {g.geoid_id: g for g in geoids}
    for opts in configs:
        got = {(g.geoid_a, g.geoid_b): g for g in detect_tensions(geoids, threshold, weights, **opts)}
        for key in got.keys() ^ ref.keys():
            t = tension(by_id[key[0]], by_id[key[1]], weights).tension
            assert abs(t - threshold) <= TIE, f"{key}: T={t!r} vs threshold {threshold!r} ({opts})"
        for key in got.keys() & ref.keys():
            g, r = got[key], ref[key]
            assert abs(g.tension - r.tension) <= 1e-9 and abs(g.E - r.E) <= 1e-9, (key, g, r, opts)
            assert g.L == r.L and g.S == r.S, (key, g, r, opts)  # exact rationals, computed identically


weights_st = st.sampled_from(
    [
        TensionWeights(),
        TensionWeights(1.0, 0.0, 0.0),
        TensionWeights(0.0, 0.5, 0.5),
        TensionWeights(0.5, 0.25, 0.25),
    ]
)


THRESHOLDS = st.sampled_from([0.0, 0.2, 0.4, 0.5, 0.6, 1.0])
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@settings(max_examples=100, **SETTINGS)  # type: ignore[arg-type]
@given(geoids=geoid_sets(), threshold=THRESHOLDS, weights=weights_st)
def test_fast_equals_reference(geoids: list[Geoid], threshold: float, weights: TensionWeights) -> None:
    assert_same(geoids, threshold, weights, *CONFIGS)


@settings(max_examples=30, **SETTINGS)  # type: ignore[arg-type]
@given(geoids=geoid_sets(), threshold=THRESHOLDS, weights=weights_st)
def test_torch_engine_equals_reference(
    geoids: list[Geoid], threshold: float, weights: TensionWeights
) -> None:
    """The device path (float64 cos GEMM, K·Kᵀ key overlaps, indicator and sign products) run on CPU
    through torch."""
    assert_same(geoids, threshold, weights, TORCH_CPU)


@settings(max_examples=25, **SETTINGS)  # type: ignore[arg-type]
@given(geoids=geoid_sets(), data=st.data())
def test_thresholds_straddling_a_pair(geoids: list[Geoid], data: st.DataObject) -> None:
    """Thresholds at, just above and just below an actual tension (within 1e-6) are decided exactly."""
    ts = [r.tension for r in detect_tensions_reference(geoids, 0.0)]
    if not ts:
        return
    t = data.draw(st.sampled_from(ts))
    for thr in (t, t - 1e-7, t + 1e-7, np.nextafter(t, 2.0), np.nextafter(t, -1.0)):
        if 0.0 <= thr <= 1.0:
            assert_same(geoids, float(thr), TensionWeights(), CONFIGS[1], CONFIGS[3], TORCH_CPU)


@pytest.mark.parametrize("threshold", [0.3, 0.55])
def test_realistic_set_with_small_blocks(threshold: float) -> None:
    """200 encoder-shaped geoids, blocks of 48 (many tiles, ragged edges)."""
    geoids = synthetic_geoids(200, dim=32, seed=3)
    assert_same(
        geoids,
        threshold,
        TensionWeights(),
        {"backend": "numpy", "block_size": 48},
        {**TORCH_CPU, "block_size": 128},
    )


def test_columns_and_iterator_agree() -> None:
    geoids = synthetic_geoids(120, dim=16, seed=5)
    pairs = ContradictionEngine(backend="numpy", block_size=32).detect(geoids, 0.4)
    assert len(pairs) > 0
    rows = list(pairs)
    assert [(r.geoid_a, r.geoid_b) for r in rows] == [
        (geoids[i].geoid_id, geoids[j].geoid_id) for i, j in zip(pairs.i, pairs.j, strict=True)
    ]
    assert (pairs.i < pairs.j).all()
    order = np.lexsort((pairs.j, pairs.i))
    assert (order == np.arange(len(pairs))).all(), "pairs come in (i, j) order"
    assert np.allclose(pairs.tension, (pairs.E + pairs.L + pairs.S) / 3, atol=1e-15)


def test_threshold_and_dimension_errors() -> None:
    a = Geoid("a", embedding=[1.0, 0.0])
    b = Geoid("b", embedding=[1.0, 0.0, 0.0])
    with pytest.raises(GeoidError, match="dimension"):
        detect_tensions([a, b])
    for bad in (-0.1, 1.5, float("nan"), True):
        with pytest.raises(ValueError, match="threshold"):
            detect_tensions([a], bad)
    eng = ContradictionEngine(dim=3)
    with pytest.raises(GeoidError, match="dimension"):
        eng.detect([a, Geoid("c", embedding=[0.0, 1.0])])


def test_empty_and_single() -> None:
    assert len(detect_tensions([])) == 0
    assert len(detect_tensions([Geoid("x")])) == 0


@pytest.mark.parametrize("dense_fraction", [0.0, 2.0])
def test_output_grows_when_the_density_is_underestimated(
    monkeypatch: pytest.MonkeyPatch, dense_fraction: float
) -> None:
    """The output starts from the sampled density; a wrong estimate only costs a reallocation."""
    from kimera.cognition import engine

    monkeypatch.setattr(engine.kernels, "sample_density", lambda *args: 0.0)
    geoids = synthetic_geoids(150, dim=8, seed=2)
    got = detect_tensions(geoids, 0.3, backend="numpy", block_size=16, dense_fraction=dense_fraction)
    ref = detect_tensions_reference(geoids, 0.3)
    assert len(ref) > 2048
    assert [(g.geoid_a, g.geoid_b) for g in got] == [(r.geoid_a, r.geoid_b) for r in ref]
    assert max(abs(g.tension - r.tension) for g, r in zip(got, ref, strict=True)) <= 1e-9


def test_device_over_budget_falls_back_only_for_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    """A device that cannot hold the matrices: 'torch' asked for explicitly raises a clear MemoryError;
    'auto' (which chose the device for the caller) answers with the numpy engine and counts it."""
    from kimera.cognition import torch_strips

    geoids = synthetic_geoids(60, dim=16, seed=3)
    want = detect_tensions(geoids, 0.4, backend="numpy")
    monkeypatch.setattr(torch_strips, "_DENSE_BUDGET", 1)
    explicit = ContradictionEngine(backend="torch", device="cpu")
    with pytest.raises(MemoryError, match="dense matrices"):
        explicit.detect(geoids, 0.4)
    auto = ContradictionEngine(backend="torch", device="cpu")
    auto.fallback = True  # what backend='auto' sets when it picked the GPU
    got = auto.detect(geoids, 0.4)
    assert auto.fell_back == 1
    assert np.array_equal(got.i, want.i) and np.array_equal(got.j, want.j)
    assert np.array_equal(got.tension, want.tension)
