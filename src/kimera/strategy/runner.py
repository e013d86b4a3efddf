"""Drives strategies from the message bus (replay, paper or live alike) and hands their intents to a sink."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kimera.engine.books import BookUpdate
from kimera.engine.bus import MessageBus
from kimera.features import FeatureHub
from kimera.model import Bar, Trade
from kimera.strategy.base import Strategy
from kimera.strategy.intent import OrderIntent

IntentSink = Callable[[OrderIntent], None]


class StrategyRunner:
    """Subscribes to `BookUpdate`, `Trade` and `Bar`; updates features first, then calls each strategy.

    Timers run on event time: before each event is dispatched, every timer whose deadline is at or before
    the event's receive time fires (in deadline order), so backtests are deterministic and live runs
    behave the same. Intents go to `sink` in the order produced.
    """

    def __init__(self, features: FeatureHub, strategies: Sequence[Strategy], sink: IntentSink) -> None:
        self.features = features
        self.strategies = tuple(strategies)
        self.sink = sink
        self.intents = 0
        self._timers: list[tuple[int, int, Strategy, str, int]] = []  # (due, order, strategy, name, interval)
        for k, s in enumerate(self.strategies):
            for t in s.timers():
                if t.interval_ns <= 0:
                    raise ValueError(f"{s.strategy_id}: timer {t.name!r} interval must be > 0, got {t.interval_ns}")
                self._timers.append((-1, k, s, t.name, t.interval_ns))
        # strategies that override a callback (the base ones return no intents): only these are called
        self._on_trade = tuple(s.on_trade for s in self.strategies if type(s).on_trade is not Strategy.on_trade)
        self._features_on_trade = features.on_trade
        self._on_bar = tuple(s.on_bar for s in self.strategies if type(s).on_bar is not Strategy.on_bar)

    def attach(self, bus: MessageBus) -> None:
        """Subscribe features and strategies to the bus."""
        bus.subscribe(BookUpdate, self.on_book)
        bus.subscribe(Trade, self.on_trade)
        bus.subscribe(Bar, self.on_bar)

    def _emit(self, out: Sequence[OrderIntent]) -> None:
        for it in out:
            self.intents += 1
            self.sink(it)

    def _fire_timers(self, now_ns: int) -> None:
        if not self._timers:
            return
        timers = self._timers
        for idx, (due, k, s, name, every) in enumerate(timers):
            if due < 0:  # first event starts the timer
                timers[idx] = (now_ns + every, k, s, name, every)
        while True:
            idx, entry = min(enumerate(timers), key=lambda e: (e[1][0], e[1][1]))
            due, k, s, name, every = entry
            if due > now_ns:
                return
            timers[idx] = (due + every, k, s, name, every)
            self._emit(s.on_timer(name, due))

    def on_book(self, u: BookUpdate) -> None:
        """Features, then each strategy's `on_book`."""
        if self._timers:
            self._fire_timers(u.recv_ns)
        f = self.features.on_book(u)
        if f is None:
            return
        for s in self.strategies:
            out = s.on_book(u, f)
            if out:
                self._emit(out)

    def on_trade(self, t: Trade) -> None:
        """Flow features, then each strategy's `on_trade`."""
        if self._timers:
            self._fire_timers(t.recv_ns)
        self._features_on_trade(t)
        for on_trade in self._on_trade:
            out = on_trade(t)
            if out:
                self._emit(out)

    def on_bar(self, b: Bar) -> None:
        """Each strategy's `on_bar`."""
        if self._timers:
            self._fire_timers(b.recv_ns or b.end_ns)
        for on_bar in self._on_bar:
            out = on_bar(b)
            if out:
                self._emit(out)
