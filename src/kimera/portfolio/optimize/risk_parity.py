"""Risk parity (equal or budgeted risk contributions) through its convex log-barrier form.

minimise ½·yᵀΣy − Σ b_i·log y_i over y > 0; at the optimum y_i·(Σy)_i = b_i, so w = y / Σy has risk
contributions w_i·(Σw)_i / wᵀΣw = b_i / Σb exactly. cvxpy (Clarabel, exponential cones) solves it to
~1e-8; a few damped Newton steps on the same smooth objective then bring the contributions to round-off.
"""

from __future__ import annotations

from functools import lru_cache

import cvxpy as cp
import numpy as np

from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import InfeasibleError
from kimera.portfolio.optimize.estimators import Moments
from kimera.portfolio.optimize.solver import DEFAULT_SOLVER, solve

NEWTON_STEPS = 30


@lru_cache(maxsize=16)
def _compile(
    n: int, k: int, specific: bool
) -> tuple[cp.Problem, cp.Variable, cp.Parameter, cp.Parameter | None, cp.Parameter]:
    """The log-barrier problem for N assets and a k-row covariance root."""
    y = cp.Variable(n, pos=True)
    root = cp.Parameter((k, n))
    sd = cp.Parameter(n, nonneg=True) if specific else None
    budgets = cp.Parameter(n, nonneg=True)
    risk = cp.sum_squares(root @ y)
    if sd is not None:
        risk = risk + cp.sum_squares(cp.multiply(sd, y))
    problem = cp.Problem(cp.Minimize(0.5 * risk - budgets @ cp.log(y)))
    return problem, y, root, sd, budgets


def _objective(sigma: FloatArray, b: FloatArray, y: FloatArray) -> float:
    """½·yᵀΣy − bᵀ·log y."""
    return float(0.5 * y @ sigma @ y - b @ np.log(y))


def newton_polish(sigma: FloatArray, b: FloatArray, y: FloatArray, steps: int = NEWTON_STEPS) -> FloatArray:
    """Damped Newton on the barrier objective from a feasible y > 0 until the gradient is at round-off."""
    for _ in range(steps):
        grad = sigma @ y - b / y
        if np.max(np.abs(grad * y)) <= 1e-15 * max(1.0, float(b.max())):
            break
        hess = sigma + np.diag(b / (y * y))
        step = -np.linalg.solve(hess, grad)
        t, f0 = 1.0, _objective(sigma, b, y)
        while t > 1e-12:
            cand = y + t * step
            if np.all(cand > 0) and _objective(sigma, b, cand) <= f0 + 1e-4 * t * float(grad @ step):
                break
            t *= 0.5
        else:
            break
        y = cand
    return y


def risk_contributions(sigma: FloatArray, w: FloatArray) -> FloatArray:
    """Fractions w_i·(Σw)_i / wᵀΣw (sum to 1)."""
    marginal = sigma @ w
    out: FloatArray = w * marginal / float(w @ marginal)
    return out


def solve_risk_parity(
    moments: Moments, budgets: FloatArray | None = None, solver: str = DEFAULT_SOLVER
) -> tuple[FloatArray, float, str]:
    """Weights with risk contributions ∝ budgets (equal by default); returns (w, seconds, status)."""
    n = moments.n
    b = np.full(n, 1.0 / n) if budgets is None else np.asarray(budgets, dtype=np.float64)
    if b.shape != (n,) or np.any(b <= 0):
        raise InfeasibleError("risk budgets must be N positive numbers")
    b = b / b.sum()
    cov = moments.cov
    if solver != "CLARABEL":
        raise InfeasibleError("risk parity needs exponential cones: only CLARABEL solves it")
    problem, y, root, sd, bud = _compile(n, cov.rank_rows, bool(np.any(cov.specific > 0)))
    root.value = cov.root
    if sd is not None:
        sd.value = np.sqrt(cov.specific)
    bud.value = b
    seconds, status = solve(problem, solver)
    if y.value is None:
        raise InfeasibleError("risk parity: solver returned no point")
    y0 = np.maximum(np.asarray(y.value, dtype=np.float64), 1e-300)
    polished = newton_polish(cov.matrix, b, y0)
    return polished / polished.sum(), seconds, status
