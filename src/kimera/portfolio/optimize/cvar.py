"""Minimum conditional value-at-risk (expected shortfall) of daily losses: the Rockafellar-Uryasev LP.

CVaR_β(w) = min_α α + 1/((1−β)·T) · Σ_t max(0, −r_tᵀw − α) over the T historical return scenarios;
the minimiser α is the VaR_β. Bounds and groups apply as for the QP family.
"""

from __future__ import annotations

from functools import lru_cache

import cvxpy as cp
import numpy as np

from kimera.portfolio.optimize.constraints import Resolved, finish_weights
from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import InfeasibleError
from kimera.portfolio.optimize.solver import DEFAULT_SOLVER, solve

DEFAULT_BETA = 0.95


@lru_cache(maxsize=8)
def _compile(t: int, n: int, m: int) -> tuple[cp.Problem, cp.Variable, cp.Variable, dict[str, cp.Parameter]]:
    """The LP for T scenarios, N assets and m groups, data as Parameters."""
    w, alpha, u = cp.Variable(n), cp.Variable(), cp.Variable(t, nonneg=True)
    p = {
        "scenarios": cp.Parameter((t, n)),
        "scale": cp.Parameter(nonneg=True),
        "lower": cp.Parameter(n, nonneg=True),
        "upper": cp.Parameter(n, nonneg=True),
    }
    cons = [u >= -(p["scenarios"] @ w) - alpha, cp.sum(w) == 1, w >= p["lower"], w <= p["upper"]]
    if m:
        p["groups"], p["glo"], p["ghi"] = cp.Parameter((m, n), nonneg=True), cp.Parameter(m), cp.Parameter(m)
        cons += [p["groups"] @ w >= p["glo"], p["groups"] @ w <= p["ghi"]]
    problem = cp.Problem(cp.Minimize(alpha + p["scale"] * cp.sum(u)), cons)
    return problem, w, alpha, p


def solve_min_cvar(
    scenarios: FloatArray, limits: Resolved, beta: float = DEFAULT_BETA, solver: str = DEFAULT_SOLVER
) -> tuple[FloatArray, float, str, float]:
    """Weights minimising CVaR_β of the daily loss; returns (w, seconds, status, cvar as a positive loss)."""
    if not 0.0 < beta < 1.0:
        raise InfeasibleError(f"CVaR confidence β must be in (0, 1), got {beta}")
    t, n = scenarios.shape
    m = limits.group_matrix.shape[0]
    problem, w, _, p = _compile(t, n, m)
    p["scenarios"].value = scenarios
    p["scale"].value = 1.0 / ((1.0 - beta) * t)
    p["lower"].value, p["upper"].value = limits.lower, limits.upper
    if m:
        p["groups"].value, p["glo"].value, p["ghi"].value = (
            limits.group_matrix,
            limits.group_lower,
            limits.group_upper,
        )
    seconds, status = solve(problem, solver)
    if w.value is None:
        raise InfeasibleError("CVaR: solver returned no weights")
    weights = finish_weights(w.value, limits)
    return weights, seconds, status, cvar_of(scenarios @ weights, beta)


def cvar_of(portfolio_returns: FloatArray, beta: float = DEFAULT_BETA) -> float:
    """Empirical CVaR_β of the loss −r (Rockafellar-Uryasev value at the optimal α = VaR_β)."""
    losses = -np.asarray(portfolio_returns, dtype=np.float64)
    t = losses.shape[0]
    alpha = float(np.quantile(losses, beta, method="inverted_cdf"))
    return alpha + float(np.maximum(losses - alpha, 0.0).sum()) / ((1.0 - beta) * t)
