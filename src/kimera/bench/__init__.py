"""Benchmark registry and runner: every component measured against a baseline in the same run."""

from kimera.bench.registry import BenchResult, benchmark, registered

__all__ = ["BenchResult", "benchmark", "registered"]
