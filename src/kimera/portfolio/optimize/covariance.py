"""A covariance matrix kept with a square root (Σ = RᵀR + diag(d)) so the solvers see a sparse problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from kimera.portfolio.optimize.errors import NonPSDError

FloatArray = NDArray[np.float64]

PSD_TOL = 1e-10  # relative: an eigenvalue below −PSD_TOL·max|eigenvalue| makes a matrix non-PSD


@dataclass(frozen=True)
class Covariance:
    """Σ = rootᵀ·root + diag(specific): `root` is k×N (k can be far below N), `specific` ≥ 0 is length N.

    The square-root form lets the risk term be written ||root·w||² + ||√specific ∘ w||², a sparse QP whose
    KKT system is (N + k) wide instead of a dense N×N block: this is what makes N = 500 fast.
    """

    root: FloatArray
    specific: FloatArray
    _dense: FloatArray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.root.ndim != 2 or self.specific.ndim != 1 or self.root.shape[1] != self.specific.shape[0]:
            raise ValueError(f"root {self.root.shape} and specific {self.specific.shape} do not agree")
        if not (np.all(np.isfinite(self.root)) and np.all(np.isfinite(self.specific))):
            raise NonPSDError("covariance has non-finite entries")
        if np.any(self.specific < 0):
            raise NonPSDError("specific variances must be non-negative")

    @property
    def n(self) -> int:
        """Number of assets."""
        return int(self.specific.shape[0])

    @property
    def rank_rows(self) -> int:
        """Rows of the square root (the k of the factor form)."""
        return int(self.root.shape[0])

    @cached_property
    def matrix(self) -> FloatArray:
        """The dense N×N matrix."""
        if self._dense is not None:
            return self._dense
        m: FloatArray = self.root.T @ self.root
        m[np.diag_indices_from(m)] += self.specific
        return m

    def variance(self, w: FloatArray) -> float:
        """wᵀΣw computed through the square root (never negative)."""
        rw = self.root @ w
        return float(rw @ rw + self.specific @ (w * w))

    def subset(self, idx: NDArray[np.intp]) -> Covariance:
        """The covariance of the assets `idx` (root columns kept, so the form stays factored)."""
        dense = None if self._dense is None else self._dense[np.ix_(idx, idx)]
        return Covariance(self.root[:, idx], self.specific[idx], dense)

    @classmethod
    def from_matrix(cls, matrix: FloatArray) -> Covariance:
        """Validate a dense matrix (square, finite, symmetric, PSD) and factor it (Cholesky, else eigen)."""
        m = np.asarray(matrix, dtype=np.float64)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
            raise NonPSDError(f"covariance must be a non-empty square matrix, got shape {m.shape}")
        if not np.all(np.isfinite(m)):
            raise NonPSDError("covariance has NaN or infinite entries")
        scale = max(1.0, float(np.max(np.abs(m))))
        if not np.allclose(m, m.T, rtol=0.0, atol=1e-12 * scale):
            raise NonPSDError("covariance is not symmetric")
        m = 0.5 * (m + m.T)
        n = m.shape[0]
        try:
            root: FloatArray = np.asarray(np.linalg.cholesky(m).T, dtype=np.float64)
        except np.linalg.LinAlgError:
            vals, vecs = np.linalg.eigh(m)
            top = float(np.max(np.abs(vals))) or 1.0
            if vals[0] < -PSD_TOL * top:
                raise NonPSDError(
                    f"covariance is not positive semidefinite: smallest eigenvalue {vals[0]:.3g}"
                ) from None
            keep = vals > PSD_TOL * top
            root = np.asarray((vecs[:, keep] * np.sqrt(vals[keep])).T, dtype=np.float64)
        return cls(np.ascontiguousarray(root), np.zeros(n), m)

    @classmethod
    def from_factors(cls, loadings: FloatArray, factor_cov: FloatArray, specific: FloatArray) -> Covariance:
        """Σ = B·Ω·Bᵀ + diag(d) from loadings B (N×k), factor covariance Ω (k×k) and specific variances d."""
        omega = cls.from_matrix(factor_cov)
        root = omega.root @ np.asarray(loadings, dtype=np.float64).T
        return cls(np.ascontiguousarray(root), np.asarray(specific, dtype=np.float64).copy())
