"""A tiny registry: domain packages declare benchmarks with `@benchmark("name")` in their `bench.py`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BENCH_MODULES: tuple[str, ...] = (
    "kimera.book.bench",
    "kimera.cognition.bench",
    "kimera.venues.bench",
    "kimera.decision.bench",
    "kimera.risk.bench",
    "kimera.execution.bench",
    "kimera.portfolio.bench",
    "kimera.storage.bench",
    "kimera.ml.bench",
)


@dataclass
class BenchResult:
    """One measurement row: the project's figure, the baseline's, their ratio and the goal."""

    name: str
    metric: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    goal: str | None = None
    goal_met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Speed-up over the baseline (how many times better), orientation given by the unit."""
        if self.baseline_value is None or self.baseline_value == 0 or self.value == 0:
            return None
        lower_is_better = self.unit in {"s", "ms", "us", "ns", "bytes", "MB"}
        return self.baseline_value / self.value if lower_is_better else self.value / self.baseline_value


BenchFn = Callable[[], list[BenchResult]]
_REGISTRY: dict[str, BenchFn] = {}


def benchmark(name: str) -> Callable[[BenchFn], BenchFn]:
    """Register a benchmark function returning a list of `BenchResult` rows."""

    def deco(fn: BenchFn) -> BenchFn:
        if name in _REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        _REGISTRY[name] = fn
        return fn

    return deco


def registered() -> dict[str, BenchFn]:
    """Import every benchmark module and return the registry (name -> function)."""
    import importlib

    for mod in BENCH_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name is not None and mod.startswith(exc.name):
                continue
            raise
    return dict(_REGISTRY)


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    """Best wall time in seconds of `number` calls, over `repeat` tries (the least noisy estimate)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best
