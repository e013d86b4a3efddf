"""Instruments (venue, symbol, tick and lot size, fixed-point scales) and order sides."""

from __future__ import annotations

from enum import IntEnum

import msgspec

from kimera.model.fixed import FixedPointError, format_fixed, parse_fixed


class Side(IntEnum):
    """Order or aggressor side; the sign is the direction of the position change."""

    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class Instrument(msgspec.Struct, frozen=True):
    """A tradable instrument on one venue.

    `price_decimals`/`size_decimals` fix the integer scale of every price and size of this instrument;
    `tick_size`/`lot_size` are in those integer units (e.g. tick 1 at 2 decimals = 0.01).
    """

    venue: str
    symbol: str
    price_decimals: int = 8
    size_decimals: int = 8
    tick_size: int = 1
    lot_size: int = 1
    taker_fee: float = 0.001
    maker_fee: float = 0.001

    def __post_init__(self) -> None:
        if not (0 <= self.price_decimals <= 18 and 0 <= self.size_decimals <= 18):
            raise ValueError(f"{self.key}: decimals must be in 0..18")
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.key}: tick_size and lot_size must be positive")

    @property
    def key(self) -> str:
        """`VENUE:SYMBOL`, the instrument's identity across the system."""
        return f"{self.venue}:{self.symbol}"

    @property
    def price_scale(self) -> int:
        """10**price_decimals."""
        return 10**self.price_decimals

    @property
    def size_scale(self) -> int:
        """10**size_decimals."""
        return 10**self.size_decimals

    def price(self, text: str) -> int:
        """Parse a price string exactly."""
        return parse_fixed(text, self.price_decimals)

    def size(self, text: str) -> int:
        """Parse a size string exactly; negative sizes are an error."""
        v = parse_fixed(text, self.size_decimals)
        if v < 0:
            raise FixedPointError(f"{self.key}: negative size {text!r}")
        return v

    def price_str(self, value: int) -> str:
        """Format a price back to its decimal string."""
        return format_fixed(value, self.price_decimals)

    def size_str(self, value: int) -> str:
        """Format a size back to its decimal string."""
        return format_fixed(value, self.size_decimals)

    def px(self, value: int) -> float:
        """Price as float (for maths)."""
        return value / self.price_scale

    def qty(self, value: int) -> float:
        """Size as float (for maths)."""
        return value / self.size_scale
