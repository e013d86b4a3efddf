"""The consolidated book over two emulated venues (Binance and Kraken protocols, different decimals):
best bid/ask with the venue named, a planted cross-venue arbitrage net of fees, and stale/untrusted venues
left out and reported. Expected values come from the emulators' own books, walked with exact Decimals."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from kimera.aggregator import ConsolidatedBook
from kimera.book import OrderBook
from kimera.emulator import Emulator, Source
from kimera.model import BookSnapshot, Instrument
from kimera.venues.feeds import make_feed
from kimera.venues.stream import StreamClient, StreamConfig


def dec_levels(book: OrderBook, bids: bool) -> list[tuple[Decimal, Decimal]]:
    inst = book.instrument
    side = book.bids if bids else book.asks
    return [(Decimal(p) / inst.price_scale, Decimal(q) / inst.size_scale) for p, q in side.iter_best()]


def oracle_arbitrage(buy: OrderBook, sell: OrderBook, fee_buy: Decimal, fee_sell: Decimal) -> tuple[Decimal, Decimal]:
    """(size, net profit) of buying `buy`'s asks and selling `sell`'s bids while each unit pays after fees."""
    asks, bids = dec_levels(buy, False), dec_levels(sell, True)
    i = j = 0
    aq, bq = asks[0][1], bids[0][1]
    size = net = Decimal(0)
    while i < len(asks) and j < len(bids):
        ap, bp = asks[i][0], bids[j][0]
        unit = bp * (1 - fee_sell) - ap * (1 + fee_buy)
        if unit <= 0:
            break
        take = min(aq, bq)
        size += take
        net += take * unit
        aq -= take
        bq -= take
        if not aq:
            i += 1
            aq = asks[i][1] if i < len(asks) else Decimal(0)
        if not bq:
            j += 1
            bq = bids[j][1] if j < len(bids) else Decimal(0)
    return size, net


def test_two_emulated_venues_best_prices_planted_arbitrage_and_staleness() -> None:
    async def main() -> None:
        low = Source.simulated(symbol="BTCUSDT", seed=1, n_events=400, start_price=60_000)
        high = Source.simulated(symbol="XBT/USD", seed=2, n_events=400, start_price=60_600)  # planted: +1%
        async with Emulator("binance", low) as eb, Emulator("kraken", high, symbols=["XBT/USD"]) as ek:
            cfg = StreamConfig(stale_after_s=30)
            cb_client = StreamClient(make_feed("binance", "BTCUSDT"), eb.ws_url, eb.http_url, config=cfg)
            kr_client = StreamClient(make_feed("kraken", "XBT/USD", depth=100), ek.ws_url, config=cfg)
            tasks = [asyncio.create_task(cb_client.run()), asyncio.create_task(kr_client.run())]
            await eb.wait_finished(30)
            await ek.wait_finished(30)
            for _ in range(200):
                if (cb_client.book.trusted and kr_client.book.trusted
                        and cb_client.book.book.depth(100) == eb.book().depth(100)
                        and kr_client.book.book.depth(100) == ek.book("XBT/USD").depth(100)):
                    break
                await asyncio.sleep(0.025)
            cb = ConsolidatedBook("BTC-USD", price_decimals=8, size_decimals=8, stale_after_s=30)
            cb.add_stream("binance", cb_client)
            cb.add_stream("kraken", kr_client)
            b_book, k_book = eb.book(), ek.book("XBT/USD")

            top = cb.top()
            assert top.excluded == {}
            assert top.bid is not None and top.ask is not None
            assert top.bid.venue == "kraken" and Decimal(top.bid.price) / 10**8 == dec_levels(k_book, True)[0][0]
            assert top.ask.venue == "binance" and Decimal(top.ask.price) / 10**8 == dec_levels(b_book, False)[0][0]
            assert top.bid.qty == float(dec_levels(k_book, True)[0][1])

            arbs = cb.arbitrage()
            assert [(a.buy_venue, a.sell_venue) for a in arbs] == [("binance", "kraken")]
            size, net = oracle_arbitrage(b_book, k_book, Decimal("0.001"), Decimal("0.0026"))
            assert size > 0 and net > 0
            assert arbs[0].size == pytest.approx(float(size), rel=1e-12)
            assert arbs[0].net == pytest.approx(float(net), rel=1e-9)
            assert arbs[0].top_edge > 0

            bids, asks = cb.depth(5)
            assert bids[0].by_venue.keys() == {"kraken"} and asks[0].by_venue.keys() == {"binance"}

            cb_client.book.invalidate("test: a gap")  # an untrusted venue is left out and named
            top = cb.top()
            assert top.excluded == {"binance": "untrusted"} and top.ask is not None and top.ask.venue == "kraken"
            assert cb.arbitrage() == []

            cb_client.stop()  # binance goes silent; kraken keeps sending heartbeats
            await tasks[0]
            cb_client.book.trusted = True  # its last book was fine: only silence should exclude it now
            cb.stale_after_s = 2.0
            await asyncio.sleep(2.5)
            top = cb.top()
            assert list(top.excluded) == ["binance"] and top.excluded["binance"].startswith("stale")
            kr_client.stop()
            await tasks[1]

    asyncio.run(main())


def book(venue: str, pd: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], fee: float) -> OrderBook:
    inst = Instrument(venue, "BTC-USD", pd, 8, taker_fee=fee)
    b = OrderBook(inst)
    b.apply_snapshot(BookSnapshot(venue, "BTC-USD", 1, [(inst.price(p), inst.size(q)) for p, q in bids],
                                  [(inst.price(p), inst.size(q)) for p, q in asks], 0, 0))
    return b


def test_fill_and_ladder_across_venues_by_hand() -> None:
    now = [100.0]
    cb = ConsolidatedBook("BTC-USD", clock=lambda: now[0], stale_after_s=5)
    a = book("A", 2, [("99.00", "1")], [("100.00", "1"), ("101.00", "2")], fee=0.001)
    b = book("B", 1, [("99.5", "2")], [("100.5", "1"), ("101.0", "1")], fee=0.002)
    cb.add_venue("A", a)
    cb.add_venue("B", b)
    bids, asks = cb.depth(3)
    assert [(r.price, r.size) for r in asks] == [(100 * 10**8, 10**8), (1005 * 10**7, 10**8), (101 * 10**8, 3 * 10**8)]
    assert asks[2].by_venue == {"A": 2 * 10**8, "B": 10**8}
    assert [(r.price, r.by_venue) for r in bids] == [(995 * 10**7, {"B": 2 * 10**8}), (99 * 10**8, {"A": 10**8})]
    fill = cb.cost_to_fill(True, 2.5)  # 1 @ 100 (A) + 1 @ 100.5 (B) + 0.5 @ 101 (A first: added first)
    assert fill.complete and fill.filled == 2.5
    assert fill.notional == pytest.approx(100 + 100.5 + 50.5)
    assert fill.fees == pytest.approx(100 * 0.001 + 100.5 * 0.002 + 50.5 * 0.001)
    assert fill.legs == {"A": (1.5, pytest.approx(150.5)), "B": (1.0, pytest.approx(100.5))}
    assert cb.arbitrage() == []  # best bid 99.5 < best ask 100: nothing crosses
    now[0] += 6  # nobody touched either venue for 6 s
    assert set(cb.top().excluded) == {"A", "B"} and cb.top().bid is None
    cb.touch("B")
    assert cb.top().bid is not None and cb.top().bid.venue == "B"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="finer than the consolidated scale"):
        cb.add_venue("C", book("C", 9, [], [], 0.0))
