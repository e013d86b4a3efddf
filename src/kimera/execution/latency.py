"""Latency models: how long an order takes to reach the venue, and its reports to come back.

`ConstantLatency` is hftbacktest's ConstantLatency plus a market-data delay (a strategy that sees data
`md_ns` late and acts is equivalent to acting on time and reaching the venue `md_ns` later, because the
strategy only knows what it has seen). `FeedLatency` uses the latency observed on the market-data feed
itself (recv_ns - exchange_ns of the latest event) times a factor, the proxy hftbacktest's docs suggest
when no order-latency log exists; their IntpOrderLatency interpolates a recorded order-latency log instead.
"""

from __future__ import annotations

from typing import Protocol


class LatencyModel(Protocol):
    """Entry (submit -> venue) and response (venue -> client) delays in ns at event time `now_ns`."""

    def entry_ns(self, now_ns: int) -> int: ...

    def response_ns(self, now_ns: int) -> int: ...

    def observe(self, recv_ns: int, exchange_ns: int) -> None: ...


class ConstantLatency:
    """Fixed delays: entry = `md_ns + order_ns`, response = `response_ns`."""

    def __init__(self, order_ns: int = 0, response_ns: int = 0, md_ns: int = 0) -> None:
        for name, v in (("order_ns", order_ns), ("response_ns", response_ns), ("md_ns", md_ns)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"ConstantLatency.{name} must be a non-negative int of ns, got {v!r}")
        self.order_ns = order_ns
        self.resp_ns = response_ns
        self.md_ns = md_ns

    def entry_ns(self, now_ns: int) -> int:
        """Market-data delay plus order delay."""
        return self.md_ns + self.order_ns

    def response_ns(self, now_ns: int) -> int:
        """Report delay."""
        return self.resp_ns

    def observe(self, recv_ns: int, exchange_ns: int) -> None:
        """Constant: ignores the feed."""


class FeedLatency:
    """Delays proportional to the feed's own latest one-way latency (clamped to [floor_ns, cap_ns])."""

    def __init__(self, entry_factor: float = 1.0, response_factor: float = 1.0, floor_ns: int = 100_000,
                 cap_ns: int = 1_000_000_000) -> None:
        if not (entry_factor >= 0 and response_factor >= 0) or floor_ns < 0 or cap_ns < floor_ns:
            raise ValueError("FeedLatency: factors must be >= 0 and 0 <= floor_ns <= cap_ns")
        self.entry_factor = entry_factor
        self.response_factor = response_factor
        self.floor_ns = floor_ns
        self.cap_ns = cap_ns
        self.last_ns = floor_ns

    def observe(self, recv_ns: int, exchange_ns: int) -> None:
        """Fold in one event's feed latency (ignored when the venue time is missing or ahead of ours)."""
        d = recv_ns - exchange_ns
        if exchange_ns > 0 and d >= 0:
            self.last_ns = min(self.cap_ns, max(self.floor_ns, d))

    def entry_ns(self, now_ns: int) -> int:
        """Entry delay."""
        return int(self.last_ns * self.entry_factor)

    def response_ns(self, now_ns: int) -> int:
        """Response delay."""
        return int(self.last_ns * self.response_factor)
