"""Cardinality-constrained asset selection as a QUBO, its penalty strength, and the exact optimum.

Choose x ∈ {0,1}^N with Σx = K maximising the equal-weight objective
    g(x) = μᵀx/K − λ·xᵀΣx/K²            (return − λ·variance of the 1/K-weighted portfolio).
As a QUBO to minimise: E(x) = −g(x) + P·(Σx − K)² = xᵀQx + P·K².

Penalty strength. Let D be the largest change of g from adding or removing one asset, over all sets:
    D = max_i max(|a_i + b·pos_i|, |a_i + b·neg_i|),  a_i = −μ_i/K + λΣ_ii/K², b = 2λ/K²,
with pos_i / neg_i the sums of the positive / negative off-diagonal Σ_ij. From any x with Σx = K + m
(m ≠ 0), |m| single flips reach a feasible x' with −g(x') ≤ −g(x) + |m|·D < −g(x) + P·m² whenever P > D,
so every infeasible state has a feasible one of strictly lower energy: the QUBO's ground state is the
constrained optimum. We use P = PENALTY_MARGIN·D: just above the bound, because a larger P only raises the
barriers single-flip annealing must cross between feasible states (measured in docs/optimisation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numba as nb
import numpy as np
from numpy.typing import NDArray

from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import InfeasibleError, InsufficientDataError

PENALTY_MARGIN = 1.05
EXACT_MAX_N = 25


@dataclass(frozen=True)
class SelectionQubo:
    """A symmetric Q (energy xᵀQx + offset, linear terms on the diagonal) and the problem it encodes."""

    q: FloatArray
    offset: float
    penalty: float
    k: int
    mu: FloatArray
    sigma: FloatArray
    risk_aversion: float

    @property
    def n(self) -> int:
        """Number of assets."""
        return int(self.mu.shape[0])

    def energy(self, x: NDArray[np.integer] | FloatArray) -> float:
        """xᵀQx + offset."""
        xf = np.asarray(x, dtype=np.float64)
        return float(xf @ self.q @ xf + self.offset)

    def objective(self, x: NDArray[np.integer] | FloatArray) -> float:
        """g(x) = μᵀx/K − λ·xᵀΣx/K² (to maximise; meaningful for feasible x)."""
        return selection_objective(
            self.mu, self.sigma, np.asarray(x, dtype=np.float64), self.k, self.risk_aversion
        )

    def as_dict(self) -> dict[tuple[int, int], float]:
        """Upper-triangular {(i, j): coefficient} QUBO for dimod / dwave-samplers (same energies − offset)."""
        n = self.n
        out = {(i, i): float(self.q[i, i]) for i in range(n)}
        for i in range(n):
            for j in range(i + 1, n):
                out[(i, j)] = float(2.0 * self.q[i, j])
        return out


def selection_objective(
    mu: FloatArray, sigma: FloatArray, x: FloatArray, k: int, risk_aversion: float
) -> float:
    """μᵀx/K − λ·xᵀΣx/K²."""
    return float(mu @ x / k - risk_aversion * (x @ sigma @ x) / (k * k))


def check_selection(n: int, k: int, risk_aversion: float) -> None:
    """Reject K outside 1..N and a negative λ with a clear message."""
    if n < 1:
        raise InsufficientDataError("no assets to select from")
    if not 1 <= k <= n:
        raise InfeasibleError(f"K = {k} assets cannot be chosen from N = {n}: need 1 ≤ K ≤ N")
    if risk_aversion < 0:
        raise InfeasibleError(f"risk aversion must be ≥ 0, got {risk_aversion}")


def penalty_bound(mu: FloatArray, sigma: FloatArray, k: int, risk_aversion: float) -> float:
    """D of the module docstring: the largest one-asset change of g over all sets."""
    off = sigma - np.diag(np.diag(sigma))
    a = -mu / k + risk_aversion * np.diag(sigma) / (k * k)
    b = 2.0 * risk_aversion / (k * k)
    pos = np.clip(off, 0.0, None).sum(axis=1)
    neg = np.clip(off, None, 0.0).sum(axis=1)
    return float(np.max(np.maximum(np.abs(a + b * pos), np.abs(a + b * neg))))


def build_selection_qubo(
    mu: FloatArray, sigma: FloatArray, k: int, risk_aversion: float, penalty: float | None = None
) -> SelectionQubo:
    """The QUBO of the module docstring; `penalty` defaults to PENALTY_MARGIN·D (and must exceed D)."""
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    n = mu.shape[0]
    check_selection(n, k, risk_aversion)
    bound = penalty_bound(mu, sigma, k, risk_aversion)
    p = PENALTY_MARGIN * bound if penalty is None else float(penalty)
    q = risk_aversion * sigma / (k * k) + p
    q[np.diag_indices(n)] = -mu / k + risk_aversion * np.diag(sigma) / (k * k) + p - 2.0 * p * k
    return SelectionQubo(q, p * k * k, p, k, mu, sigma, risk_aversion)


@nb.njit(cache=True)
def _enumerate(
    mu: FloatArray, sigma: FloatArray, k: int, lam: float
) -> tuple[NDArray[np.int64], float]:  # pragma: no cover - numba
    """Best K-subset by lexicographic enumeration of all C(N, K) combinations."""
    n = mu.shape[0]
    idx = np.arange(k)
    best = -np.inf
    best_idx = idx.copy()
    while True:
        ret = 0.0
        var = 0.0
        for a in range(k):
            ia = idx[a]
            ret += mu[ia]
            var += sigma[ia, ia]
            for b in range(a + 1, k):
                var += 2.0 * sigma[ia, idx[b]]
        g = ret / k - lam * var / (k * k)
        if g > best:
            best = g
            best_idx[:] = idx
        j = k - 1
        while j >= 0 and idx[j] == n - k + j:
            j -= 1
        if j < 0:
            break
        idx[j] += 1
        for m in range(j + 1, k):
            idx[m] = idx[m - 1] + 1
    return best_idx, best


def exact_selection(
    mu: FloatArray, sigma: FloatArray, k: int, risk_aversion: float
) -> tuple[NDArray[np.int64], float]:
    """The optimal K-subset (sorted indices) and its objective g, by enumeration; N ≤ EXACT_MAX_N."""
    n = int(np.asarray(mu).shape[0])
    check_selection(n, k, risk_aversion)
    if n > EXACT_MAX_N:
        raise InfeasibleError(
            f"exact enumeration is limited to N ≤ {EXACT_MAX_N} (C({n},{k}) = {comb(n, k):,})"
        )
    idx, best = _enumerate(
        np.ascontiguousarray(mu, dtype=np.float64),
        np.ascontiguousarray(sigma, dtype=np.float64),
        k,
        float(risk_aversion),
    )
    return idx, float(best)
