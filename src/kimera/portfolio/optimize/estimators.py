"""Moment estimators from daily simple returns: sample, exponentially weighted and Ledoit-Wolf shrinkage.

All figures are annualised with `PERIODS_PER_YEAR` (mean × 252, covariance × 252), the convention of
PyPortfolioOpt, so weights are comparable with it. Each estimator returns the covariance in square-root
form built from the data itself when there are fewer dates than assets (the sample covariance is then
rank-deficient and its natural root is the centred returns) and from a Cholesky factor otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kimera.portfolio.optimize.covariance import Covariance, FloatArray
from kimera.portfolio.optimize.errors import InsufficientDataError, MissingDataError, UnknownMethodError

PERIODS_PER_YEAR = 252
MIN_OBSERVATIONS = 20  # fewest daily returns accepted: under a month of data no estimate is meaningful
DEFAULT_HALFLIFE = 126.0  # EWMA half-life in trading days (half a year): ~360 effective observations
ESTIMATORS = ("sample", "ewma", "ledoit-wolf")


@dataclass(frozen=True)
class Moments:
    """Annualised expected returns and covariance of N assets."""

    mu: FloatArray
    cov: Covariance

    @property
    def n(self) -> int:
        """Number of assets."""
        return int(self.mu.shape[0])

    def subset(self, idx: np.ndarray) -> Moments:
        """The moments of the assets `idx`."""
        return Moments(self.mu[idx].copy(), self.cov.subset(idx))


def check_returns(returns: FloatArray) -> FloatArray:
    """Validate a T×N matrix of daily returns: finite, 2-D, at least MIN_OBSERVATIONS rows."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] == 0:
        raise InsufficientDataError(f"returns must be a dates × assets matrix, got shape {r.shape}")
    if r.shape[0] < MIN_OBSERVATIONS:
        raise InsufficientDataError(
            f"too few dates: {r.shape[0]} returns, need at least {MIN_OBSERVATIONS} (about a month)"
        )
    bad = ~np.isfinite(r)
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise MissingDataError(
            f"returns contain {int(bad.sum())} missing/non-finite values (first: row {t}, asset {j})"
        )
    return r


def _root_moments(centred: FloatArray, weights: FloatArray, scale: float) -> Covariance:
    """Covariance Σ = scale·Σ_t weights_t·x_t·x_tᵀ, in the cheaper of data-root and Cholesky-root form."""
    t, n = centred.shape
    data_root = centred * np.sqrt(weights * scale)[:, None]
    if t < n:
        return Covariance(np.ascontiguousarray(data_root), np.zeros(n))
    dense = data_root.T @ data_root
    return Covariance.from_matrix(dense)


def sample_moments(returns: FloatArray) -> Moments:
    """Sample mean and unbiased (T−1) sample covariance, annualised."""
    r = check_returns(returns)
    t = r.shape[0]
    mean = r.mean(axis=0)
    cov = _root_moments(r - mean, np.full(t, 1.0 / (t - 1)), PERIODS_PER_YEAR)
    return Moments(mean * PERIODS_PER_YEAR, cov)


def ewma_weights(t: int, halflife: float) -> FloatArray:
    """Weights ∝ 0.5^(age/halflife), age 0 for the latest date: recent returns count most; sum to 1."""
    if not halflife > 0:
        raise ValueError(f"halflife must be positive, got {halflife}")
    age = np.arange(t - 1, -1, -1, dtype=np.float64)
    w = np.power(0.5, age / halflife)
    out: FloatArray = w / w.sum()
    return out


def ewma_moments(returns: FloatArray, halflife: float = DEFAULT_HALFLIFE) -> Moments:
    """Exponentially weighted mean and covariance (reliability-weight bias correction 1/(1−Σw²))."""
    r = check_returns(returns)
    w = ewma_weights(r.shape[0], halflife)
    mean = w @ r
    correction = 1.0 / (1.0 - float(w @ w))
    cov = _root_moments(r - mean, w * correction, PERIODS_PER_YEAR)
    return Moments(mean * PERIODS_PER_YEAR, cov)


def ledoit_wolf_shrinkage(centred: FloatArray) -> tuple[float, float]:
    """Ledoit-Wolf (2004) intensity δ and target variance m for the target m·I (biased 1/T sample cov)."""
    t, n = centred.shape
    x2 = centred**2
    var_diag = x2.sum(axis=0) / t
    m = float(var_diag.sum() / n)
    s = centred.T @ centred / t
    beta_sum = float(np.sum(x2.T @ x2))
    delta_sum = float(np.sum(s * s))
    beta = (beta_sum / t - delta_sum) / (n * t)
    delta = (delta_sum - 2.0 * m * float(var_diag.sum()) + n * m * m) / n
    beta = min(beta, delta)
    return (0.0 if beta == 0.0 else beta / delta), m


def ledoit_wolf_moments(returns: FloatArray) -> Moments:
    """Sample mean and the Ledoit-Wolf shrunk covariance (1−δ)·S + δ·m·I, annualised."""
    r = check_returns(returns)
    t, n = r.shape
    mean = r.mean(axis=0)
    centred = r - mean
    shrink, m = ledoit_wolf_shrinkage(centred)
    specific = np.full(n, shrink * m * PERIODS_PER_YEAR)
    data_root = centred * np.sqrt((1.0 - shrink) * PERIODS_PER_YEAR / t)
    if t < n:
        cov = Covariance(np.ascontiguousarray(data_root), specific)
    else:
        dense = data_root.T @ data_root
        dense[np.diag_indices(n)] += specific
        cov = Covariance.from_matrix(dense)
    return Moments(mean * PERIODS_PER_YEAR, cov)


def estimate(returns: FloatArray, estimator: str = "sample", halflife: float = DEFAULT_HALFLIFE) -> Moments:
    """Dispatch on the estimator name (one of ESTIMATORS)."""
    if estimator == "sample":
        return sample_moments(returns)
    if estimator == "ewma":
        return ewma_moments(returns, halflife)
    if estimator == "ledoit-wolf":
        return ledoit_wolf_moments(returns)
    raise UnknownMethodError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
