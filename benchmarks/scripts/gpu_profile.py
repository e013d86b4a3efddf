"""Where the torch engine's time goes at n = 1,000 on a CUDA machine (run by hand where a GPU is lent:
`python benchmarks/scripts/gpu_profile.py`); results are kept in benchmarks/results/gpu-h200-profile.txt."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from kimera.cognition import ContradictionEngine, Geoid
from kimera.cognition.synth import synthetic_geoids
from kimera.cognition.torch_strips import TorchStrips


def best_ms(fn: Callable[[], object], repeat: int = 15) -> float:
    """Best wall time of `repeat` calls, the device synchronised before and after each."""
    best = float("inf")
    for _ in range(repeat):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return round(best * 1e3, 2)


def profile(gpu: ContradictionEngine, cpu: ContradictionEngine, g: Sequence[Geoid], thr: float) -> str:
    """One line: end-to-end GPU and CPU times, then the GPU path's stages."""
    gpu.detect(g, thr)
    p = gpu.pack(g)
    ts = TorchStrips(p, gpu.weights, "cuda")
    return (
        f"thr {thr}: e2e gpu {best_ms(lambda: gpu.detect(g, thr))} ms, cpu {best_ms(lambda: cpu.detect(g, thr))} ms"
        f" | pack {best_ms(lambda: gpu.pack(g))} init {best_ms(lambda: TorchStrips(p, gpu.weights, 'cuda'))}"
        f" strip {best_ms(lambda: ts.strip(0, 1000, thr))} detect {best_ms(lambda: ts.detect(thr, 2048))}"
        f" packed-e2e {best_ms(lambda: gpu.detect(p, thr))}"
    )


def main() -> None:
    """Twice per threshold: the first pass also warms the caches."""
    g = synthetic_geoids(1000, dim=384, seed=7)
    gpu, cpu = ContradictionEngine(backend="torch", device="cuda"), ContradictionEngine(backend="numpy")
    for thr in (0.4, 0.6, 0.4, 0.6):
        print(profile(gpu, cpu, g, thr), flush=True)


if __name__ == "__main__":
    main()
