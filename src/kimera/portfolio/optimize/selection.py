"""Quantum-inspired K-of-N selection: anneal the QUBO, check it against enumeration, weight the winners.

The annealed state is the best of the reads; if no read ended feasible (never seen with the default
schedule) it is repaired greedily to Σx = K and the repair is reported. For N ≤ EXACT_MAX_N and at most
EXACT_MAX_SUBSETS subsets the exact optimum is computed too and the optimality gap reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from math import comb

import numpy as np
from numpy.typing import NDArray

from kimera.portfolio.optimize.anneal import DEFAULT_READS, DEFAULT_SWEEPS, anneal
from kimera.portfolio.optimize.qubo import EXACT_MAX_N, SelectionQubo, build_selection_qubo, exact_selection

EXACT_MAX_SUBSETS = 2_000_000  # enumeration cost: ~0.5 s at this size


@dataclass(frozen=True)
class Selection:
    """The chosen assets (sorted indices), their objective g, and how they were found."""

    indices: NDArray[np.int64]
    objective: float
    feasible_reads: int
    reads: int
    repaired: bool
    anneal_seconds: float
    exact_objective: float | None = None

    @property
    def gap(self) -> float | None:
        """Relative optimality gap (g* − g)/|g*| when the exact optimum is known."""
        if self.exact_objective is None:
            return None
        return (self.exact_objective - self.objective) / max(abs(self.exact_objective), 1e-300)


def repair(qubo: SelectionQubo, x: NDArray[np.int8]) -> NDArray[np.int8]:
    """Greedily drop or add the asset that costs least in g until exactly K are selected."""
    y = x.astype(np.int8).copy()
    while int(y.sum()) != qubo.k:
        adding = int(y.sum()) < qubo.k
        candidates = np.flatnonzero(y == (0 if adding else 1))
        scores = []
        for i in candidates:
            y[i] ^= 1
            scores.append(-qubo.energy(y))  # equal-size sets share the penalty: energy ranks them like g
            y[i] ^= 1
        y[candidates[int(np.argmax(scores))]] ^= 1
    return y


def select_assets(
    mu: NDArray[np.float64],
    sigma: NDArray[np.float64],
    k: int,
    risk_aversion: float = 1.0,
    reads: int = DEFAULT_READS,
    sweeps: int = DEFAULT_SWEEPS,
    seed: int = 0,
    exact: bool = True,
) -> Selection:
    """Anneal the selection QUBO (seeded); with `exact`, also enumerate when N and C(N, K) are small."""
    qubo = build_selection_qubo(mu, sigma, k, risk_aversion)
    t0 = time.perf_counter()
    result = anneal(qubo.q, k, reads, sweeps, seed)
    seconds = time.perf_counter() - t0
    feasible = result.states.sum(axis=1) == k
    if feasible.any():
        energies = np.where(feasible, result.energies, np.inf)
        x = result.states[int(np.argmin(energies))]
        repaired = False
    else:
        x, repaired = repair(qubo, result.best()[0]), True
    idx = np.flatnonzero(x).astype(np.int64)
    exact_obj = None
    n = qubo.n
    if exact and n <= EXACT_MAX_N and comb(n, k) <= EXACT_MAX_SUBSETS:
        best_idx, _ = exact_selection(mu, sigma, k, risk_aversion)
        x_best = np.zeros(n)
        x_best[best_idx] = 1.0
        exact_obj = qubo.objective(x_best)  # same arithmetic as the annealed objective: a tie gaps 0.0
    return Selection(idx, qubo.objective(x), int(feasible.sum()), reads, repaired, seconds, exact_obj)
