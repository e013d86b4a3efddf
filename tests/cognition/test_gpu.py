"""The CUDA paths (run only where a GPU is present): the exact torch engine on the device and fp16/fp32 pools."""

from __future__ import annotations

import numpy as np
import pytest

from kimera.cognition import ContradictionEngine, FieldStore, detect_tensions_reference
from kimera.cognition.engine import cuda_available
from kimera.cognition.synth import synthetic_geoids

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU")]


@pytest.mark.parametrize("threshold", [0.35, 0.5])
def test_cuda_engine_equals_reference(threshold: float) -> None:
    geoids = synthetic_geoids(400, dim=64, seed=9)
    ref = detect_tensions_reference(geoids, threshold)
    eng = ContradictionEngine(backend="auto", block_size=128)
    assert eng.backend == "torch" and (eng.device or "").startswith("cuda")
    got = list(eng.detect(geoids, threshold))
    assert [(g.geoid_a, g.geoid_b) for g in got] == [(r.geoid_a, r.geoid_b) for r in ref]
    assert max(abs(g.tension - r.tension) for g, r in zip(got, ref, strict=True)) < 1e-9


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_cuda_field_store_scan_equals_faiss(dtype: str) -> None:
    rng = np.random.default_rng(4)
    emb = (
        rng.standard_normal((5, 32))[rng.integers(0, 5, 2000)] + 0.3 * rng.standard_normal((2000, 32))
    ).astype(np.float32)
    store = FieldStore(32, capacity=64, device="cuda", dtype=dtype)
    store.add_batch([f"f{i}" for i in range(2000)], emb)
    for thr in (0.3, 0.7, 0.9):
        assert store.neighbours("f10", thr) == store.neighbours("f10", thr, method="faiss")
