"""Estimators against PyPortfolioOpt's (sample, Ledoit-Wolf) and against their definitions (EWMA)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kimera.portfolio.optimize import (
    InsufficientDataError,
    MissingDataError,
    PriceTable,
    UnknownMethodError,
    estimate,
    ewma_moments,
    ledoit_wolf_moments,
    sample_moments,
)
from kimera.portfolio.optimize.estimators import ewma_weights

pypfopt = pytest.importorskip("pypfopt")


def _prices(table: PriceTable) -> pd.DataFrame:
    return pd.DataFrame(table.values, columns=list(table.assets))


def test_sample_moments_equal_pypfopt(sp500: PriceTable) -> None:
    table = sp500.window("2015-01-01", "2022-12-31")
    m = sample_moments(table.returns())
    df = _prices(table)
    mu = pypfopt.expected_returns.mean_historical_return(df, compounding=False).to_numpy()
    cov = pypfopt.risk_models.sample_cov(df).to_numpy()
    np.testing.assert_allclose(m.mu, mu, rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.cov.matrix, cov, rtol=0, atol=1e-12)


def test_ledoit_wolf_equals_pypfopt(sp500: PriceTable) -> None:
    table = sp500.window("2020-01-01", "2020-06-30")  # a short, volatile window: real shrinkage
    m = ledoit_wolf_moments(table.returns())
    cov = pypfopt.risk_models.CovarianceShrinkage(_prices(table)).ledoit_wolf()
    np.testing.assert_allclose(m.cov.matrix, cov.to_numpy(), rtol=0, atol=1e-12)


def test_data_root_used_when_fewer_dates_than_assets(recent_returns: np.ndarray) -> None:
    r = recent_returns[-25:, :]
    wide = np.hstack([r, r[:, ::-1] * 0.5 + r * 0.5])  # 25 dates × 40 assets: a rank-deficient sample
    for est in (sample_moments, ledoit_wolf_moments, ewma_moments):
        assert est(wide).cov.rank_rows == 25  # the centred returns as root, not a 40×40 factor
    np.testing.assert_allclose(sample_moments(wide).cov.matrix, 252 * np.cov(wide, rowvar=False), atol=1e-14)


def test_ewma_is_its_definition_and_weights_recent_most(recent_returns: np.ndarray) -> None:
    r = recent_returns[-300:]
    m = ewma_moments(r, halflife=30.0)
    w = 0.5 ** (np.arange(299, -1, -1) / 30.0)
    w /= w.sum()
    mean = w @ r
    cov = (r - mean).T @ ((r - mean) * w[:, None]) / (1 - w @ w)
    np.testing.assert_allclose(m.mu, 252 * mean, atol=1e-14)
    np.testing.assert_allclose(m.cov.matrix, 252 * cov, atol=1e-14)
    wt = ewma_weights(300, 30.0)
    assert wt[-1] == pytest.approx(2 * wt[-31])
    assert np.all(np.diff(wt) > 0)
    shock_new, shock_old = r.copy(), r.copy()
    shock_new[-1, 0] += 0.2
    shock_old[0, 0] += 0.2
    base = m.cov.matrix[0, 0]
    rise_new = ewma_moments(shock_new, 30.0).cov.matrix[0, 0] - base
    rise_old = ewma_moments(shock_old, 30.0).cov.matrix[0, 0] - base
    assert rise_new > 100 * rise_old > 0  # the same shock counts ~2^(299/30) times more when recent


def test_bad_returns_are_clear_errors(recent_returns: np.ndarray) -> None:
    with pytest.raises(InsufficientDataError, match="too few dates"):
        sample_moments(recent_returns[:5])
    bad = recent_returns[:100].copy()
    bad[10, 3] = np.nan
    with pytest.raises(MissingDataError, match="missing"):
        sample_moments(bad)
    with pytest.raises(UnknownMethodError, match="unknown estimator"):
        estimate(recent_returns, "shrinkage-ish")
