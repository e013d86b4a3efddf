"""A small synchronous message bus (topic = event type) and the clock handlers read time from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class Clock:
    """Event time in ns: set by the engine to each event's receive time (replay) or to wall time (live)."""

    __slots__ = ("now_ns",)

    def __init__(self, start_ns: int = 0) -> None:
        self.now_ns = start_ns

    def advance(self, ns: int) -> None:
        """Move time forward (time never goes backwards)."""
        if ns > self.now_ns:
            self.now_ns = ns


class MessageBus:
    """Publish by type; handlers run synchronously in subscription order, so results are deterministic."""

    def __init__(self) -> None:
        self._subs: dict[type, list[Handler]] = defaultdict(list)
        self.published = 0

    def subscribe(self, topic: type, handler: Handler) -> None:
        """Call `handler(msg)` for every published message of exactly this type."""
        self._subs[topic].append(handler)

    def handlers(self, topic: type) -> list[Handler]:
        """The live handler list of `topic` (later subscriptions append to it): for driving loops that
        dispatch millions of events themselves; they add what they delivered to `published`."""
        return self._subs[topic]

    def publish(self, msg: Any) -> None:
        """Deliver `msg` to its type's handlers."""
        self.published += 1
        for h in self._subs.get(type(msg), ()):
            h(msg)
