"""What a strategy emits: `OrderIntent`s (a wish to trade, not an order) and the `Signal`s behind them."""

from __future__ import annotations

import math
from enum import StrEnum

import msgspec

from kimera.model import Instrument, Side


class IntentError(ValueError):
    """An intent or signal that cannot be right: NaN confidence, negative quantity, bad direction."""


class OrderType(StrEnum):
    """How the order is priced."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """How long the order lives."""

    GTC = "gtc"  # good till cancelled
    IOC = "ioc"  # immediate or cancel
    FOK = "fok"  # fill or kill
    POST_ONLY = "post_only"  # maker only (rejected if it would take)


class Signal(msgspec.Struct, frozen=True, gc=False):
    """One member's view: `direction` in {-1, 0, 1}, signed `score` (|score| >= 1 means past its threshold),
    `confidence` in [0, 1]."""

    name: str
    direction: int
    score: float
    confidence: float

    def __post_init__(self) -> None:
        if self.direction not in (-1, 0, 1):
            raise IntentError(f"signal {self.name!r}: direction must be -1, 0 or 1, got {self.direction!r}")
        if not math.isfinite(self.score):
            raise IntentError(f"signal {self.name!r}: score {self.score!r} is not finite")
        if not 0.0 <= self.confidence <= 1.0:  # NaN fails too
            raise IntentError(f"signal {self.name!r}: confidence {self.confidence!r} not in [0, 1]")


class OrderIntent(msgspec.Struct, frozen=True, gc=False):
    """A strategy's wish to trade `quantity` (fixed-point, > 0) at `price` (fixed-point; None = market).

    `tension_rate` is the share of signal pairs in tension behind this intent (0 with fewer than two).
    """

    instrument: Instrument
    side: Side
    quantity: int
    price: int | None
    order_type: OrderType
    time_in_force: TimeInForce
    strategy_id: str
    confidence: float
    signals: tuple[Signal, ...] = ()
    tension_rate: float = 0.0
    created_ns: int = 0

    def __post_init__(self) -> None:
        q, lot = self.quantity, self.instrument.lot_size
        if isinstance(q, bool) or not isinstance(q, int) or q <= 0:
            raise IntentError(f"{self._where()}: quantity must be a positive fixed-point int, got {q!r}")
        if q % lot:
            raise IntentError(f"{self._where()}: quantity {q} is not a multiple of lot {lot}")
        price = self.price
        if self.order_type is OrderType.MARKET:
            if price is not None:
                raise IntentError(f"{self._where()}: a market order has no price, got {price!r}")
        elif price is None or isinstance(price, bool) or not isinstance(price, int) or price <= 0:
            raise IntentError(f"{self._where()}: a limit order needs a positive fixed-point price, got {price!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise IntentError(f"{self._where()}: confidence {self.confidence!r} not in [0, 1]")
        if not 0.0 <= self.tension_rate <= 1.0:
            raise IntentError(f"{self._where()}: tension_rate {self.tension_rate!r} not in [0, 1]")

    def _where(self) -> str:
        """Names the intent in error messages (built only when one is raised: validation runs per order)."""
        return f"intent of {self.strategy_id!r} on {self.instrument.key}"

    @property
    def qty(self) -> float:
        """Quantity in base units (float, for maths)."""
        return self.quantity / self.instrument.size_scale
