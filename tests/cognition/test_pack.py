"""Packing from the key ids cached on each geoid: vocabulary generations, sparse ids, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kimera.cognition import Geoid, detect_tensions, detect_tensions_reference, pack, vocab
from kimera.cognition.geoid import SymbolicValue
from kimera.cognition.synth import synthetic_geoids


def pairs_equal(geoids: list[Geoid], threshold: float) -> None:
    got = detect_tensions(geoids, threshold, backend="numpy", block_size=7)
    ref = detect_tensions_reference(geoids, threshold)
    assert [(g.geoid_a, g.geoid_b) for g in got] == [(r.geoid_a, r.geoid_b) for r in ref]
    for g, r in zip(got, ref, strict=True):
        assert abs(g.tension - r.tension) <= 1e-9 and g.L == r.L and g.S == r.S


def test_geoids_from_older_vocabulary_generations_pack_correctly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vocab, "LIMIT", 8)
    gen0 = vocab.current().gen
    geoids = []
    for i in range(40):  # unique strings roll the vocabulary over every few geoids
        sym: dict[str, SymbolicValue] = {
            "k": f"unique-{i}",
            "same": "Up" if i % 2 else "UP",
            "dir": 1 if i % 3 else -1,
        }
        geoids.append(Geoid(f"g{i}", {f"s{i % 5}": 1.0, "common": 2.0}, sym, np.array([1.0, i % 4, 0.5])))
    assert vocab.current().gen > gen0 + 2
    assert len({g.packed_keys[0] for g in geoids}) > 2
    for thr in (0.0, 0.3, 0.5):
        pairs_equal(geoids, thr)
        pairs_equal(geoids[::-1], thr)


def test_sparse_ids_take_the_same_path_as_dense() -> None:
    rng = np.random.default_rng(3)
    lens = rng.integers(0, 6, 50)
    ids = np.concatenate([np.sort(rng.choice(30, k, replace=False)) for k in lens]).astype(np.int32)
    dense = pack._rows(50, lens, ids)
    sparse = pack._rows(50, lens, ids * 100_000 + 7)  # forces np.unique (ids far beyond their count)
    assert dense[3] == sparse[3]
    for k in range(3):
        assert np.array_equal(dense[k], sparse[k])


def test_interning_from_threads_keeps_ids_unique() -> None:
    voc = vocab.current()
    names = [[f"thread-{t}-key-{k}" for k in range(300)] for t in range(8)]
    out: dict[int, np.ndarray] = {}

    def work(t: int) -> None:
        out[t] = vocab.intern(voc, voc.keys, names[t])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ids = np.concatenate([out[t] for t in range(8)])
    assert len(set(ids.tolist())) == ids.size
    assert sorted(voc.keys.values()) == list(range(len(voc.keys)))


def test_packed_keys_match_the_dicts() -> None:
    for g in synthetic_geoids(30, dim=8, seed=2):
        gen, sem, sym = g.packed_keys
        voc = vocab.current()
        assert gen == voc.gen
        assert sorted(sem.tolist()) == sem.tolist() == sorted(voc.keys[k] for k in g.semantic_state)
        assert sym[:, 0].tolist() == sorted(voc.keys[k] for k in g.symbolic_state)
