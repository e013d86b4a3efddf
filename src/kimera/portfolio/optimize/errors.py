"""Errors of the optimisation package: each names the bad input so a CLI user can fix it."""

from __future__ import annotations


class PortfolioError(ValueError):
    """Base class: an input the optimiser cannot use, or a problem it cannot solve."""


class MissingDataError(PortfolioError):
    """Prices or returns contain missing values that the gap rule does not handle."""


class InsufficientDataError(PortfolioError):
    """Too few dates (or assets) to estimate the moments."""


class NonPSDError(PortfolioError):
    """A covariance matrix is not symmetric positive semidefinite."""


class InfeasibleError(PortfolioError):
    """The constraints admit no portfolio, or the solver reported failure."""


class UnknownMethodError(PortfolioError):
    """An optimisation method or estimator name that does not exist."""
