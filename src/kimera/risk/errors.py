"""Risk errors: bad configuration and bad inputs, each naming the field and the value."""

from __future__ import annotations


class RiskConfigError(ValueError):
    """A risk weight, limit or parameter that is out of range (names the field and the value)."""


class RiskInputError(ValueError):
    """An order, market state or portfolio the risk engine cannot assess (NaN price, negative size,
    unknown symbol); names what and where."""
