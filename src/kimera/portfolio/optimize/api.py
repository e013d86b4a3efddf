"""One entry point over every method: estimate moments, solve, and return weights with their figures."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kimera.portfolio.optimize.anneal import DEFAULT_READS, DEFAULT_SWEEPS
from kimera.portfolio.optimize.constraints import Constraints
from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.cvar import DEFAULT_BETA, solve_min_cvar
from kimera.portfolio.optimize.errors import InfeasibleError, UnknownMethodError
from kimera.portfolio.optimize.estimators import DEFAULT_HALFLIFE, Moments, check_returns, estimate
from kimera.portfolio.optimize.metrics import PortfolioStats, portfolio_stats
from kimera.portfolio.optimize.quadratic import solve_quadratic
from kimera.portfolio.optimize.risk_parity import solve_risk_parity
from kimera.portfolio.optimize.selection import select_assets
from kimera.portfolio.optimize.solver import DEFAULT_SOLVER

METHODS = ("min-variance", "mean-variance", "max-sharpe", "risk-parity", "cvar", "qubo")
DEFAULT_K = 5


@dataclass(frozen=True)
class Allocation:
    """Weights of a method's portfolio, its ex-ante figures and solver facts."""

    method: str
    assets: tuple[str, ...]
    weights: FloatArray
    stats: PortfolioStats
    solve_seconds: float
    status: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The CLI's stable contract: method, weights, expected_return, volatility, sharpe, solve_seconds."""
        return {
            "method": self.method,
            "weights": {a: float(w) for a, w in zip(self.assets, self.weights, strict=True)},
            "expected_return": self.stats.expected_return,
            "volatility": self.stats.volatility,
            "sharpe": self.stats.sharpe,
            "solve_seconds": self.solve_seconds,
        }


@dataclass(frozen=True)
class Options:
    """Method parameters; each applies only where its method uses it."""

    risk_aversion: float = 1.0  # λ in μᵀw − (λ/2)·wᵀΣw, and in the QUBO's return − λ·variance
    risk_free: float = 0.0  # annual rate for Sharpe and for maximum Sharpe
    constraints: Constraints = field(default_factory=Constraints)
    k: int | None = None  # QUBO: assets to choose (DEFAULT_K, capped at N, when None)
    cvar_beta: float = DEFAULT_BETA
    reads: int = DEFAULT_READS
    sweeps: int = DEFAULT_SWEEPS
    seed: int = 0
    solver: str = DEFAULT_SOLVER


def check_method(method: str) -> None:
    """Raise UnknownMethodError listing the valid names."""
    if method not in METHODS:
        raise UnknownMethodError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def _qubo(moments: Moments, opts: Options) -> tuple[FloatArray, str, dict[str, Any]]:
    """Select K assets by annealing, then weight them by mean-variance with the same λ."""
    n = moments.n
    k = min(DEFAULT_K, n) if opts.k is None else opts.k
    sel = select_assets(
        moments.mu, moments.cov.matrix, k, opts.risk_aversion, opts.reads, opts.sweeps, opts.seed
    )
    sub = opts.constraints.resolve(n)
    if not sub.trivial:
        raise InfeasibleError("qubo: bounds and groups are not supported (the selection fixes the support)")
    limits = Constraints().resolve(k)
    w_sub, _, status = solve_quadratic(
        "mean-variance", moments.subset(sel.indices), limits, opts.risk_aversion
    )
    weights = np.zeros(n)
    weights[sel.indices] = w_sub
    details = {
        "selected": sel.indices.tolist(),
        "k": k,
        "objective": sel.objective,
        "exact_objective": sel.exact_objective,
        "gap": sel.gap,
        "feasible_reads": sel.feasible_reads,
        "repaired": sel.repaired,
        "anneal_seconds": sel.anneal_seconds,
    }
    return weights, status, details


def optimize_moments(
    moments: Moments,
    method: str,
    opts: Options | None = None,
    assets: Sequence[str] | None = None,
    scenarios: FloatArray | None = None,
) -> Allocation:
    """Solve `method` for given moments (CVaR also needs the daily return `scenarios`)."""
    check_method(method)
    opts = opts or Options()
    names = tuple(assets) if assets is not None else tuple(f"asset{i}" for i in range(moments.n))
    if len(names) != moments.n:
        raise ValueError(f"{len(names)} asset names for {moments.n} assets")
    t0 = time.perf_counter()
    details: dict[str, Any] = {}
    if method == "qubo":
        w, status, details = _qubo(moments, opts)
    elif method == "risk-parity":
        if not opts.constraints.resolve(moments.n).trivial:
            raise InfeasibleError(
                "risk-parity: bounds and groups break equal risk contributions; not supported"
            )
        w, _, status = solve_risk_parity(moments, solver=opts.solver)
    elif method == "cvar":
        if scenarios is None:
            raise InfeasibleError("cvar needs the daily return scenarios")
        w, _, status, cvar = solve_min_cvar(
            scenarios, opts.constraints.resolve(moments.n), opts.cvar_beta, opts.solver
        )
        details = {"cvar": cvar, "beta": opts.cvar_beta}
    else:
        limits = opts.constraints.resolve(moments.n)
        w, _, status = solve_quadratic(
            method, moments, limits, opts.risk_aversion, opts.risk_free, opts.solver
        )
    seconds = time.perf_counter() - t0
    return Allocation(method, names, w, portfolio_stats(moments, w, opts.risk_free), seconds, status, details)


def optimize(
    returns: FloatArray,
    method: str,
    opts: Options | None = None,
    assets: Sequence[str] | None = None,
    estimator: str = "sample",
    halflife: float = DEFAULT_HALFLIFE,
) -> Allocation:
    """Estimate moments from daily simple returns (T×N) with `estimator`, then solve `method`."""
    check_method(method)
    r = check_returns(returns)
    moments = estimate(r, estimator, halflife)
    return optimize_moments(moments, method, opts, assets, scenarios=r)
