"""The one strategy interface: event callbacks that return order intents, identical in backtest/paper/live."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

from kimera.engine.books import BookUpdate
from kimera.features import MarketFeatures
from kimera.model import Bar, Instrument, Side, Trade
from kimera.strategy.intent import OrderIntent, OrderType, Signal, TimeInForce

NO_INTENTS: tuple[OrderIntent, ...] = ()


class Timer(NamedTuple):
    """A named periodic timer: `on_timer(name, now_ns)` fires every `interval_ns` of event time."""

    name: str
    interval_ns: int


class Strategy:
    """Callbacks get events (and the instrument's features, for books) and return intents.

    A strategy never reads the wall clock or an exchange: time comes from the event, so the same object
    runs unchanged in a backtest, on paper or live (the runner feeds it, a sink consumes its intents).
    """

    strategy_id: str = "strategy"

    def on_book(self, update: BookUpdate, features: MarketFeatures) -> Sequence[OrderIntent]:
        """After each applied book update of a subscribed instrument."""
        return NO_INTENTS

    def on_trade(self, trade: Trade) -> Sequence[OrderIntent]:
        """After each public trade."""
        return NO_INTENTS

    def on_bar(self, bar: Bar) -> Sequence[OrderIntent]:
        """After each bar."""
        return NO_INTENTS

    def timers(self) -> Sequence[Timer]:
        """Timers this strategy wants (event-time driven)."""
        return ()

    def on_timer(self, name: str, now_ns: int) -> Sequence[OrderIntent]:
        """When timer `name` is due."""
        return NO_INTENTS


class SignalStrategy(Strategy, ABC):
    """A strategy defined by one signal of the features; trades when the signal turns to a new direction.

    Edge-triggered: one market IOC intent each time the direction changes to a non-zero value with
    confidence >= `min_confidence`; size = `base_quantity` × confidence, rounded down to the lot.
    """

    key_features: tuple[tuple[str, float], ...] = ()
    """Features this strategy's decision reads beyond the decision cache's base key (price, volatility,
    trend sign, top-5 imbalance), with the quantum to bucket each by: (MarketFeatures field, quantum)."""

    def __init__(
        self, strategy_id: str, instrument: Instrument, base_quantity: int, min_confidence: float = 0.0
    ) -> None:
        if not strategy_id:
            raise ValueError("strategy_id must be a non-empty string")
        if isinstance(base_quantity, bool) or not isinstance(base_quantity, int) or base_quantity <= 0:
            raise ValueError(f"{strategy_id}: base_quantity must be a positive fixed-point int, got {base_quantity!r}")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"{strategy_id}: min_confidence must be in [0, 1], got {min_confidence!r}")
        self.strategy_id = strategy_id
        self.instrument = instrument
        self._inst_key = instrument.key
        self.base_quantity = base_quantity
        self.min_confidence = min_confidence
        self._last_direction = 0

    @abstractmethod
    def signal(self, f: MarketFeatures) -> Signal:
        """This strategy's view of the current features."""

    def on_book(self, update: BookUpdate, features: MarketFeatures) -> Sequence[OrderIntent]:
        if features.symbol != self._inst_key:
            return NO_INTENTS
        s = self.signal(features)
        return self.intents_for(s.direction, s.confidence, (s,), 0.0, features.recv_ns)

    def intents_for(
        self, direction: int, confidence: float, signals: tuple[Signal, ...], tension_rate: float, now_ns: int,
        size_fraction: float = 1.0,
    ) -> Sequence[OrderIntent]:
        """The intent (if any) for a decided direction, edge-triggered on direction changes."""
        if direction == self._last_direction:
            return NO_INTENTS
        self._last_direction = direction
        if direction == 0 or confidence < self.min_confidence:
            return NO_INTENTS
        lot = self.instrument.lot_size
        qty = int(self.base_quantity * confidence * size_fraction) // lot * lot
        if qty <= 0:
            return NO_INTENTS
        return (
            OrderIntent(
                self.instrument, Side.BUY if direction > 0 else Side.SELL, qty, None, OrderType.MARKET,
                TimeInForce.IOC, self.strategy_id, confidence, signals, tension_rate, now_ns,
            ),
        )
