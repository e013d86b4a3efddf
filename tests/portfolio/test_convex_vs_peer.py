"""The convex family against PyPortfolioOpt on the real 20-stock S&P 500 set: weights within 1e-4.

Both sides get the same annualised sample moments, so what is compared is the optimisation itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kimera.portfolio.optimize import (
    Constraints,
    Group,
    InfeasibleError,
    Options,
    PriceTable,
    estimate,
    optimize,
    optimize_moments,
    risk_contributions,
    sample_moments,
)
from kimera.portfolio.optimize.cvar import cvar_of

pypfopt = pytest.importorskip("pypfopt")

TOL = 1e-4
WINDOWS = [("2018-01-01", "2022-12-31"), ("2005-01-01", "2009-12-31")]
SECTORS = {
    "AAPL": "tech", "AMD": "tech", "MSFT": "tech", "BAC": "fin", "JPM": "fin", "CVX": "energy", "XOM": "energy",
    "RRC": "energy", "JNJ": "health", "LLY": "health", "MRK": "health", "PFE": "health", "UNH": "health",
    "KO": "staples", "PEP": "staples", "PG": "staples", "WMT": "staples", "BBY": "disc", "HD": "disc", "GE": "ind",
}  # fmt: skip


def _peer(mu: np.ndarray, cov: np.ndarray, bounds: tuple[float, float] = (0, 1)) -> object:
    return pypfopt.EfficientFrontier(mu, cov, weight_bounds=bounds)


def _w(ef: object, n: int) -> np.ndarray:
    weights = ef.weights  # type: ignore[attr-defined]
    return np.array([weights[i] for i in range(n)])


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_min_variance_mean_variance_max_sharpe_equal_peer(sp500: PriceTable, start: str, end: str) -> None:
    r = sp500.window(start, end).returns()
    m = sample_moments(r)
    mu, cov, n = m.mu, m.cov.matrix, m.n
    ours = optimize_moments(m, "min-variance").weights
    ef = _peer(mu, cov)
    ef.min_volatility()
    assert np.abs(ours - _w(ef, n)).max() < TOL
    for lam in (1.0, 10.0):
        ours = optimize_moments(m, "mean-variance", Options(risk_aversion=lam)).weights
        ef = _peer(mu, cov)
        ef.max_quadratic_utility(risk_aversion=lam)
        assert np.abs(ours - _w(ef, n)).max() < TOL, lam
    for rf in (0.0, 0.02):
        ours = optimize_moments(m, "max-sharpe", Options(risk_free=rf)).weights
        ef = _peer(mu, cov)
        ef.max_sharpe(risk_free_rate=rf)
        assert np.abs(ours - _w(ef, n)).max() < TOL, rf


def test_bounds_and_groups_equal_peer(sp500: PriceTable) -> None:
    table = sp500.window(*WINDOWS[0])
    m = sample_moments(table.returns())
    mu, cov, n = m.mu, m.cov.matrix, m.n
    capped = Options(constraints=Constraints(0.0, 0.15))
    for method, call in (("min-variance", "min_volatility"), ("max-sharpe", "max_sharpe")):
        ef = _peer(mu, cov, (0, 0.15))
        getattr(ef, call)()
        ours = optimize_moments(m, method, capped).weights
        assert ours.max() <= 0.15 + 1e-9
        assert np.abs(ours - _w(ef, n)).max() < TOL, method
    lower = {"tech": 0.15}
    upper = {"health": 0.25, "staples": 0.30}
    names = list(table.assets)
    groups = tuple(
        Group(
            tuple(i for i, a in enumerate(names) if SECTORS[a] == s), lower.get(s, 0.0), upper.get(s, 1.0), s
        )
        for s in sorted(set(lower) | set(upper))
    )
    ours_m = optimize_moments(
        m, "mean-variance", Options(risk_aversion=5.0, constraints=Constraints(groups=groups))
    )
    ef = _peer(pd.Series(mu, index=names), pd.DataFrame(cov, index=names, columns=names))
    ef.add_sector_constraints(SECTORS, lower, upper)
    ef.max_quadratic_utility(risk_aversion=5.0)
    peer = np.asarray(ef.weights)
    assert np.abs(ours_m.weights - peer).max() < TOL
    health = sum(ours_m.weights[i] for i, a in enumerate(names) if SECTORS[a] == "health")
    assert health <= 0.25 + 1e-8


@pytest.mark.parametrize("estimator", ["sample", "ewma", "ledoit-wolf"])
def test_risk_parity_contributions_equal(recent_returns: np.ndarray, estimator: str) -> None:
    m = estimate(recent_returns, estimator)
    alloc = optimize_moments(m, "risk-parity")
    rc = risk_contributions(m.cov.matrix, alloc.weights)
    assert np.abs(rc - 1.0 / m.n).max() < 1e-6
    assert alloc.weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_min_cvar_equals_peer_objective(recent_returns: np.ndarray) -> None:
    r = recent_returns[-750:]
    ours = optimize(r, "cvar", Options(cvar_beta=0.95))
    ec = pypfopt.EfficientCVaR(np.zeros(r.shape[1]), pd.DataFrame(r), beta=0.95)
    ec.min_cvar()
    peer = np.array([ec.weights[i] for i in range(r.shape[1])])
    assert cvar_of(r @ ours.weights) == pytest.approx(cvar_of(r @ peer), abs=1e-7)  # LP optima may tie
    assert ours.details["cvar"] <= cvar_of(r @ np.full(r.shape[1], 1 / r.shape[1]))


def test_infeasible_and_undefined_problems_are_clear(recent_returns: np.ndarray) -> None:
    m = sample_moments(recent_returns)
    with pytest.raises(InfeasibleError, match="cannot sum to 1"):
        optimize_moments(m, "min-variance", Options(constraints=Constraints(0.0, 0.01)))
    with pytest.raises(InfeasibleError, match="risk-free"):
        optimize_moments(m, "max-sharpe", Options(risk_free=5.0))
    with pytest.raises(InfeasibleError, match="risk-parity"):
        optimize_moments(m, "risk-parity", Options(constraints=Constraints(0.0, 0.5)))
