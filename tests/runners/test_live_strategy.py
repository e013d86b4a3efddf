"""`kimera live --strategy`: the backtest's strategy and risk gates on the emulator's websocket stream, every
approved order sent through ccxt (async) to the emulator's signed REST order desk, which is the oracle: its
executions and balances must equal the pipeline's fills, positions and cash."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kimera.book import OrderBook
from kimera.cli import app
from kimera.emulator.server import Emulator
from kimera.emulator.source import Source
from kimera.execution.emulated_orders import OrderDesk
from kimera.execution.orders import OrderStatus
from kimera.journal import rebuild
from kimera.runners.live import LiveConfig, LiveStrategyOutcome, live_strategy_session

KEY, SECRET = "live-key-5678", "live-secret-efgh"
START = {"USDT": 100_000.0, "BTC": 1.0}


def _book(emu: Emulator, symbol: str) -> OrderBook | None:
    sb = emu.hub.books.get(symbol)
    return sb.book if sb is not None and sb.trusted else None


async def _session(journal: Path, secret: str = SECRET) -> tuple[LiveStrategyOutcome, OrderDesk]:
    emu = Emulator("binance", Source.simulated(), rate=1500)
    desk = OrderDesk(lambda s: _book(emu, s), KEY, SECRET, dict(START))
    desk.attach(emu.app)
    await emu.start()
    try:
        cfg = LiveConfig("binance", "BTC/USDT", emu.http_url, KEY, secret)
        out = await live_strategy_session(cfg, "obi", 5.0, "0.01", "0.03", ws_url=emu.ws_url, rest_url=emu.http_url,
                                          journal=journal)
    finally:
        await emu.stop()
    return out, desk


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> tuple[LiveStrategyOutcome, OrderDesk, Path]:
    journal = tmp_path_factory.mktemp("live") / "live.db"
    out, desk = asyncio.run(_session(journal))
    return out, desk, journal


def test_every_order_reaches_the_exchange_and_its_executions_are_booked(live: Any) -> None:
    out, desk, _ = live
    pipe, venue = out.pipeline, out.venue
    assert out.book_updates > 1000 and venue.errors == []
    orders = list(pipe.om.orders.values())
    assert orders and pipe.om.fills > 0
    assert all(o.status is not OrderStatus.NEW for o in orders)  # every order got the exchange's answer
    sent = {o.client_id for o in orders if o.status is not OrderStatus.REJECTED}
    assert set(venue.exchange_ids) == sent == set(desk.client_ids)  # our client ids, as the exchange knows them
    assert len(venue.ack_latency_ns) == len(sent) and min(venue.ack_latency_ns) > 0
    for o in orders:  # the exchange's own executions of each order equal the fills we booked
        if o.client_id in sent:
            theirs = desk.fills.get(desk.by_id[desk.client_ids[o.client_id]].client_id, [])
            assert o.filled == sum(f.size for f in theirs), o.client_id
            assert o.notional == sum(f.price * f.size for f in theirs), o.client_id
            assert o.fees == pytest.approx(sum(f.fee for f in theirs), abs=1e-8)


def test_positions_and_cash_equal_the_exchange_balances(live: Any) -> None:
    out, desk, journal = live
    pipe = out.pipeline
    key = "BINANCE:BTCUSDT"
    pos = pipe.portfolio.positions.get(key)
    qty = pos.size if pos is not None else 0.0
    assert desk.balances["BTC"] - START["BTC"] == pytest.approx(qty, abs=1e-9)
    assert abs(qty) <= 0.03 + 1e-12  # the position limit gate held on live orders too
    spent = pipe.portfolio.initial_cash - pipe.portfolio.cash
    assert START["USDT"] - desk.balances["USDT"] == pytest.approx(spent, abs=1e-6)
    st = rebuild(journal)  # journaled before acting: the state rebuilds from the file
    assert len(st.fill_ids) == pipe.om.fills
    assert st.positions == {k: p.qty for k, p in pipe.portfolio.positions.items()}


def test_a_refused_signature_rejects_orders_with_the_reason(tmp_path: Path) -> None:
    out, desk = asyncio.run(_session(tmp_path / "bad.db", secret="wrong"))
    assert desk.client_ids == {}  # nothing reached the order book of the exchange
    orders = list(out.pipeline.om.orders.values())
    assert orders and all(o.status is OrderStatus.REJECTED for o in orders)
    refused = [why for _, why in out.pipeline.record.rejections if why.startswith("AuthenticationError")]
    assert len(refused) == len(orders)
    assert out.pipeline.om.fills == 0 and out.venue.ack_latency_ns == []


def test_live_cli_refuses_a_strategy_session_without_the_flag() -> None:
    env = {**os.environ, "KIMERA_API_KEY": KEY, "KIMERA_API_SECRET": SECRET}
    r = CliRunner().invoke(app, ["live", "--strategy", "obi", "--seconds", "1"], env=env)
    assert r.exit_code == 3 and "i-understand-this-trades-real-money" in r.output


def test_live_cli_runs_a_strategy_on_the_emulator(tmp_path: Path) -> None:
    """The CLI end to end (its own event loop), the emulator serving stream and order desk from a thread."""
    import json
    import threading

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    emu = Emulator("binance", Source.simulated(), rate=1500)
    desk = OrderDesk(lambda s: _book(emu, s), KEY, SECRET, dict(START))
    desk.attach(emu.app)
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result(30)
    try:
        env = {**os.environ, "KIMERA_API_KEY": KEY, "KIMERA_API_SECRET": SECRET}
        r = CliRunner().invoke(app, [
            "live", "--i-understand-this-trades-real-money", "--api-url", emu.http_url, "--strategy", "obi",
            "--seconds", "3", "--ws-url", emu.ws_url, "--rest-url", emu.http_url, "--qty", "0.01",
            "--max-position", "0.03", "--report", str(tmp_path / "live.html")], env=env)
    finally:
        asyncio.run_coroutine_threadsafe(emu.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
    assert r.exit_code == 0, r.output
    assert KEY not in r.output and SECRET not in r.output
    out = json.loads(r.stdout[r.stdout.index("{"):])
    assert out["result"]["orders"] == len(desk.client_ids) > 0 and out["errors"] == []
    assert (tmp_path / "live.html").exists()


def test_resting_orders_at_the_emulator_fill_later_as_the_market_trades() -> None:
    """The order desk follows the emulator's market: limit orders joining the best bid and ask rest (open),
    then fill at their limit as maker once trades consume the queue ahead or the price trades through."""
    from kimera.runners.live import make_exchange

    async def main() -> tuple[list[dict[str, Any]], OrderDesk]:
        emu = Emulator("binance", Source.simulated(), rate=1500)
        desk = OrderDesk(lambda s: _book(emu, s), KEY, SECRET, dict(START))
        desk.attach(emu.app)
        desk.follow(emu)
        await emu.start()
        ex = make_exchange(LiveConfig("binance", "BTC/USDT", emu.http_url, KEY, SECRET), asynchronous=True)
        try:
            emu.start_feed()
            while (book := _book(emu, "BTCUSDT")) is None:
                await asyncio.sleep(0.05)
            await ex.load_markets()
            inst = book.instrument
            placed = []
            for side in ("buy", "sell"):
                bid, ask = book.best_bid(), book.best_ask()
                assert bid is not None and ask is not None
                px = bid[0] if side == "buy" else ask[0]  # join the touch: rests behind the queue there
                placed.append(await ex.create_order("BTC/USDT", "limit", side, 0.01, inst.px(px)))
            assert [o["status"] for o in placed] == ["open", "open"]  # joined the queue: nothing taken
            for _ in range(400):  # up to 20 s; usually filled within a second or two
                done = [await ex.fetch_order(o["id"], "BTC/USDT") for o in placed]
                if any(o["status"] == "closed" for o in done):
                    break
                await asyncio.sleep(0.05)
            return done, desk
        finally:
            await ex.close()
            await emu.stop()

    done, desk = asyncio.run(main())
    filled = [o for o in done if o["status"] == "closed"]
    assert filled, [o["status"] for o in done]
    for o in filled:
        assert o["filled"] == pytest.approx(0.01)
        fills = desk.fills[desk.by_id[int(o["id"])].client_id]
        assert {f.liquidity for f in fills} == {"maker"}
        assert {f.price for f in fills} == {desk.by_id[int(o["id"])].price}
