"""Seeded factor-model universes for benchmarks at sizes the real data does not reach (N = 50…500).

Σ = B·Ω·Bᵀ + diag(d), annual: one market factor (16% vol, β ~ N(1, 0.3)) plus k−1 style factors (4-8%
vol, loadings N(0, 0.5)), specific vols uniform in 15-35%; μ = 6%·β + N(0, 2%) alphas.
"""

from __future__ import annotations

import numpy as np

from kimera.portfolio.optimize.covariance import Covariance
from kimera.portfolio.optimize.estimators import Moments


def factor_universe(n: int, k: int = 10, seed: int = 0) -> Moments:
    """Moments of an N-asset, k-factor universe (covariance kept in factor form)."""
    rng = np.random.default_rng(seed)
    loadings = np.empty((n, k))
    loadings[:, 0] = rng.normal(1.0, 0.3, n)
    loadings[:, 1:] = rng.normal(0.0, 0.5, (n, k - 1))
    factor_vol = np.concatenate([[0.16], rng.uniform(0.04, 0.08, k - 1)])
    specific = rng.uniform(0.15, 0.35, n) ** 2
    mu = 0.06 * loadings[:, 0] + rng.normal(0.0, 0.02, n)
    return Moments(mu, Covariance.from_factors(loadings, np.diag(factor_vol**2), specific))
