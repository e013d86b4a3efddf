"""What the emulator serves: a stream of normalised events, from a recorded capture or the simulated market.

A `Source` is venue-neutral: the emulator re-encodes its events in the wire format of the protocol it
speaks, rescaling prices and sizes to that venue's decimals (exactly; a finer source scale is an error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kimera.model import Event, Instrument
from kimera.sim.market import SimParams, SimulatedMarket
from kimera.venues.registry import resolve_instrument


@dataclass
class Source:
    """Events to serve, and how to find the instrument (the integer scale) of an event's venue and symbol."""

    events: Iterable[Event]
    instrument: Callable[[str, str], Instrument] = resolve_instrument
    name: str = "source"

    @classmethod
    def simulated(cls, symbol: str = "BTCUSDT", seed: int = 7, n_events: int = 10**9,
                  start_price: float | None = None) -> Source:
        """The embedded zero-intelligence market (calibrated on BTCUSDT); lazy, so `n_events` may be huge."""
        params = SimParams.default()
        if start_price is not None:
            params.start_price = start_price
        market = SimulatedMarket(params, seed=seed, symbol=symbol)
        return cls(market.events(n_events), lambda venue, sym: market.inst, f"simulated market, seed {seed}")

    @classmethod
    def binance_capture(cls, paths: Iterable[str | Path], symbol: str = "BTCUSDT", market: str | None = None) -> Source:
        """A Binance `<recv_ns> <json>` capture (the shared binance-*-l2 folders)."""
        from kimera.data.binance import detect_market, load_binance_capture

        ps = [Path(p) for p in paths]
        mk = market or detect_market(ps[0])
        return cls(load_binance_capture(ps, mk, symbol), name=f"binance {mk} capture {ps[0].name}")

    @classmethod
    def cryptofeed_capture(cls, paths: Iterable[str | Path], symbols: Iterable[str] | None = None) -> Source:
        """A cryptofeed raw capture (e.g. KRAKEN.ws.50.0.gz), optionally restricted to some symbols."""
        from kimera.data.wscaptures import load_cryptofeed

        ps = [Path(p) for p in paths]
        keep = set(symbols) if symbols is not None else None

        def filtered() -> Iterator[Event]:
            for e in load_cryptofeed(ps):
                if keep is None or e.symbol in keep:
                    yield e

        return cls(filtered(), name=f"cryptofeed capture {ps[0].name}")
