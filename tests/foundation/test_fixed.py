"""Fixed-point parsing: exact round trips of exchange decimal strings, clear errors for everything else."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kimera.model import FixedPointError, Instrument, format_fixed, parse_fixed
from kimera.venues.binance import column, fx


@given(st.integers(min_value=-(10**17), max_value=10**17), st.integers(min_value=0, max_value=10))
def test_round_trip(value: int, decimals: int) -> None:
    text = format_fixed(value, decimals)
    assert parse_fixed(text, decimals) == value
    assert Decimal(text) == Decimal(value).scaleb(-decimals)


@pytest.mark.parametrize("text,dec,want", [("61737.63000000", 8, 6173763000000), ("0.014", 3, 14),
                                           ("0.01400", 3, 14), ("5", 2, 500), (".5", 1, 5), ("-1.25", 2, -125)])
def test_known_values(text: str, dec: int, want: int) -> None:
    assert parse_fixed(text, dec) == want
    assert fx(text, dec) == want


@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "1e5", "1.2.3", "", "abc", "1_000", " ", "0x10", "1.001"])
def test_rejects(bad: str) -> None:
    with pytest.raises(FixedPointError):
        parse_fixed(bad, 2)
    with pytest.raises(FixedPointError):
        fx(bad, 2)


def test_column_fast_and_strict_paths_agree() -> None:
    strs = ["61737.63000000", "0.00000000", "12.50000000"]
    assert column(strs, 8) == [parse_fixed(s, 8) for s in strs]
    mixed = ["1.5", "2.25", "3"]  # not exactly 8 decimals: strict path, still exact
    assert column(mixed, 8) == [150000000, 225000000, 300000000]
    with pytest.raises(FixedPointError):
        column(["1.0", "1_0.0"], 1)


def test_negative_size_rejected() -> None:
    inst = Instrument("X", "Y", 2, 3)
    with pytest.raises(FixedPointError, match="negative"):
        inst.size("-1.000")
