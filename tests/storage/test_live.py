"""Recording a live websocket stream (the in-process exchange emulator) and replaying the recording."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kimera.engine.replay import ReplayEngine
from kimera.model import BookDelta, BookSnapshot, Event
from kimera.storage import TickStore, TickWriter, record
from kimera.storage.cli import register
from kimera.storage.live import live_events, rest_url_for
from kimera.venues.registry import resolve_instrument


def _decimal_book(book, depth: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:  # type: ignore[no-untyped-def]
    inst = book.instrument
    bids, asks = book.depth(depth)
    conv = [[(Decimal(inst.price_str(p)), Decimal(inst.size_str(q))) for p, q in side] for side in (bids, asks)]
    return conv[0], conv[1]


def test_live_recording_replays_to_the_exchanges_own_book(tmp_path: Path) -> None:
    emulator = pytest.importorskip("kimera.emulator")
    seen: list[Event] = []

    async def watched(src: AsyncIterator[Event]) -> AsyncIterator[Event]:
        async for ev in src:
            seen.append(ev)
            yield ev

    async def main():  # type: ignore[no-untyped-def]
        source = emulator.Source.simulated(n_events=3000)
        async with emulator.Emulator("binance", source) as emu:
            writer = TickWriter(tmp_path, flush_events=500, flush_seconds=0.5, fsync=False)
            task = asyncio.create_task(record(watched(live_events("binance", "BTCUSDT", emu.ws_url)), writer))
            await emu.wait_finished(60)
            truth = emu.book()
            deadline = time.monotonic() + 20
            while not any(isinstance(e, BookDelta) and e.last_update_id >= truth.last_update_id for e in seen):
                assert time.monotonic() < deadline, "the recorder did not receive the whole stream"
                await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return truth, writer

    truth, writer = asyncio.run(main())
    assert writer.stats.files > 2  # flushed along the way
    stored = list(TickStore(tmp_path).events("BINANCE", "BTCUSDT"))
    assert stored == seen  # everything the client received, including its REST snapshot, in order
    assert any(isinstance(e, BookSnapshot) for e in stored)
    engine = ReplayEngine(resolve_instrument)
    engine.run([stored])
    book = engine.books.books["BINANCE:BTCUSDT"]
    assert book.trusted and book.gaps == 0
    assert _decimal_book(book.book, 1000) == _decimal_book(truth, 1000)


def test_kimera_record_cli_from_an_emulator_url(tmp_path: Path) -> None:
    emulator = pytest.importorskip("kimera.emulator")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emu = emulator.Emulator("binance", emulator.Source.simulated(n_events=1500))
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result(30)
    app = typer.Typer()
    register(app)
    try:
        res = CliRunner().invoke(app, ["record", "--venue", "binance", "--symbol", "BTCUSDT", "--url", emu.ws_url,
                                       "--out", str(tmp_path), "--seconds", "4", "--no-fsync", "--json"])
    finally:
        asyncio.run_coroutine_threadsafe(emu.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.splitlines()[-1])
    assert summary["stopped"] == "time limit" and summary["events"] > 100
    stored = list(TickStore(tmp_path).events("BINANCE", "BTCUSDT"))
    assert len(stored) == summary["events"]
    assert isinstance(stored[0], BookDelta | BookSnapshot) and any(isinstance(e, BookSnapshot) for e in stored)


def test_rest_url_follows_the_websocket_host() -> None:
    assert rest_url_for("ws://127.0.0.1:8765") == "http://127.0.0.1:8765"
    assert rest_url_for("wss://example.org") == "https://example.org"
    assert rest_url_for(None) is None
