"""The full-system demo: emulated venues -> streams -> books -> consolidated book -> ensemble -> risk ->
smart routing -> simulated execution -> journal -> report."""

from kimera.demo.full import DemoSummary, run_demo

__all__ = ["DemoSummary", "run_demo"]
