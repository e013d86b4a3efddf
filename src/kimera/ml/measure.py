"""Serialised size and single-thread latency (median of many calls), measured the same way for every variant."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable, Mapping

import torch
from torch import nn


def torch_size_bytes(model: nn.Module) -> int:
    """Bytes of `torch.save(model.state_dict())`: what shipping the weights costs."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def median_latency_s(call: Callable[[], object], runs: int, warmup: int = 50) -> float:
    """Median wall time of one call over `runs` timed calls after `warmup` untimed ones."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    for _ in range(warmup):
        call()
    clock = time.perf_counter_ns
    times = []
    for _ in range(runs):
        t0 = clock()
        call()
        times.append(clock() - t0)
    return statistics.median(times) / 1e9


def interleaved_latency_s(calls: Mapping[str, Callable[[], object]], runs: int, rounds: int = 5, warmup: int = 50) -> dict[str, float]:
    """Per call: the lowest of `rounds` medians, each over `runs // rounds` calls, with the calls taken in
    turn each round so that load from other processes falls on all of them alike."""
    if rounds < 1 or runs < rounds:
        raise ValueError(f"need rounds >= 1 and runs >= rounds, got runs={runs} rounds={rounds}")
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            best[name] = min(best[name], median_latency_s(call, runs // rounds, warmup))
    return best
