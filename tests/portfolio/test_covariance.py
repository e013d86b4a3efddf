"""The square-root covariance: validation (PSD, symmetry), factor form and subsets."""

from __future__ import annotations

import numpy as np
import pytest

from kimera.portfolio.optimize import Covariance, Moments, NonPSDError, optimize_moments


def test_non_psd_matrix_is_rejected() -> None:
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and −1
    with pytest.raises(NonPSDError, match="not positive semidefinite"):
        Covariance.from_matrix(bad)
    with pytest.raises(NonPSDError, match="symmetric"):
        Covariance.from_matrix(np.array([[1.0, 0.5], [0.2, 1.0]]))
    with pytest.raises(NonPSDError, match="NaN"):
        Covariance.from_matrix(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(NonPSDError):
        optimize_moments(Moments(np.zeros(2), Covariance.from_matrix(bad)), "min-variance")


def test_singular_psd_matrix_gets_an_eigen_root() -> None:
    v = np.array([[1.0, 2.0, 3.0]])
    sing = v.T @ v  # rank one
    cov = Covariance.from_matrix(sing)
    assert cov.rank_rows == 1
    np.testing.assert_allclose(cov.root.T @ cov.root, sing, atol=1e-12)


def test_factor_form_matches_dense_and_subsets() -> None:
    b = np.array([[1.0, 0.2], [0.8, -0.1], [1.2, 0.4], [0.5, 0.0]])
    omega = np.array([[0.04, 0.001], [0.001, 0.01]])
    d = np.array([0.02, 0.03, 0.05, 0.01])
    cov = Covariance.from_factors(b, omega, d)
    dense = b @ omega @ b.T + np.diag(d)
    np.testing.assert_allclose(cov.matrix, dense, atol=1e-15)
    w = np.array([0.1, 0.2, 0.3, 0.4])
    assert cov.variance(w) == pytest.approx(w @ dense @ w, abs=1e-15)
    idx = np.array([0, 2])
    np.testing.assert_allclose(cov.subset(idx).matrix, dense[np.ix_(idx, idx)], atol=1e-15)
