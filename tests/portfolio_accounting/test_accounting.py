"""Accounting identities at every step of a real backtest, and hand-computed average-cost cases."""

from __future__ import annotations

import pytest

from kimera.data.binance import load_binance_capture
from kimera.engine.books import BookUpdate
from kimera.execution import Fill
from kimera.model import Instrument, Side
from kimera.portfolio.accounting import AccountingError, Portfolio
from kimera.runners.backtest import BacktestConfig, build_pipeline
from kimera.venues.registry import resolve_instrument
from tests.conftest import data_path

INST = Instrument("X", "BTCUSD", 2, 3, taker_fee=0.001, maker_fee=0.0)


def _fill(fid: int, side: Side, price: str, size: str, fee: float = 0.0) -> Fill:
    return Fill(fid, f"c-{fid}", "X", "BTCUSD", side, INST.price(price), INST.size(size), fee, "taker", fid)


def test_average_cost_realised_and_flip() -> None:
    pf = Portfolio(1000.0)
    pf.on_fill(_fill(1, Side.BUY, "100", "1"), INST)
    pf.on_fill(_fill(2, Side.BUY, "110", "1"), INST)
    pos = pf.position(INST)
    assert pos.avg_price == pytest.approx(105.0)
    assert pf.on_fill(_fill(3, Side.SELL, "120", "1.5", fee=0.5), INST) == pytest.approx(22.5)
    assert pf.on_fill(_fill(4, Side.SELL, "90", "1"), INST) == pytest.approx(-7.5)  # closes 0.5 at 105
    assert pos.qty == -INST.size("0.5") and pos.avg_price == pytest.approx(90.0)  # flipped short at 90
    assert pf.realised == pytest.approx(15.0) and pf.fees == pytest.approx(0.5)
    assert pf.cash == pytest.approx(1000 - 100 - 110 + 180 - 0.5 + 90)
    pf.mark(INST.key, 80.0, 10)
    assert pos.unrealised() == pytest.approx(5.0)
    assert pf.equity() == pytest.approx(pf.cash - 0.5 * 80)
    assert pf.equity() - 1000 == pytest.approx(pf.realised + pf.unrealised() - pf.fees)


def test_bad_fill_is_refused() -> None:
    pf = Portfolio()
    with pytest.raises(AccountingError):
        pf.on_fill(Fill(1, "c", "X", "BTCUSD", Side.BUY, 100, 0, 0.0, "taker", 0), INST)
    with pytest.raises(AccountingError):
        pf.on_fill(Fill(1, "c", "Y", "BTCUSD", Side.BUY, 100, 1, 0.0, "taker", 0), INST)
    with pytest.raises(AccountingError):
        Portfolio(float("nan"))


def test_identities_hold_at_every_step_of_a_real_backtest() -> None:
    d = data_path("binance-spot-btcusdt-l2")
    events = list(load_binance_capture([d / "btcusdt_20240808.gz"]))
    inst = resolve_instrument("BINANCE", "BTCUSDT")
    pipe = build_pipeline(BacktestConfig(strategy="obi", max_position="0.03", risk_engine=False), inst, None)
    pf = pipe.portfolio
    # an independent ledger: cash flows and an average-cost position, folded from the fills alone
    led = {"cash": pf.initial_cash, "qty": 0.0, "avg": 0.0, "realised": 0.0, "fees": 0.0}
    checks = {"n": 0}

    def on_fill(f: Fill) -> None:
        px, q = inst.px(f.price), inst.qty(f.size) * int(f.side)
        led["cash"] -= px * q + f.fee
        led["fees"] += f.fee
        old = led["qty"]
        if old == 0 or (old > 0) == (q > 0):
            led["avg"] = (led["avg"] * abs(old) + px * abs(q)) / abs(old + q)
        else:
            closed = min(abs(old), abs(q))
            led["realised"] += (px - led["avg"]) * closed * (1 if old > 0 else -1)
            if abs(q) > abs(old):
                led["avg"] = px
        led["qty"] = old + q

    def check(_: object) -> None:
        pos = pf.positions.get(inst.key)
        marked = sum(p.value() for p in pf.positions.values())
        eq = pf.equity()
        assert pf.cash + marked == pytest.approx(eq, abs=1e-6)
        assert eq - pf.initial_cash == pytest.approx(pf.realised + pf.unrealised() - pf.fees, abs=1e-6)
        assert pf.cash == pytest.approx(led["cash"], abs=1e-6)
        assert pf.realised - pf.fees == pytest.approx(led["realised"] - led["fees"], abs=1e-6)
        if pos is not None:
            assert pos.size == pytest.approx(led["qty"], abs=1e-12)
        checks["n"] += 1

    pipe.bus.subscribe(Fill, on_fill)
    pipe.bus.subscribe(Fill, check)
    pipe.bus.subscribe(BookUpdate, check)
    pipe.run(events)
    assert pf.fills >= 10 and checks["n"] > 1000
    assert any(p.realised != 0 for p in pf.positions.values())
    assert pf.max_drawdown >= 0 and pf.curve and all(pt.drawdown >= 0 for pt in pf.curve)
