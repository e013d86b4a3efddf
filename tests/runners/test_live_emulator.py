"""`kimera live` against the exchange emulator's signed REST order endpoints, through real ccxt."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from kimera.book import OrderBook
from kimera.cli import app
from kimera.emulator.server import Emulator
from kimera.emulator.source import Source
from kimera.execution.emulated_orders import OrderDesk
from kimera.runners.live import LiveConfig, make_exchange
from kimera.runners.live_broker import CcxtBroker

KEY, SECRET = "test-key-1234", "test-secret-abcd"


class EmulatorThread:
    """The emulator (simulated market, order desk attached) on its own event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.emu: Emulator = self._call(self._start())

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def book(self, symbol: str) -> OrderBook | None:
        sb = self.emu.hub.books.get(symbol)
        return sb.book if sb is not None and sb.trusted else None

    async def _start(self) -> Emulator:
        emu = Emulator("binance", Source.simulated(n_events=3000))
        self.desk = OrderDesk(self.book, KEY, SECRET, {"USDT": 50_000.0, "BTC": 0.5})
        self.desk.attach(emu.app)
        await emu.start()
        emu.start_feed()
        await emu.wait_finished(60)
        return emu

    def stop(self) -> None:
        self._call(self.emu.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    e = EmulatorThread()
    yield e
    e.stop()


def test_live_cli_trades_on_the_emulator_through_ccxt(emulator: EmulatorThread) -> None:
    book = emulator.book("BTCUSDT")
    assert book is not None
    inst = book.instrument
    qty = inst.size("0.25")
    notional, filled = book.cost_to_fill(True, qty)
    assert filled == qty
    env = {"KIMERA_API_KEY": KEY, "KIMERA_API_SECRET": SECRET}
    r = CliRunner().invoke(app, ["live", "--i-understand-this-trades-real-money", "--api-url", emulator.emu.http_url,
                                 "--side", "buy", "--qty", "0.25"], env=env)
    assert r.exit_code == 0, r.output
    assert SECRET not in r.output and KEY not in r.output
    import json

    out = json.loads(r.stdout[r.stdout.index("{"):])
    assert out["order"]["status"] == "closed" and out["order"]["filled"] == pytest.approx(0.25)
    assert out["order"]["average"] == pytest.approx(notional / qty / inst.price_scale, rel=1e-12)
    assert emulator.desk.balances["BTC"] == pytest.approx(0.75)
    fee = notional / (inst.price_scale * inst.size_scale) * inst.taker_fee
    assert emulator.desk.balances["USDT"] == pytest.approx(50_000 - notional / (inst.price_scale * inst.size_scale) - fee)


def test_resting_limit_listed_then_cancelled_and_bad_signature_refused(emulator: EmulatorThread) -> None:
    book = emulator.book("BTCUSDT")
    assert book is not None
    bid = book.best_bid()
    assert bid is not None
    far = book.instrument.price_str(bid[0] - 50 * book.instrument.price_scale)
    broker = CcxtBroker(make_exchange(LiveConfig("binance", "BTC/USDT", emulator.emu.http_url, KEY, SECRET)), "BTC/USDT")
    o = broker.place("buy", "0.01", far)
    assert o["status"] == "open"
    assert [x["id"] for x in broker.open_orders()] == [o["id"]]
    assert broker.cancel(o["id"]) == "canceled"
    assert broker.open_orders() == []
    bad = CcxtBroker(make_exchange(LiveConfig("binance", "BTC/USDT", emulator.emu.http_url, KEY, "wrong")), "BTC/USDT")
    import ccxt

    with pytest.raises(ccxt.AuthenticationError):
        bad.balances()
