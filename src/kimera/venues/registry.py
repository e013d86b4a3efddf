"""Which sync rule and checksum each venue uses; adapters register here so the book logic lives once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kimera.book.sync import ChecksumFn, ContiguousRule, SequenceRule
from kimera.model import Instrument


@dataclass(frozen=True)
class VenueSpec:
    """A venue's book protocol: its diff-chain rule and, where it sends one, its book checksum."""

    name: str
    rule: Callable[[], SequenceRule]
    instrument: Callable[[str], Instrument]
    checksum: ChecksumFn | None = None
    max_depth: int | None = None  # book depth the venue maintains without sending deletes beyond it


_VENUES: dict[str, VenueSpec] = {}


def register_venue(spec: VenueSpec) -> None:
    """Declare a venue (idempotent for the same name)."""
    _VENUES[spec.name] = spec


def venue_spec(name: str) -> VenueSpec:
    """The spec of a venue; unknown venues are a clear error listing the known ones."""
    try:
        return _VENUES[name]
    except KeyError:
        raise KeyError(f"unknown venue {name!r}; known: {sorted(_VENUES)}") from None


def resolve_instrument(venue: str, symbol: str) -> Instrument:
    """The instrument for `venue`/`symbol` from the venue's own precision table."""
    return venue_spec(venue).instrument(symbol)


def _register_builtin() -> None:
    from kimera.data import lobster
    from kimera.sim import market as sim
    from kimera.venues import binance, bybit, coinbase, kraken, okx

    register_venue(VenueSpec(binance.VENUE, lambda: binance.rule("spot"), lambda s: binance.instrument(s, "spot")))
    register_venue(VenueSpec(binance.VENUE_USDM, lambda: binance.rule("usdm"), lambda s: binance.instrument(s, "usdm")))
    register_venue(VenueSpec(lobster.VENUE, ContiguousRule, lobster.instrument))
    register_venue(VenueSpec(sim.VENUE, ContiguousRule, sim.instrument))
    register_venue(VenueSpec(kraken.VENUE, kraken.rule, kraken.instrument, kraken.checksum, kraken.DEFAULT_DEPTH))
    register_venue(VenueSpec(coinbase.VENUE, coinbase.rule, coinbase.instrument))
    register_venue(VenueSpec(bybit.VENUE, bybit.rule, bybit.instrument))
    register_venue(VenueSpec(bybit.VENUE_V1, bybit.rule_v1, bybit.instrument_v1))
    register_venue(VenueSpec(okx.VENUE, okx.rule, okx.instrument, okx.checksum))


_register_builtin()
