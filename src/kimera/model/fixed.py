"""Exact fixed-point numbers: exchanges send decimal strings; we keep them as integers of 10**-decimals.

Why integers and not floats: a price level is a dictionary key, and "61737.63000000" must be the same
key every time, compare exactly, and format back to the same string. Floats cannot promise any of that
(0.1 + 0.2 != 0.3); Decimal can but is ~20x slower to hash and compare. An int64 with a per-instrument
scale is exact, hashes fast and fits numpy columns for storage and vectorised features.
"""

from __future__ import annotations

import math


class FixedPointError(ValueError):
    """A decimal string or number that cannot be represented exactly at the requested scale."""


_POW10 = [10**i for i in range(19)]


def parse_fixed(text: str, decimals: int) -> int:
    """Parse a decimal string into an integer count of 10**-decimals, exactly; raise if it would round.

    Accepts an optional sign, digits, one dot and trailing zeros beyond the scale ("0.10000000" at 2).
    Rejects NaN, infinities, exponents and anything else with a message naming the value.
    """
    s = text.strip() if isinstance(text, str) else text
    if not isinstance(s, str) or not s:
        raise FixedPointError(f"not a decimal string: {text!r}")
    neg = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    whole, dot, frac = body.partition(".")
    if not (whole.isdigit() or (whole == "" and dot and frac)) or (frac and not frac.isdigit()):
        raise FixedPointError(f"not a plain decimal number: {text!r}")
    if len(frac) > decimals:
        extra = frac[decimals:]
        if extra.strip("0"):
            raise FixedPointError(f"{text!r} has more than {decimals} significant decimals")
        frac = frac[:decimals]
    value = int(whole or "0") * _POW10[decimals] + (int(frac) * _POW10[decimals - len(frac)] if frac else 0)
    return -value if neg else value


def fixed_from_float(x: float, decimals: int) -> int:
    """Convert a float that is meant to be a decimal at this scale (e.g. from a vendor CSV); NaN is an error."""
    if not math.isfinite(x):
        raise FixedPointError(f"not a finite number: {x!r}")
    return round(x * _POW10[decimals])


def format_fixed(value: int, decimals: int) -> str:
    """Format an integer of 10**-decimals back to a decimal string with exactly `decimals` places."""
    if decimals == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    q, r = divmod(abs(value), _POW10[decimals])
    return f"{sign}{q}.{r:0{decimals}d}"


def to_float(value: int, decimals: int) -> float:
    """The float nearest to a fixed-point value (for features and maths, never for book keys)."""
    return value / _POW10[decimals]
