"""Features for many instruments, fed from the bus (`BookUpdate`, `Trade`): one `FeatureEngine` each."""

from __future__ import annotations

from collections.abc import Callable

from kimera.engine.books import BookUpdate
from kimera.engine.bus import MessageBus
from kimera.features.market import FeatureConfig, FeatureEngine, MarketFeatures
from kimera.model import Instrument, Trade


class FeatureHub:
    """Keeps a `FeatureEngine` per `VENUE:SYMBOL`; `latest(key)` is the last features computed."""

    def __init__(
        self, instruments: Callable[[str, str], Instrument], config: FeatureConfig | None = None
    ) -> None:
        self.instrument_for = instruments
        self.config = config or FeatureConfig()
        self.engines: dict[str, FeatureEngine] = {}
        self._by_pair: dict[tuple[str, str], FeatureEngine] = {}  # (venue, symbol) -> engine, for trades
        self._by_id: dict[int, tuple[Instrument, FeatureEngine]] = {}  # id(instrument) -> engine, for books

    def engine(self, instrument: Instrument) -> FeatureEngine:
        """The engine of an instrument, created on first use."""
        eng = self.engines.get(instrument.key)
        if eng is None:
            eng = self.engines[instrument.key] = FeatureEngine(instrument, self.config)
        return eng

    def on_book(self, u: BookUpdate) -> MarketFeatures | None:
        """Fold a book update in and return the instrument's features."""
        book = u.book
        inst = book.instrument
        hit = self._by_id.get(id(inst))
        if hit is None or hit[0] is not inst:  # (the instrument is held in the entry, so its id stays unique)
            hit = self._by_id[id(inst)] = (inst, self.engine(inst))
        return hit[1].on_book(book, u.recv_ns)

    def _on_book_event(self, u: BookUpdate) -> None:
        self.on_book(u)

    def on_trade(self, t: Trade) -> None:
        """Fold a trade into its instrument's flow."""
        pair = (t.venue, t.symbol)
        eng = self._by_pair.get(pair)
        if eng is None:
            eng = self.engines.get(f"{t.venue}:{t.symbol}")
            if eng is None:
                eng = self.engine(self.instrument_for(t.venue, t.symbol))
            self._by_pair[pair] = eng
        eng.on_trade(t)

    def latest(self, key: str) -> MarketFeatures | None:
        """The last features of `VENUE:SYMBOL` (None before its first book update)."""
        eng = self.engines.get(key)
        return None if eng is None else eng.last

    def attach(self, bus: MessageBus) -> None:
        """Subscribe to the bus (subscribe this before strategies so they see fresh features)."""
        bus.subscribe(BookUpdate, self._on_book_event)
        bus.subscribe(Trade, self.on_trade)
