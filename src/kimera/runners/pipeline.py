"""The trading pipeline shared by every runner: books -> features -> strategies -> risk -> orders -> venue
-> fills -> portfolio, with every order, transition, fill and position change journaled first.

`run(events)` drives it from a recorded or simulated stream deterministically: before each market event
the venue processes the requests that have reached it by then, then the event is published.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kimera.book import OrderBook, SyncedBook
from kimera.engine.books import BookManager, BookUpdate
from kimera.engine.bus import Clock, MessageBus
from kimera.execution.intents import RiskGate, order_kind
from kimera.execution.latency import FeedLatency, LatencyModel
from kimera.execution.manager import JournalSink, OrderManager
from kimera.execution.orders import ClientIdGenerator, Fill, Order, OrderEvent, OrderKind
from kimera.execution.queue import QueueModel
from kimera.execution.venue import FeeSchedule, SimulatedVenue
from kimera.features import FeatureHub
from kimera.journal.sqlite import NullJournal
from kimera.model import Event, Instrument, Side, Trade
from kimera.portfolio.accounting import Portfolio
from kimera.strategy.base import Strategy
from kimera.strategy.intent import OrderIntent
from kimera.strategy.runner import StrategyRunner


@dataclass
class RunRecord:
    """What the report plots: sampled mids, fills, positions, tension, risk rejections, ack latencies."""

    mids: list[tuple[int, float]] = field(default_factory=list)
    fills: list[tuple[int, float, int, float]] = field(default_factory=list)  # ts, price, side, size
    positions: list[tuple[int, float]] = field(default_factory=list)
    tension: list[tuple[int, float]] = field(default_factory=list)
    rejections: list[tuple[int, str]] = field(default_factory=list)
    closing: list[float] = field(default_factory=list)  # net PnL of each position-reducing fill
    intents: int = 0


@dataclass
class RunResult:
    """Summary of a run."""

    events: int
    seconds: float
    orders: int
    fills: int
    rejections: int
    portfolio: dict[str, float]
    journal_records: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def events_per_s(self) -> float:
        """Throughput."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


class TradingPipeline:
    """Wires one run; `venue_factory` lets paper/live runners swap the simulated venue for a real one."""

    def __init__(
        self,
        instruments: Callable[[str, str], Instrument],
        strategies: Sequence[Strategy],
        journal: JournalSink | None = None,
        risk: RiskGate | None = None,
        latency: LatencyModel | None = None,
        queue: QueueModel | None = None,
        fees: dict[str, FeeSchedule] | None = None,
        initial_cash: float = 100_000.0,
        sample_ns: int = 1_000_000_000,
        id_prefix: str = "k",
        advance_on_events: bool = False,
        venue_factory: Callable[[OrderManager], Any] | None = None,
    ) -> None:
        self.bus = MessageBus()
        self.clock = Clock()
        self.books = BookManager(self.bus, instruments, check_crossed=False)
        self.instruments = instruments
        self.features = FeatureHub(instruments)
        self.strategies = list(strategies)
        self.journal: JournalSink = journal if journal is not None else NullJournal()
        self.risk = risk
        self.om = OrderManager(self.bus, self.journal, ClientIdGenerator(id_prefix))
        self.latency = latency
        # the simulated venue, or (live) what `venue_factory` builds: the same submit/advance/on_book/on_trade
        self.venue = (SimulatedVenue(self.om, self.book_for, latency, queue, fees) if venue_factory is None
                      else venue_factory(self.om))
        self.portfolio = Portfolio(initial_cash, self.journal, sample_ns)
        self.record = RunRecord()
        self.sample_ns = sample_ns
        self._next_mid: dict[str, int] = {}
        self.events_seen = 0  # index of the next market event (journal records carry it)
        self._observe_feed = isinstance(latency, FeedLatency)
        # optional smart order routing: intent -> child orders (instrument, size, limit price), sent as IOC
        self.router: Callable[[OrderIntent], list[tuple[Instrument, int, int]]] | None = None
        self.external_books: dict[str, SyncedBook] = {}  # books kept by stream clients (paper, live)
        if advance_on_events:  # live clock: requests in flight reach the venue as events arrive
            self.bus.subscribe(BookUpdate, lambda u: self._live_tick(u.recv_ns))
            self.bus.subscribe(Trade, lambda t: self._live_tick(t.recv_ns))
        self.bus.subscribe(BookUpdate, self._on_book)  # venue and marks first: strategies see fresh fills
        self.bus.subscribe(Trade, self.venue.on_trade)
        self.runner = StrategyRunner(self.features, self.strategies, self._on_intent)
        self.runner.attach(self.bus)
        self.bus.subscribe(Fill, self._on_fill)
        self.bus.subscribe(OrderEvent, self._on_order_event)

    def book_for(self, key: str) -> OrderBook | None:
        """The trusted book of `VENUE:SYMBOL`, None if unknown or out of sync."""
        sb = self.external_books.get(key) or self.books.books.get(key)
        return sb.book if sb is not None and sb.trusted else None

    def _live_tick(self, recv_ns: int) -> None:
        # events published straight on the bus (stream clients) bypass `run`: advance the clock here, so
        # intents, orders and risk checks are stamped on the same receive clock as the market data
        if recv_ns > self.clock.now_ns:
            self.clock.now_ns = recv_ns
        self.venue.advance(recv_ns)

    # -- bus handlers ---------------------------------------------------------------------------
    def _on_book(self, u: BookUpdate) -> None:
        self.venue.on_book(u)
        key = u.book.instrument.key
        mid = u.book.mid()
        if mid is not None:
            self.portfolio.mark(key, mid, u.recv_ns)
            if u.recv_ns >= self._next_mid.get(key, 0):
                self._next_mid[key] = u.recv_ns + self.sample_ns // 4
                self.record.mids.append((u.recv_ns, mid))

    def _on_intent(self, intent: OrderIntent) -> None:
        self.handle_intents((intent,), self.clock.now_ns)

    def _on_fill(self, f: Fill) -> None:
        order = self.om.get(f.client_id)
        pos = self.portfolio.position(order.instrument)
        reducing = pos.qty != 0 and (pos.qty > 0) != (int(f.side) > 0)
        realised = self.portfolio.on_fill(f, order.instrument)
        if reducing:
            self.record.closing.append(realised - f.fee)
        inst = order.instrument
        self.record.fills.append((f.ts_ns, inst.px(f.price), int(f.side), inst.qty(f.size)))
        self.record.positions.append((f.ts_ns, self.portfolio.position(inst).size))

    def _on_order_event(self, e: OrderEvent) -> None:
        if e.reason and e.status.value == "rejected":
            self.record.rejections.append((e.ts_ns, e.reason))

    # -- orders ---------------------------------------------------------------------------------
    def handle_intents(self, intents: Sequence[OrderIntent], now_ns: int) -> list[Order]:
        """Risk-check each intent; submit the ones that pass."""
        out = []
        for it in intents:
            self.record.intents += 1
            self.record.tension.append((now_ns, it.tension_rate))
            if self.risk is not None:
                why = self.risk.check(it, now_ns)
                if why is not None:
                    self.journal.write("reject", now_ns, {"strategy": it.strategy_id, "inst": it.instrument.key,
                                                          "side": int(it.side), "qty": it.quantity, "why": why})
                    self.record.rejections.append((now_ns, why))
                    continue
            if self.router is not None:
                for inst, qty, limit in self.router(it):
                    out.append(self.submit(inst, it.side, OrderKind.IOC, qty, limit, now_ns, it.strategy_id))
                continue
            out.append(self.submit(it.instrument, it.side, order_kind(it), it.quantity, it.price, now_ns,
                                   it.strategy_id))
        return out

    def submit(self, instrument: Instrument, side: Side, kind: OrderKind, quantity: int, price: int | None,
               now_ns: int, strategy_id: str = "") -> Order:
        """Create (journaled) and send an order to the venue."""
        order = self.om.create(instrument, side, kind, quantity, price, now_ns, strategy_id)
        self.venue.submit(order, now_ns)
        return order

    # -- driving --------------------------------------------------------------------------------
    def run(self, events: Iterable[Event]) -> RunResult:
        """Drive the pipeline through a stream, in order."""
        t0 = time.perf_counter()
        venue, clock, journal = self.venue, self.clock, self.journal
        handlers: dict[type, list[Callable[[Any], None]]] = {}  # event type -> the bus's live handler list
        handlers_for = self.bus.handlers
        observe = self.latency.observe if (self._observe_feed and self.latency is not None) else None
        pending = venue._pending
        n = self.events_seen
        start = n
        for ev in events:
            t = ev.recv_ns
            if pending and pending[0][0] <= t:
                venue.advance(t)
            if t > clock.now_ns:
                clock.now_ns = t
            journal.event_idx = n  # type: ignore[attr-defined]
            if observe is not None:
                observe(t, getattr(ev, "exchange_ns", t))
            hs = handlers.get(type(ev))  # `bus.publish(ev)`, inlined: one call less per event
            if hs is None:
                hs = handlers[type(ev)] = handlers_for(type(ev))
            for h in hs:
                h(ev)
            n += 1
        seconds = time.perf_counter() - t0
        self.bus.published += n - start
        self.events_seen = n
        self.portfolio.sample(clock.now_ns, force=True)
        return self.result(n - start, seconds)

    def result(self, events: int, seconds: float, extra: dict[str, Any] | None = None) -> RunResult:
        """The run's summary from this pipeline's order, fill, rejection, portfolio and journal counters."""
        return RunResult(
            events=events, seconds=seconds, orders=len(self.om.orders), fills=self.om.fills,
            rejections=len(self.record.rejections), portfolio=self.portfolio.summary(),
            journal_records=getattr(self.journal, "next_seq", 0), extra=extra or {},
        )
