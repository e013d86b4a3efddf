"""Field store: slot reuse, doubling, properties against numpy's FFT, exact neighbours (scan == FAISS)."""

from __future__ import annotations

import numpy as np
import pytest

from kimera.cognition import FieldStore
from kimera.cognition.field_math import field_properties


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, dim))
    emb = centres[rng.integers(0, 6, n)] + 0.4 * rng.standard_normal((n, dim))
    emb[:3] = 0.0  # zero vectors: cos 0 with everything
    return emb.astype(np.float32)


def brute_force(store: FieldStore, fid: str, thr: float) -> dict[str, float]:
    """Score every other live field in float64 straight from the definition."""
    q = store.embedding(fid).astype(np.float64)
    fq = store.state(fid).frequency
    out = {}
    for other in list(store._slot):
        if other == fid:
            continue
        v = store.embedding(other).astype(np.float64)
        den = np.linalg.norm(v) * np.linalg.norm(q)
        cos = float(v @ q / den) if den > 0 else 0.0
        s = 0.7 * cos + 0.3 / (1 + abs(store.state(other).frequency - fq))
        if s >= thr:
            out[other] = s
    return out


def test_properties_match_numpy_fft() -> None:
    rng = np.random.default_rng(0)
    for d in (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 17, 18, 20, 383, 384, 386):
        e = rng.standard_normal((9, d)).astype(np.float32)
        e[0] = 0.0
        strength, freq, phase = field_properties(e)
        e64 = e.astype(np.float64)
        n = np.linalg.norm(e64, axis=1)
        u = e64 / np.where(n > 0, n, 1)[:, None]
        assert np.allclose(strength, n, rtol=1e-12, atol=0)
        assert np.allclose(
            freq, 1 + np.abs(np.fft.fft(u, axis=1))[:, :10].sum(axis=1), rtol=1e-12, atol=1e-12
        )
        assert np.allclose(
            phase, np.arctan2(u[:, : d // 2].sum(1), u[:, d // 2 :].sum(1)), rtol=0, atol=1e-12
        )
        assert (strength[0], freq[0], phase[0]) == (0.0, 1.0, 0.0)


def test_allocate_free_reuse_and_doubling() -> None:
    store = FieldStore(4, capacity=2)
    emb = np.eye(4, dtype=np.float32)
    states = store.add_batch(["a", "b", "c"], emb[:3])
    assert store.capacity == 4 and store.grows == 1 and states.slots.tolist() == [0, 1, 2]
    store.remove("b")
    assert "b" not in store and len(store) == 2
    assert store.add("d", emb[3]).slot == 1  # the freed slot is reused
    store.add_batch(["e", "f"], emb[:2])
    assert store.capacity == 8 and store.grows == 2  # only doubling, never per insert
    with pytest.raises(KeyError, match="duplicate"):
        store.add("a", emb[0])
    with pytest.raises(ValueError, match="NaN"):
        store.add("z", [np.nan, 0, 0, 0])
    with pytest.raises(ValueError, match="dimension"):
        store.add("z", [1.0, 2.0])
    assert np.array_equal(store.embedding("d"), emb[3])


@pytest.mark.parametrize("pool", [{}, {"device": "cpu"}, {"device": "cpu", "dtype": "float16"}])
def test_neighbours_exact_scan_equals_faiss_equals_brute_force(pool: dict[str, str]) -> None:
    emb = clustered(400, 24, seed=1)
    store = FieldStore(24, capacity=16, **pool)
    store.add_batch([f"f{i}" for i in range(400)], emb)
    for i in range(0, 400, 7):  # churn: free slots, then reuse them
        store.remove(f"f{i}")
    store.add_batch([f"g{i}" for i in range(30)], emb[:30] * 2.0)
    for thr in (-1.0, 0.1, 0.35, 0.6, 0.9):
        for fid in ("f1", "g0", "f200", "g5"):
            scan = store.neighbours(fid, thr)
            faiss = store.neighbours(fid, thr, method="faiss")
            assert scan == faiss
            expected = brute_force(store, fid, thr)
            assert {n.field_id for n in scan} == set(expected)
            for n in scan:
                assert abs(n.score - expected[n.field_id]) < 1e-12
            assert [n.score for n in scan] == sorted((n.score for n in scan), reverse=True)
    top = store.neighbours("f1", 0.0, top_k=5)
    assert top == store.neighbours("f1", 0.0)[:5] and len(top) == 5
    near = store.search(store.embedding("f5"), 0.5)  # a query vector is not a field: f5 itself comes first
    assert near[0].field_id == "f5" and near[0].cos == pytest.approx(1.0)


def test_large_batch_on_the_pool_matches_single_adds_and_rejects_duplicates() -> None:
    """A batch big enough to run on the pool threads (the id map is built meanwhile): the states of
    one-by-one adds (to 1e-12), and a duplicate id (in the batch or already stored) leaves the store unchanged."""
    rng = np.random.default_rng(5)
    n, d = 5000, 24
    emb = rng.standard_normal((n, d)).astype(np.float32)
    ids = [f"g{i}" for i in range(n)]
    store = FieldStore(d, capacity=8)
    states = store.add_batch(ids, emb)
    assert states.slots.tolist() == list(range(n)) and len(store) == n
    single = FieldStore(d)
    for k in (0, 1, n // 2, n - 1):
        s = single.add(ids[k], emb[k])
        got = (states.strength[k], states.frequency[k], states.phase[k])
        assert np.allclose((s.strength, s.frequency, s.phase), got, rtol=1e-12, atol=1e-12)
        assert store.state(ids[k]).slot == k and np.array_equal(store.embedding(ids[k]), emb[k])
    more = [f"h{i}" for i in range(n)]
    for bad in ([*more[:-1], "h0"], [*more[:-1], "g7"]):
        with pytest.raises(KeyError, match="duplicate"):
            store.add_batch(bad, emb)
        assert len(store) == n and "h1" not in store
    assert sorted(store.add_batch(more, emb).slots.tolist()) == list(range(n, 2 * n))  # no slot was lost
