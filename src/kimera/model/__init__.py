"""Domain model: instruments, fixed-point prices and sizes, and the normalised market events."""

from kimera.model.events import (
    Bar,
    BookDelta,
    BookSnapshot,
    Event,
    Level,
    Quote,
    Trade,
)
from kimera.model.fixed import FixedPointError, format_fixed, parse_fixed
from kimera.model.instrument import Instrument, Side

__all__ = [
    "Bar",
    "BookDelta",
    "BookSnapshot",
    "Event",
    "FixedPointError",
    "Instrument",
    "Level",
    "Quote",
    "Side",
    "Trade",
    "format_fixed",
    "parse_fixed",
]
