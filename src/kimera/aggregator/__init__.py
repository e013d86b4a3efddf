"""One instrument across venues: best bid/ask with the venue named, merged depth, fills and arbitrage."""

from kimera.aggregator.consolidated import Arbitrage, ConsolidatedBook, Fill, LadderRow, Top, VenueLevel

__all__ = ["Arbitrage", "ConsolidatedBook", "Fill", "LadderRow", "Top", "VenueLevel"]
