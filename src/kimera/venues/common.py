"""Helpers shared by the venue adapters: exact numbers from JSON strings or numbers, timestamps, CRC32."""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from kimera.model.fixed import FixedPointError, format_fixed, parse_fixed


def num(value: Any, decimals: int) -> int:
    """A JSON price or size (decimal string, int or float) as an exact fixed-point int; raises if it would round.

    Floats (Kraken v2, Bybit v1) are read through their shortest repr, which is the decimal the venue wrote.
    """
    if isinstance(value, str):
        return parse_fixed(value, decimals)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FixedPointError(f"not a number: {value!r}")
    if isinstance(value, int):
        return value * 10**decimals
    return parse_fixed(format(Decimal(repr(value)), "f"), decimals)


def size(value: Any, decimals: int) -> int:
    """A size: like `num` but negative sizes are an error."""
    v = num(value, decimals)
    if v < 0:
        raise FixedPointError(f"negative size {value!r}")
    return v


def price(value: Any, decimals: int) -> int:
    """A price: like `num` but prices must be positive."""
    v = num(value, decimals)
    if v <= 0:
        raise FixedPointError(f"non-positive price {value!r}")
    return v


def sec_ns(text: str) -> int:
    """Seconds since the epoch as a decimal string ("1618678133.366461") -> exact ns."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a seconds timestamp: {text!r}")
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])


def iso_ns(text: str) -> int:
    """ISO-8601 UTC time ("2023-10-06T17:35:55.440295Z", up to ns digits) -> ns since the epoch."""
    head, dot, rest = text.partition(".")
    digits = rest.rstrip("Z") if dot else ""
    base = datetime.fromisoformat(head + "+00:00" if text.endswith("Z") else head)
    if not digits.isdigit() and digits:
        raise ValueError(f"not an ISO timestamp: {text!r}")
    return int(base.timestamp()) * 1_000_000_000 + int((digits + "000000000")[:9])


def trimmed(value: int, decimals: int) -> str:
    """Decimal string without trailing zeros ("8477" for 8477.00): how OKX writes prices and sizes."""
    s = format_fixed(value, decimals)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def crc32(text: str) -> int:
    """Unsigned CRC32 of an ASCII string."""
    return zlib.crc32(text.encode())


def crc32_signed(text: str) -> int:
    """CRC32 as a signed 32-bit int (OKX)."""
    c = zlib.crc32(text.encode())
    return c - (1 << 32) if c >= 1 << 31 else c
