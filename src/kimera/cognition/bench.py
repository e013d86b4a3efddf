"""Benchmarks: exact contradiction detection vs the pure-Python reference; field creation and inserts."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise

import numpy as np

from kimera.bench.registry import BenchResult, benchmark, best_of
from kimera.cognition.engine import ContradictionEngine
from kimera.cognition.field import FieldStore
from kimera.cognition.field_math import field_properties
from kimera.cognition.reference import detect_tensions_reference
from kimera.cognition.synth import synthetic_geoids

DIM = 384
REF_N = 200  # the reference is measured here and extrapolated by the pair count (n²)


SIZES = ((1_000, 10.0), (10_000, 1000.0))  # (geoids, goal in ms) of the two detection goals
THRESHOLDS = (0.4, 0.6)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _detect_row(
    name: str, metric: str, seconds: float, baseline: str, baseline_seconds: float, goal_ms: float,
    extra: dict[str, object],
) -> BenchResult:
    """One detection timing (ms) against its baseline and the goal for its size."""
    return BenchResult(
        name=name, metric=metric, value=seconds * 1e3, unit="ms", baseline=baseline,
        baseline_value=baseline_seconds * 1e3, goal=f"<= {goal_ms:g} ms", goal_met=seconds * 1e3 <= goal_ms,
        extra=extra,
    )


@benchmark("cognition.tensions")
def bench_tensions() -> list[BenchResult]:
    """Every pair above the threshold for 1,000 and 10,000 geoids (d = 384), end to end from Geoid objects."""
    geoids = synthetic_geoids(10_000, dim=DIM, seed=7)
    engine = ContradictionEngine(backend="numpy")
    small = geoids[:REF_N]
    t0 = time.perf_counter()
    ref = detect_tensions_reference(small, 0.4)
    ref_s = time.perf_counter() - t0
    got = engine.detect(small, 0.4)
    same = {(g.geoid_a, g.geoid_b) for g in got} == {(r.geoid_a, r.geoid_b) for r in ref}
    worst = max((abs(a.tension - b.tension) for a, b in zip(got, ref, strict=False)), default=0.0)
    per_pair = ref_s / _pairs(REF_N)
    rows = []
    for n, goal_ms in SIZES:
        subset = geoids[:n]
        packed = engine.pack(subset)
        for thr in THRESHOLDS:
            pairs = len(engine.detect(packed, thr))
            repeat = 5 if n <= 1000 else 3
            e2e = best_of(lambda s=subset, t=thr: engine.detect(s, t), repeat=repeat)  # type: ignore[misc]
            core = best_of(lambda p=packed, t=thr: engine.detect(p, t), repeat=repeat)  # type: ignore[misc]
            c0 = time.process_time()
            engine.detect(subset, thr)
            cpu = time.process_time() - c0  # CPU seconds of all threads: less sensitive to a shared machine
            extra: dict[str, object] = {
                "n": n,
                "threshold": thr,
                "pairs": pairs,
                "packed_ms": core * 1e3,
                "cpu_ms_all_threads": cpu * 1e3,
                "pack_ms": (e2e - core) * 1e3,
                "reference_equal_at_200": same,
                "reference_max_abs_diff": worst,
            }
            baseline = f"pure-Python reference ({'measured' if n == REF_N else f'n={REF_N} x n²'})"
            rows.append(_detect_row("cognition.tensions", f"detect n={n:,} d={DIM} thr={thr} ({pairs:,} pairs)", e2e,
                                    baseline, per_pair * _pairs(n), goal_ms, extra))
    return rows


def _concat_inserts(emb: np.ndarray) -> float:
    """Seconds for the naive store: concatenate the whole matrix on every insert (O(n²) copying)."""
    t0 = time.perf_counter()
    mat = np.zeros((0, emb.shape[1]), dtype=np.float32)
    for row in emb:
        mat = np.concatenate([mat, row[None, :]])
        field_properties(row[None, :])
    return time.perf_counter() - t0


@benchmark("cognition.field")
def bench_field() -> list[BenchResult]:
    """Batched field creation (fields/s) and 100,000 one-by-one inserts (O(n)) vs concatenate-per-insert."""
    rng = np.random.default_rng(11)
    n = 100_000
    emb = rng.standard_normal((n, DIM)).astype(np.float32)
    ids = [f"f{i}" for i in range(n)]

    def batch() -> None:
        FieldStore(DIM).add_batch(ids, emb)

    t_batch = best_of(batch, repeat=3)
    t_states = best_of(lambda: field_properties(emb), repeat=3)  # the states alone, no store
    t_seq_small = _one_by_one(emb[:10_000], ids[:10_000])
    rows = [
        BenchResult(
            name="cognition.field",
            metric=f"batched creation, {n:,} fields d={DIM}",
            value=n / t_batch,
            unit="fields/s",
            baseline="one-by-one add",
            baseline_value=10_000 / t_seq_small,
            goal=">= 1,000,000 fields/s",
            goal_met=n / t_batch >= 1e6,
            extra={
                "note": "new store each time: slot allocation and copy, the id map and every state",
                "states_only_fields_per_s": n / t_states,
            },
        )
    ]
    checkpoints = (25_000, 50_000, 100_000)
    store = FieldStore(DIM)
    marks = {}
    t0 = time.perf_counter()
    for i in range(n):
        store.add(ids[i], emb[i])
        if i + 1 in checkpoints:
            marks[i + 1] = time.perf_counter() - t0
    # cost per insert within each segment (0–25k, 25k–50k, 50k–100k): flat means O(n) in total
    edges = [0, *checkpoints]
    per_insert_us = {f"{a}-{b}": (marks[b] - marks.get(a, 0.0)) / (b - a) * 1e6 for a, b in pairwise(edges)}
    sizes = (500, 1000, 2000)
    naive = {m: _concat_inserts(emb[:m]) for m in sizes}
    # fit t = a·m + b·m² on the measured sizes, extrapolate to n
    a_mat = np.array([[m, m * m] for m in sizes], dtype=np.float64)
    coef, *_ = np.linalg.lstsq(a_mat, np.array([naive[m] for m in sizes]), rcond=None)
    naive_n = float(coef[0] * n + coef[1] * n * n)
    rows.append(
        BenchResult(
            name="cognition.field",
            metric=f"{n:,} one-by-one inserts (total)",
            value=marks[n],
            unit="s",
            baseline=f"concatenate per insert (measured n={sizes}, fitted a·n+b·n²)",
            baseline_value=naive_n,
            goal="O(n): flat cost per insert",
            goal_met=per_insert_us[f"{checkpoints[1]}-{n}"] <= 2.0 * per_insert_us[f"0-{checkpoints[0]}"],
            extra={"per_insert_us": per_insert_us, "naive_s": naive, "grows": store.grows},
        )
    )
    for method in ("exact", "faiss"):
        store.neighbours(ids[0], 0.6, method=method)  # builds the FAISS index once
        t = best_of(lambda m=method: store.neighbours(ids[1], 0.6, top_k=10, method=m), repeat=5)  # type: ignore[misc]
        rows.append(
            BenchResult(
                name="cognition.field",
                metric=f"neighbour query over {n:,} fields ({method}, thr 0.6, top 10)",
                value=t * 1e3,
                unit="ms",
            )
        )
    return rows


def _one_by_one(emb: np.ndarray, ids: list[str]) -> float:
    store = FieldStore(emb.shape[1])
    t0 = time.perf_counter()
    for i, e in zip(ids, emb, strict=True):
        store.add(i, e)
    return time.perf_counter() - t0


@benchmark("cognition.cuda")
def bench_cuda() -> list[BenchResult]:
    """Where a CUDA GPU is present (never in CI): the torch engine and the GPU field pool against the numpy
    engine and the CPU pool in the same run; no rows without one."""
    from kimera.cognition.engine import cuda_available

    if not cuda_available():
        return []
    import torch

    def synced(fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            fn()
            torch.cuda.synchronize()

        return run

    geoids = synthetic_geoids(10_000, dim=DIM, seed=7)
    cpu, gpu = ContradictionEngine(backend="numpy"), ContradictionEngine(backend="torch", device="cuda")
    device_name = torch.cuda.get_device_name()
    rows = []
    for n, goal_ms in SIZES:
        subset = geoids[:n]
        for thr in THRESHOLDS:
            want, got = cpu.detect(subset, thr), gpu.detect(subset, thr)
            same = bool(np.array_equal(want.i, got.i) and np.array_equal(want.j, got.j))
            worst = float(np.max(np.abs(want.tension - got.tension), initial=0.0)) if same else None
            t_cpu = best_of(lambda s=subset, t=thr: cpu.detect(s, t), repeat=3)  # type: ignore[misc]
            t_gpu = best_of(synced(lambda s=subset, t=thr: gpu.detect(s, t)), repeat=5)  # type: ignore[misc]
            rows.append(_detect_row(
                "cognition.cuda", f"detect n={n:,} d={DIM} thr={thr} on {device_name} ({len(got):,} pairs)", t_gpu,
                f"numpy engine on this machine's {torch.get_num_threads()} CPU threads", t_cpu, goal_ms,
                {"same_pairs_as_numpy": same, "max_abs_diff_vs_numpy": worst},
            ))
    rng = np.random.default_rng(11)
    n = 100_000
    emb = rng.standard_normal((n, DIM)).astype(np.float32)
    ids = [f"f{i}" for i in range(n)]
    t_cpu = best_of(lambda: FieldStore(DIM).add_batch(ids, emb), repeat=3)
    for dtype in ("float32", "float16"):
        t_gpu = best_of(
            synced(lambda d=dtype: FieldStore(DIM, device="cuda", dtype=d).add_batch(ids, emb)),  # type: ignore[misc]
            repeat=3,
        )
        rows.append(
            BenchResult(
                name="cognition.cuda",
                metric=f"batched creation, {n:,} fields d={DIM}, {dtype} pool on {device_name}",
                value=n / t_gpu,
                unit="fields/s",
                baseline="CPU float32 pool, same run",
                baseline_value=n / t_cpu,
                goal=">= 1,000,000 fields/s",
                goal_met=n / t_gpu >= 1e6,
            )
        )
    return rows
