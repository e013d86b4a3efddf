"""The simulated venue on a hand-built book: book walks, queue position, latency, order types, fees."""

from __future__ import annotations

import pytest

from kimera.execution import ConstantLatency, Fill, OrderKind, OrderStatus, ProbQueue
from kimera.model import BookDelta, BookSnapshot, Side, Trade
from kimera.runners.pipeline import TradingPipeline
from kimera.venues.registry import resolve_instrument

INST = resolve_instrument("SIM", "BTCUSDT")
SNAP = BookSnapshot("SIM", "BTCUSDT", 0, [(10000, 5), (9999, 10)], [(10001, 4), (10002, 6)], 1, 1)


def _delta(uid: int, t: int, bids: list[tuple[int, int]] = (), asks: list[tuple[int, int]] = ()) -> BookDelta:  # type: ignore[assignment]
    return BookDelta("SIM", "BTCUSDT", uid, uid, list(bids), list(asks), t, t)


def _trade(tid: int, t: int, price: int, size: int, side: Side) -> Trade:
    return Trade("SIM", "BTCUSDT", tid, price, size, side, t, t)


def _pipe(latency: ConstantLatency | None = None, queue: ProbQueue | None = None) -> tuple[TradingPipeline, list[Fill]]:
    p = TradingPipeline(resolve_instrument, [], latency=latency, queue=queue)
    fills: list[Fill] = []
    p.bus.subscribe(Fill, fills.append)
    p.run([SNAP])
    return p, fills


def test_market_order_walks_levels_with_taker_fee() -> None:
    p, fills = _pipe()
    o = p.submit(INST, Side.BUY, OrderKind.MARKET, 7, None, 1)
    p.run([_delta(1, 2, bids=[(9998, 1)])])
    assert [(f.price, f.size, f.liquidity) for f in fills] == [(10001, 4, "taker"), (10002, 3, "taker")]
    assert o.status is OrderStatus.FILLED
    expected_fee = (10001 * 4 + 10002 * 3) / (INST.price_scale * INST.size_scale) * INST.taker_fee
    assert sum(f.fee for f in fills) == pytest.approx(expected_fee)


def test_resting_order_waits_for_the_queue_ahead() -> None:
    p, fills = _pipe()
    o = p.submit(INST, Side.BUY, OrderKind.LIMIT, 3, 10000, 1)
    p.run([_trade(1, 2, 10000, 2, Side.SELL), _delta(1, 3, bids=[(10000, 3)])])
    assert fills == [] and o.status is OrderStatus.ACCEPTED  # 5 ahead, 2 traded
    p.run([_delta(2, 4, bids=[(10000, 1)])])  # 2 cancelled: the level now holds only 1 ahead of us
    p.run([_trade(2, 5, 10000, 1, Side.SELL), _trade(3, 5, 10000, 1, Side.BUY)])  # consumes the last 1 ahead
    assert fills == []
    p.run([_trade(4, 6, 10000, 2, Side.SELL)])  # 2 beyond the queue: fills 2 of our 3 at our price
    assert [(f.price, f.size, f.liquidity) for f in fills] == [(10000, 2, "maker")]
    assert o.status is OrderStatus.PARTIALLY_FILLED
    p.run([_trade(5, 7, 9999, 1, Side.SELL)])  # a trade through our price fills the rest
    assert o.status is OrderStatus.FILLED and sum(f.size for f in fills) == 3
    assert fills[0].fee == pytest.approx(10000 * 2 / (INST.price_scale * INST.size_scale) * INST.maker_fee)


def test_prob_queue_moves_forward_on_cancels() -> None:
    p, _ = _pipe(queue=ProbQueue(1.0))
    p.submit(INST, Side.BUY, OrderKind.LIMIT, 3, 10000, 1)
    p.run([_delta(1, 2, bids=[(10000, 9)])])  # 4 join behind us: 5 ahead, 4 behind
    p.run([_delta(2, 3, bids=[(10000, 0 + 6)])])  # 3 cancelled: 5/9 of it from ahead -> round(1.67) = 2
    (r,) = p.venue.resting[INST.key].values()
    assert r.ahead == 3


def test_latency_delays_arrival_and_ack() -> None:
    p, fills = _pipe(latency=ConstantLatency(order_ns=10, response_ns=5))
    o = p.submit(INST, Side.BUY, OrderKind.MARKET, 1, None, 1)
    p.run([_delta(1, 5, asks=[(10001, 0)])])  # arrives at 11: not yet
    assert o.status is OrderStatus.NEW
    p.run([_delta(2, 11, bids=[(9998, 1)])])  # matched against the book at 11: best ask now 10002
    assert o.status is OrderStatus.FILLED and fills[0].price == 10002 and fills[0].ts_ns == 16
    assert p.venue.ack_latency_ns == [15]


def test_post_only_ioc_fok() -> None:
    p, _fills = _pipe()
    po = p.submit(INST, Side.BUY, OrderKind.POST_ONLY, 1, 10001, 1)
    ioc = p.submit(INST, Side.BUY, OrderKind.IOC, 6, 10001, 1)
    fok = p.submit(INST, Side.SELL, OrderKind.FOK, 16, 9999, 1)
    lim = p.submit(INST, Side.SELL, OrderKind.LIMIT, 6, 10000, 1)
    p.run([_delta(1, 2, bids=[(9998, 1)])])
    assert po.status is OrderStatus.REJECTED
    assert ioc.status is OrderStatus.EXPIRED and ioc.filled == 4
    assert fok.status is OrderStatus.EXPIRED and fok.filled == 0  # 15 available down to 9999
    assert lim.status is OrderStatus.PARTIALLY_FILLED and lim.filled == 5  # takes the 5 bid, rests 1
    assert INST.key in p.venue.resting and lim.client_id in p.venue.resting[INST.key]


def test_cancel_arrives_after_latency() -> None:
    p, _ = _pipe(latency=ConstantLatency(order_ns=10))
    o = p.submit(INST, Side.BUY, OrderKind.LIMIT, 1, 9990, 1)
    p.run([_delta(1, 11, bids=[(9998, 1)])])
    assert o.status is OrderStatus.ACCEPTED
    p.venue.cancel(o.client_id, 12)
    p.run([_delta(2, 20, bids=[(9997, 1)])])
    assert o.status is OrderStatus.ACCEPTED
    p.run([_delta(3, 22, bids=[(9996, 1)])])
    assert o.status is OrderStatus.CANCELLED and not p.venue.resting[INST.key]


def test_no_events_means_no_matching_and_unknown_book_rejects() -> None:
    p = TradingPipeline(resolve_instrument, [])
    o = p.submit(INST, Side.BUY, OrderKind.MARKET, 1, None, 0)
    p.run([_delta(1, 1)])  # a delta before any snapshot: the book is not trusted
    assert o.status is OrderStatus.REJECTED


