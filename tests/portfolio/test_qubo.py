"""K-of-N selection QUBO: the penalty keeps the ground state feasible, and the annealer finds the
exact optimum (by enumeration) in ≥ 95% of seeded runs on the real 20-stock set."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kimera.portfolio.optimize import (
    InfeasibleError,
    Options,
    UnknownMethodError,
    optimize,
    sample_moments,
    select_assets,
)
from kimera.portfolio.optimize.anneal import anneal
from kimera.portfolio.optimize.qubo import build_selection_qubo, exact_selection, penalty_bound


def _all_states(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


@pytest.mark.parametrize(("k", "lam"), [(3, 0.5), (5, 1.0), (7, 5.0)])
def test_penalty_ground_state_is_the_constrained_optimum(
    recent_returns: np.ndarray, k: int, lam: float
) -> None:
    m = sample_moments(recent_returns[:, :14])
    mu, sigma = m.mu, m.cov.matrix
    qubo = build_selection_qubo(mu, sigma, k, lam)
    assert qubo.penalty > penalty_bound(mu, sigma, k, lam)
    x = _all_states(14)
    energies = np.einsum("ij,jk,ik->i", x, qubo.q, x) + qubo.offset
    ground = x[int(np.argmin(energies))]
    idx, best = exact_selection(mu, sigma, k, lam)
    assert ground.sum() == k  # every one of the 16,384 states checked: none infeasible beats it
    assert np.array_equal(np.flatnonzero(ground), idx)
    assert qubo.objective(ground) == pytest.approx(best, abs=1e-14)
    assert energies.min() == pytest.approx(-best, abs=1e-12)


def test_enumeration_matches_itertools(recent_returns: np.ndarray) -> None:
    m = sample_moments(recent_returns[:, 3:15])
    mu, sigma = m.mu, m.cov.matrix
    best = max(
        (mu[list(c)].sum() / 4 - 2.0 * sigma[np.ix_(c, c)].sum() / 16, c)
        for c in itertools.combinations(range(12), 4)
    )
    idx, obj = exact_selection(mu, sigma, 4, 2.0)
    assert tuple(idx) == best[1] and obj == pytest.approx(best[0], abs=1e-14)


@pytest.mark.parametrize(("window", "lam"), [(slice(None), 1.0), (slice(-500, None), 5.0)])
def test_annealer_hits_exact_optimum_95_percent(
    recent_returns: np.ndarray, window: slice, lam: float
) -> None:
    m = sample_moments(recent_returns[window])
    qubo = build_selection_qubo(m.mu, m.cov.matrix, 5, lam)
    idx, _ = exact_selection(m.mu, m.cov.matrix, 5, lam)
    hits = 0
    for seed in range(100):
        state, _ = anneal(qubo.q, 5, seed=seed).best()
        hits += np.array_equal(np.flatnonzero(state), idx)
    assert hits >= 95


def test_anneal_is_reproducible(recent_returns: np.ndarray) -> None:
    m = sample_moments(recent_returns)
    q = build_selection_qubo(m.mu, m.cov.matrix, 5, 1.0).q
    a, b = anneal(q, 5, seed=7), anneal(q, 5, seed=7)
    assert np.array_equal(a.states, b.states) and np.array_equal(a.energies, b.energies)


def test_qubo_method_selects_k_and_weights_them(recent_returns: np.ndarray) -> None:
    alloc = optimize(recent_returns, "qubo", Options(k=6, risk_aversion=2.0, seed=3))
    assert np.count_nonzero(alloc.weights) <= 6
    assert set(np.flatnonzero(alloc.weights)) <= set(alloc.details["selected"])
    assert alloc.details["gap"] == 0.0  # N = 20 ≤ 25: checked against enumeration
    assert alloc.weights.sum() == pytest.approx(1.0)
    sel = select_assets(sample_moments(recent_returns).mu, sample_moments(recent_returns).cov.matrix, 6, 2.0)
    assert sel.indices.tolist() == alloc.details["selected"]


def test_bad_k_is_a_clear_error(recent_returns: np.ndarray) -> None:
    m = sample_moments(recent_returns)
    for k in (0, 21):
        with pytest.raises(InfeasibleError, match=f"K = {k} assets cannot be chosen from N = 20"):
            build_selection_qubo(m.mu, m.cov.matrix, k, 1.0)
    with pytest.raises(InfeasibleError, match="K = 30"):
        optimize(recent_returns, "qubo", Options(k=30))


def test_repair_reaches_k_greedily(recent_returns: np.ndarray) -> None:
    from kimera.portfolio.optimize.selection import repair

    m = sample_moments(recent_returns)
    qubo = build_selection_qubo(m.mu, m.cov.matrix, 5, 1.0)
    for start in (np.ones(20, dtype=np.int8), np.zeros(20, dtype=np.int8)):
        fixed = repair(qubo, start)
        assert fixed.sum() == 5
    with pytest.raises(UnknownMethodError, match="unknown method 'hrp'"):
        optimize(recent_returns, "hrp")
