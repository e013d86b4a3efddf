"""Minimum variance, mean-variance and maximum Sharpe as cvxpy QPs, cached and parameterised.

Each problem is compiled once per shape (assets N, root rows k, groups m) with cvxpy Parameters for the
data, so a re-solve skips canonicalisation. Risk is ||R·w||² + ||√d ∘ w||² (the `Covariance` square root),
which keeps the KKT system sparse when k ≪ N (factor models, fewer dates than assets). A full-rank dense
root (k ≥ N, N ≥ DENSE_MIN_N) is the exception: there Clarabel factors a dense block either way and
handing it wᵀΣw directly (`psd_wrap`, rebuilt per call) measured ~2x faster than the root form.
Maximum Sharpe uses the standard homogenisation: with y = κ·w, minimise yᵀΣy subject to
(μ − r_f)ᵀy = 1, Σy = κ ≥ 0 and the bounds and groups scaled by κ; then w = y / κ.
Mean-variance maximises μᵀw − (λ/2)·wᵀΣw, solved as min wᵀΣw − (2/λ)·μᵀw (same minimiser, DPP).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cvxpy as cp
import numpy as np

from kimera.portfolio.optimize.constraints import Resolved, finish_weights
from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import InfeasibleError
from kimera.portfolio.optimize.estimators import Moments
from kimera.portfolio.optimize.solver import DEFAULT_SOLVER, solve

KINDS = ("min-variance", "mean-variance", "max-sharpe")
DENSE_MIN_N = 100  # below this the cached root form wins even for a dense root (measured at N = 50/200)


@dataclass
class Formulation:
    """A problem, its weight (or y) variable, κ for maximum Sharpe, and its data slots by name."""

    problem: cp.Problem
    weights: cp.Variable
    scale: cp.Variable | None
    slots: dict[str, Any]


def _formulate(kind: str, w: cp.Variable, risk: cp.Expression, data: dict[str, Any]) -> Formulation:
    """Objective and constraints of `kind`; `data` values are Parameters or constants alike."""
    if kind not in KINDS:
        raise ValueError(f"unknown problem kind {kind!r}")
    kappa = cp.Variable(nonneg=True) if kind == "max-sharpe" else None
    budget: cp.Expression = kappa if kappa is not None else cp.Constant(1.0)
    cons = [cp.sum(w) == budget, w >= data["lower"] * budget, w <= data["upper"] * budget]
    if data.get("groups") is not None:
        cons += [data["groups"] @ w >= data["glo"] * budget, data["groups"] @ w <= data["ghi"] * budget]
    if kind == "min-variance":
        objective = cp.Minimize(risk)
    elif kind == "mean-variance":
        objective = cp.Minimize(risk - data["mu"] @ w)  # mu holds 2μ/λ
    else:
        objective = cp.Minimize(risk)
        cons.append(data["mu"] @ w == 1.0)  # mu holds μ − r_f
    return Formulation(cp.Problem(objective, cons), w, kappa, data)


@lru_cache(maxsize=64)
def compile_problem(kind: str, n: int, k: int, specific: bool, m: int) -> Formulation:
    """The parameterised problem of `kind` for N assets, a k-row root, optional specific risk, m groups."""
    w = cp.Variable(n)
    slots: dict[str, Any] = {
        "root": cp.Parameter((k, n)),
        "sd": cp.Parameter(n, nonneg=True) if specific else None,
        "lower": cp.Parameter(n, nonneg=True),
        "upper": cp.Parameter(n, nonneg=True),
        "groups": cp.Parameter((m, n), nonneg=True) if m else None,
        "glo": cp.Parameter(m) if m else None,
        "ghi": cp.Parameter(m) if m else None,
        "mu": cp.Parameter(n) if kind != "min-variance" else None,
    }
    risk = cp.sum_squares(slots["root"] @ w)
    if slots["sd"] is not None:
        risk = risk + cp.sum_squares(cp.multiply(slots["sd"], w))
    form = _formulate(kind, w, risk, slots)
    assert form.problem.is_dpp()
    return form


def _data(
    kind: str, moments: Moments, limits: Resolved, risk_aversion: float, risk_free: float
) -> dict[str, Any]:
    """The numeric data of a problem, keyed like the Parameters."""
    cov = moments.cov
    data: dict[str, Any] = {
        "root": cov.root,
        "sd": np.sqrt(cov.specific),
        "lower": limits.lower,
        "upper": limits.upper,
        "groups": limits.group_matrix if limits.group_matrix.shape[0] else None,
        "glo": limits.group_lower,
        "ghi": limits.group_upper,
        "mu": None,
    }
    if kind == "mean-variance":
        if not risk_aversion > 0:
            raise InfeasibleError(f"risk aversion must be positive, got {risk_aversion}")
        data["mu"] = moments.mu * (2.0 / risk_aversion)
    elif kind == "max-sharpe":
        excess = moments.mu - risk_free
        if not np.any(excess > 0):
            raise InfeasibleError(
                f"maximum Sharpe is undefined: no asset's expected return exceeds the risk-free rate {risk_free}"
            )
        data["mu"] = excess
    return data


def _dense(kind: str, moments: Moments, data: dict[str, Any]) -> Formulation:
    """A one-off problem with wᵀΣw on the dense matrix (for full-rank dense covariances, N ≥ DENSE_MIN_N)."""
    w = cp.Variable(moments.n)
    return _formulate(kind, w, cp.quad_form(w, cp.psd_wrap(moments.cov.matrix)), data)


def solve_quadratic(
    kind: str,
    moments: Moments,
    limits: Resolved,
    risk_aversion: float = 1.0,
    risk_free: float = 0.0,
    solver: str = DEFAULT_SOLVER,
) -> tuple[FloatArray, float, str]:
    """Weights, solver seconds and status for `kind` in KINDS.

    Mean-variance maximises μᵀw − (λ/2)·wᵀΣw (λ = `risk_aversion`, PyPortfolioOpt's convention);
    maximum Sharpe maximises (μᵀw − r_f)/√(wᵀΣw) with r_f = `risk_free`, annual.
    """
    cov = moments.cov
    data = _data(kind, moments, limits, risk_aversion, risk_free)
    if cov.rank_rows >= moments.n >= DENSE_MIN_N:
        form = _dense(kind, moments, data)
    else:
        specific = bool(np.any(cov.specific > 0))
        form = compile_problem(kind, moments.n, cov.rank_rows, specific, limits.group_matrix.shape[0])
        for name, param in form.slots.items():
            if param is not None:
                param.value = data[name]
    seconds, status = solve(form.problem, solver)
    w = form.weights.value
    if w is None:
        raise InfeasibleError("solver returned no weights")
    if form.scale is not None:
        kappa = form.scale.value
        if kappa is None or float(kappa) <= 0:
            raise InfeasibleError("maximum Sharpe: the homogenised problem returned κ ≤ 0")
        w = np.asarray(w) / float(kappa)
    return finish_weights(w, limits), seconds, status
