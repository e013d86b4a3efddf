"""Current-API message examples (exchange-json-fixtures-docs) through every adapter, values checked by hand
against the JSON; OKX's checksum against the test vectors of OKX's own documentation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kimera.book import OrderBook
from kimera.model import BookDelta, BookSnapshot, Instrument, Quote, Side, Trade
from kimera.model.fixed import FixedPointError
from kimera.venues import okx
from kimera.venues.binance import BinanceAdapter
from kimera.venues.bybit import BybitAdapter
from kimera.venues.coinbase import CoinbaseAdapter
from kimera.venues.common import price, size
from kimera.venues.kraken import KrakenAdapter
from kimera.venues.okx import OkxAdapter
from tests.conftest import data_path

E8 = 10**8


def fixture(name: str) -> Any:
    return json.loads(data_path("exchange-json-fixtures-docs", name).read_text())


def test_binance_streams_and_depth() -> None:
    ad = BinanceAdapter("spot", "BTCUSDT")  # spot scale 8/8 holds the docs' made-up futures numbers
    d = ad.parse(fixture("binance__futures__market_data_json__depth_update_stream.json"), 1)
    assert isinstance(d, BookDelta)
    assert (d.first_update_id, d.last_update_id, d.prev_update_id) == (157, 160, 149)
    assert d.bids == [(240_000, 10 * E8)] and d.asks == [(260_000, 100 * E8)]
    q = ad.parse(fixture("binance__futures__market_data_json__book_ticker_stream.json"), 1)
    assert isinstance(q, Quote) and q.update_id == 400900217
    assert (q.bid_px, q.ask_px) == (2_535_190_000, 2_536_520_000) and q.bid_qty == 3_121_000_000
    t = ad.parse(fixture("binance__futures__market_data_json__trade_stream.json"), 1)
    assert isinstance(t, Trade) and t.trade_id == 5933014 and t.side is Side.SELL  # m=true: buyer was maker
    a = ad.parse(fixture("binance__futures__market_data_json__agg_trade_stream.json"), 1)
    assert isinstance(a, Trade) and a.trade_id == 5933014 and a.size == 100 * E8
    assert ad.parse(fixture("binance__futures__market_data_json__ticker_stream.json"), 1) is None  # 24h stats
    s = ad.snapshot(fixture("binance__spot__http_json__depth_response.json"), 1)
    assert s.update_id == 1027024 and s.bids == [(4 * E8, 431 * E8)] and s.asks == [(400_000_200, 12 * E8)]


def test_binance_usdm_rejects_prices_finer_than_its_tick() -> None:
    # BTCUSDT on USD-M is quoted at 2 decimals: the docs' "0.0024" cannot be a real BTCUSDT price
    with pytest.raises(FixedPointError, match=r"0\.0024"):
        BinanceAdapter("usdm", "BTCUSDT").parse(fixture("binance__futures__market_data_json__depth_update_stream.json"), 1)


def test_kraken_v2_book_trade_ticker() -> None:
    ad = KrakenAdapter()
    (snap,) = ad.parse(fixture("kraken__ws_book_snapshot.json"), 1)
    assert isinstance(snap, BookSnapshot) and snap.symbol == "BTC/USD" and snap.checksum == 2439117997
    assert snap.bids[0] == (1_059_442, 13_600_000) and snap.asks[-1] == (1_059_558, 300_000)  # 1 / 8 decimals
    (upd,) = ad.parse(fixture("kraken__ws_book_update.json"), 1)
    assert isinstance(upd, BookDelta) and upd.bids == [(1_059_442, 25_000_000)] and upd.asks == []
    assert upd.checksum == 2114181697
    trades = ad.parse(fixture("kraken__ws_trade_update.json"), 1)
    assert [(t.trade_id, t.side, t.size) for t in trades if isinstance(t, Trade)] == [
        (10218208, Side.BUY, 27_625), (10218209, Side.SELL, 12_460)]
    (q,) = ad.parse(fixture("kraken__ws_ticker_snapshot.json"), 1)
    assert isinstance(q, Quote) and (q.bid_px, q.bid_qty, q.ask_px, q.ask_qty) == (1_059_442, 250_000_000, 1_059_443,
                                                                                  320_000_000)
    rest = ad.rest_snapshot(fixture("kraken__http_order_book.json"), "XBT/USD", 1)
    assert rest.bids[0] == (10_594_420_000, 200_000) and len(rest.asks) == 5  # v1/REST strings: 5 decimals


def test_coinbase_advanced_l2_ticker_trades() -> None:
    ad = CoinbaseAdapter()
    (snap,) = ad.parse(fixture("coinbase__ws_l2_data_snapshot.json"), 1)
    assert isinstance(snap, BookSnapshot) and len(snap.bids) == 3 and len(snap.asks) == 3
    (upd,) = ad.parse(fixture("coinbase__ws_l2_data_update.json"), 1)
    assert isinstance(upd, BookDelta) and upd.asks == [(6_890_100_000_000, 0)]  # new_quantity 0 deletes
    book = OrderBook(Instrument("COINBASE", "BTC-USD"))
    book.apply_snapshot(snap)
    book.apply_delta(upd)
    assert book.best_bid() == (6_890_000_000_000, 2 * E8) and book.best_ask() == (6_890_150_000_000, 120_000_000)
    (q,) = ad.parse(fixture("coinbase__ws_ticker.json"), 1)
    assert isinstance(q, Quote) and (q.bid_px, q.bid_qty, q.ask_px) == (6_890_000_000_000, 150_000_000, 6_890_100_000_000)
    trades = ad.parse(fixture("coinbase__ws_market_trades.json"), 1)
    assert [(t.trade_id, t.side) for t in trades if isinstance(t, Trade)] == [(995098700, Side.BUY),
                                                                              (995098701, Side.SELL)]
    rest = ad.rest_snapshot(fixture("coinbase__http_product_book.json"), 1)
    assert rest.bids[1] == (6_892_300_000_000, 5_795_895) and rest.asks[0][0] == 6_892_367_000_000
    assert ad.parse(fixture("coinbase__ws_subscriptions.json"), 1) == []
    assert ad.parse(fixture("coinbase__ws_heartbeats.json"), 1) == []


def test_bybit_v5_book_trade_ticker() -> None:
    ad = BybitAdapter()
    (snap,) = ad.parse(fixture("bybit__ws_orderbook_snapshot.json"), 1)
    (delta,) = ad.parse(fixture("bybit__ws_orderbook_delta.json"), 1)
    assert isinstance(snap, BookSnapshot) and isinstance(delta, BookDelta)
    assert delta.last_update_id == snap.update_id + 1  # the v5 chain the ContiguousRule checks
    assert delta.asks == [(2_745_100_000_000, 0)]
    (t,) = ad.parse(fixture("bybit__ws_public_trade.json"), 1)
    assert isinstance(t, Trade) and t.side is Side.BUY and t.size == 1_000_000 and t.trade_id == -1  # UUID id
    (q,) = ad.parse(fixture("bybit__ws_ticker_linear.json"), 1)
    assert isinstance(q, Quote) and (q.bid_px, q.ask_px) == (1_721_550_000_000, 1_721_600_000_000)
    rest = ad.rest_snapshot(fixture("bybit__http_get_orderbook.json"), 1)
    assert rest.update_id == 1234567 and rest.bids[0] == (2_745_050_000_000, 150_000_000)
    assert ad.parse(fixture("bybit__ws_subscription_ack.json"), 1) == []


def test_okx_books_trades_tickers_bbo() -> None:
    ad = OkxAdapter()
    (snap,) = ad.parse(fixture("okx__ws_books_snapshot.json"), 1)
    (upd,) = ad.parse(fixture("okx__ws_books_update.json"), 1)
    assert isinstance(snap, BookSnapshot) and isinstance(upd, BookDelta)
    assert snap.update_id == 123456 and (upd.prev_update_id, upd.last_update_id) == (123456, 123457)
    assert snap.bids[3] == (847_530_000_000, 1 * E8)  # "8475.3" -> 8 decimals
    (t,) = ad.parse(fixture("okx__ws_trades.json"), 1)
    assert isinstance(t, Trade) and t.trade_id == 130639474 and t.side is Side.BUY
    (q,) = ad.parse(fixture("okx__ws_tickers.json"), 1)
    assert isinstance(q, Quote) and q.bid_px == 888_888_000_000 and q.ask_px == 999_999_000_000
    (b,) = ad.parse(fixture("okx__ws_bbo_tbt.json"), 1)
    assert isinstance(b, Quote) and b.update_id == 123456
    rest = ad.rest_snapshot(fixture("okx__http_get_order_book.json"), "BTC-USDT", 1)
    assert rest.asks[2] == (4_100_700_000_000, 205_842_530)


def test_okx_checksum_matches_okx_documentation_vectors() -> None:
    # the examples of OKX's checksum documentation, with the values OKX publishes for them
    def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
        b = OrderBook(okx.instrument("BTC-USD-170310"))
        b.apply_snapshot(BookSnapshot("OKX", "X", 0, [(price(p, 8), size(q, 8)) for p, q in bids],
                                      [(price(p, 8), size(q, 8)) for p, q in asks], 0, 0))
        return b

    even = book([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
    assert okx.checksum(even) == -1881014294
    odd = book([("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")])
    assert okx.checksum(odd) == 831078360
    odd.apply_delta(BookDelta("OKX", "X", 1, 1, [(price("3366.1", 8), size("6", 8))], [], 0, 0))
    assert okx.checksum(odd) != 831078360
