"""Over real loopback websockets: the emulator serves a capture (or the simulated market), the stream client
keeps the book, and the result is checked against a direct file replay, with and without injected faults.
Every trusted book the client publishes is compared with the replay at the same update id."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from kimera.book import OrderBook, SyncedBook
from kimera.data.binance import load_binance_capture
from kimera.data.wscaptures import load_cryptofeed
from kimera.emulator import Emulator, Fault, FaultKind, FaultPlan, Source
from kimera.engine.replay import ReplayEngine
from kimera.model import BookDelta, BookSnapshot, Event
from kimera.venues import binance, kraken
from kimera.venues.feeds import make_feed
from kimera.venues.registry import resolve_instrument, venue_spec
from kimera.venues.rest import RestClient
from kimera.venues.stream import StreamClient, StreamConfig, picows_available
from tests.conftest import data_path

# both transports give the same behaviour; picows is optional
TRANSPORTS = ["websockets", pytest.param("picows", marks=pytest.mark.skipif(not picows_available(),
                                                                             reason="picows not installed"))]


def spot_capture() -> Path:
    return data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz")


@functools.lru_cache(maxsize=1)
def spot_events() -> tuple[Event, ...]:
    """The capture decoded once for every test of this module (the emulator, the lockstep and the replay)."""
    return tuple(load_binance_capture([spot_capture()]))


class Lockstep:
    """The direct replay of a capture, advanced on demand to any update id the client reports.

    Deltas that arrive before the snapshot are applied one by one after it (as the venue's rule says),
    so every intermediate state exists and can be compared.
    """

    def __init__(self, events: list[Event], venue: str, symbol: str) -> None:
        spec = venue_spec(venue)
        self.sb = SyncedBook(resolve_instrument(venue, symbol), spec.rule(), spec.checksum)
        self.it: Iterator[Event] = iter(e for e in events if e.symbol == symbol)
        self.pending: list[BookDelta] = []
        self.compared = 0
        self.wrong: list[str] = []

    def _advance(self) -> bool:
        for e in self.it:
            if isinstance(e, BookSnapshot):
                self.sb.on_snapshot(e)
                for d in self.pending:
                    self.sb.on_delta(d)
                self.pending = []
                return True
            if isinstance(e, BookDelta):
                if not self.sb.snapshots:
                    self.pending.append(e)
                    continue
                self.sb.on_delta(e)
                return True
        return False

    def at(self, uid: int) -> OrderBook:
        while not self.sb.snapshots or self.sb.book.last_update_id < uid:
            if not self._advance():
                break
        return self.sb.book

    def check(self, client_book: SyncedBook, full: bool) -> None:
        """Compare a trusted client book with the replay at its update id (top 20, or every level)."""
        uid = client_book.book.last_update_id
        ref = self.at(uid)
        n = 10**6 if full else 20
        self.compared += 1
        if ref.last_update_id != uid or client_book.book.depth(n) != ref.depth(n):
            self.wrong.append(f"u={uid}: ref at {ref.last_update_id}")


def replay_book(events: list[Event], key: str) -> OrderBook:
    eng = ReplayEngine(resolve_instrument)
    eng.run([events])
    return eng.books.books[key].book


async def run_binance(faults: FaultPlan | None, stale_after: float,
                      transport: str = "auto", preencode: bool = False) -> tuple[StreamClient, Emulator, Lockstep]:
    events = list(spot_events())
    lock = Lockstep(events, binance.VENUE, "BTCUSDT")
    seen_snapshots = 0

    def on_book(sb: SyncedBook, recv_ns: int) -> None:
        nonlocal seen_snapshots
        full = sb.snapshots != seen_snapshots or sb.deltas_applied % 100 == 0
        seen_snapshots = sb.snapshots
        lock.check(sb, full)

    async with Emulator("binance", Source(events, name="binance spot capture"), faults=faults,
                        preencode=preencode) as emu:
        client = StreamClient(make_feed("binance", "BTCUSDT"), emu.ws_url, emu.http_url, on_book=on_book,
                              config=StreamConfig(stale_after_s=stale_after, backoff_base_s=0.05, resync_timeout_s=1.0,
                                                  transport=transport))
        task = asyncio.create_task(client.run())
        await emu.wait_finished(90)
        final = emu.book().last_update_id
        for _ in range(400):
            if client.book.trusted and client.book.book.last_update_id == final:
                break
            await asyncio.sleep(0.025)
        client.stop()
        await task
    return client, emu, lock


@pytest.mark.parametrize("preencode", [False, True])
def test_binance_capture_over_websockets_equals_file_replay(preencode: bool) -> None:
    client, _emu, lock = asyncio.run(run_binance(None, stale_after=5.0, preencode=preencode))
    ref = replay_book(list(spot_events()), "BINANCE:BTCUSDT")
    assert client.book.trusted and client.book.gaps == 0 and client.health.reconnects == 0
    assert client.book.book.last_update_id == ref.last_update_id
    assert client.book.book.depth(10**6) == ref.depth(10**6)  # every level of both sides
    assert lock.compared > 3000 and lock.wrong == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_binance_every_fault_is_detected_and_resynced(transport: str) -> None:
    plan = FaultPlan.of(
        Fault(FaultKind.DROP, 300), Fault(FaultKind.DUPLICATE, 700), Fault(FaultKind.REORDER, 1100),
        Fault(FaultKind.DROP, 1400), Fault(FaultKind.CLOSE, 1800), Fault(FaultKind.STALL, 2400, duration_s=1.2),
    )
    client, emu, lock = asyncio.run(run_binance(plan, stale_after=0.4, transport=transport))
    assert client.transport == transport
    fired = emu.faults.injected
    assert [f.kind for f in fired] == [f.kind for f in sorted(plan.faults.values(), key=lambda f: f.at)]
    incidents = client.health.incidents
    # each chain fault is caught by a gap at or just after the faulty message, before the next fault
    chain = [f for f in fired if f.kind in (FaultKind.DROP, FaultKind.DUPLICATE, FaultKind.REORDER)]
    gaps = [i for i in incidents if i.kind == "gap"]
    for f in chain:
        nxt = min((g.update_id for g in fired if g.update_id > f.update_id), default=1 << 62)
        assert any(f.update_id <= g.update_id < nxt for g in gaps), f"{f} undetected; gaps {gaps}"
    assert any(i.kind == "disconnect" for i in incidents)
    assert any(i.kind == "stale" for i in incidents)
    assert client.book.resyncs >= len(fired) - 1  # every fault but the first connect needed a new snapshot
    ref = replay_book(list(spot_events()), "BINANCE:BTCUSDT")
    assert client.book.trusted and client.book.book.depth(10**6) == ref.depth(10**6)
    assert lock.wrong == [] and lock.compared > 1000  # zero wrong books were ever trusted


def run_kraken(source: Source, pair: str, depth: int, faults: FaultPlan | None,
               transport: str = "auto") -> tuple[StreamClient, Emulator, OrderBook]:
    async def main() -> tuple[StreamClient, Emulator, OrderBook]:
        async with Emulator("kraken", source, symbols=[pair], faults=faults, rate=1500) as emu:
            client = StreamClient(make_feed("kraken", pair, depth), emu.ws_url,
                                  config=StreamConfig(stale_after_s=1.5, backoff_base_s=0.05, resync_timeout_s=1.0,
                                                      transport=transport))
            task = asyncio.create_task(client.run())
            await emu.wait_finished(60)
            truth = emu.book(pair)
            for _ in range(200):
                if client.book.trusted and client.book.book.depth(depth) == truth.depth(depth):
                    break
                await asyncio.sleep(0.025)
            client.stop()
            await task
            return client, emu, truth
    return asyncio.run(main())


def test_kraken_capture_over_websockets_equals_file_replay() -> None:
    path = data_path("cryptofeed-ws-captures-a", "KRAKEN.ws.50.0.gz")
    client, _emu, truth = run_kraken(Source.cryptofeed_capture([path], ["XMR/USD"]), "XMR/USD", 1000, None)
    ref = replay_book([e for e in load_cryptofeed([path]) if e.symbol == "XMR/USD"], "KRAKEN:XMR/USD")
    assert client.book.trusted and client.book.checksum_failures == 0 and client.book.gaps == 0
    assert client.book.deltas_applied > 200  # every one checked against the recorded exchange checksum
    assert client.book.book.depth(10**6) == ref.depth(10**6) == truth.depth(10**6)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_kraken_faults_are_detected_by_checksum_and_resynced(transport: str) -> None:
    plan = FaultPlan.of(
        Fault(FaultKind.CORRUPT_CHECKSUM, 100), Fault(FaultKind.DROP, 300), Fault(FaultKind.CORRUPT_CHECKSUM, 500),
        Fault(FaultKind.CLOSE, 700), Fault(FaultKind.CORRUPT_CHECKSUM, 1300), Fault(FaultKind.STALL, 1800, duration_s=2.0),
    )
    source = Source.simulated(symbol="XBT/USD", seed=3, n_events=3000)
    client, emu, truth = run_kraken(source, "XBT/USD", 10, plan, transport)
    fired = emu.faults.injected
    assert len(fired) == 6
    kinds = [i.kind for i in client.health.incidents]
    corrupt = sum(f.kind is FaultKind.CORRUPT_CHECKSUM for f in fired)
    # every corrupted checksum is caught; a dropped update is caught unless a later absolute update of the
    # same levels makes the book right again before the next checksum (then nothing is wrong to catch)
    assert corrupt <= kinds.count("checksum") <= corrupt + 1
    assert kinds.count("disconnect") >= 1 and kinds.count("stale") >= 1
    assert client.book.resyncs >= kinds.count("checksum") + 1
    # depth 10: each update's checksum covers the whole book, so no wrong book ever stayed trusted
    assert client.book.trusted and client.book.book.depth(10) == truth.depth(10)


def test_ccxt_snapshot_and_metadata_from_the_emulator() -> None:
    async def main() -> None:
        async with Emulator("binance", Source.simulated(n_events=3000)) as emu:
            emu.start_feed()
            await emu.wait_finished(30)
            async with RestClient("binance", emu.http_url) as rest:
                snap = await rest.depth_snapshot("BTCUSDT", 5000)
                inst = await rest.instrument("BTCUSDT", binance.instrument("BTCUSDT"))
            truth = emu.book()
            assert snap.update_id == truth.last_update_id and (snap.bids, snap.asks) == truth.depth(5000)
            assert (inst.tick_size, inst.lot_size) == (1_000_000, 1_000)  # 0.01 and 0.00001 at 8 decimals
        async with Emulator("kraken", Source.simulated(symbol="XBT/USD", n_events=1000)) as emu:
            emu.start_feed()
            await emu.wait_finished(30)
            async with RestClient("kraken", emu.http_url) as rest:
                snap = await rest.depth_snapshot("XBT/USD", 100)
                inst = await rest.instrument("XBT/USD", kraken.instrument("XBT/USD"))
            assert (snap.bids, snap.asks) == emu.book().depth(100)
            assert (inst.tick_size, inst.lot_size, inst.taker_fee) == (1_000, 1_000, 0.0026)  # 0.01, 0.00001

    asyncio.run(main())


def test_emulator_answers_bad_requests_clearly() -> None:
    async def main() -> None:
        async with Emulator("binance") as emu, aiohttp.ClientSession() as http:
            r = await http.get(f"{emu.http_url}/api/v3/depth?symbol=NOPE")
            assert r.status == 400 and (await r.json())["code"] == -1121
            r = await http.get(f"{emu.http_url}/stream?streams=btcusdt@depth5")
            assert r.status == 400 and "unknown stream" in await r.text()
            async with http.ws_connect(f"{emu.ws_url}/ws") as ws:
                await ws.send_str('{"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":7}')
                reply = await ws.receive_json(timeout=5)
                assert reply["id"] == 7 and "unknown stream" in reply["error"]["msg"]
        async with Emulator("kraken") as emu, aiohttp.ClientSession() as http, http.ws_connect(emu.ws_url) as ws:
            assert (await ws.receive_json(timeout=5))["event"] == "systemStatus"
            await ws.send_str('{"event":"subscribe","pair":["FOO/BAR"],"subscription":{"name":"book","depth":10}}')
            reply = await ws.receive_json(timeout=5)
            assert reply["status"] == "error" and "FOO/BAR" in reply["errorMessage"]

    asyncio.run(main())


def test_unknown_protocol_and_faults_without_checksum_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown emulated venue"):
        Emulator("nasdaq")

    async def main() -> None:
        plan = FaultPlan.of(Fault(FaultKind.CORRUPT_CHECKSUM, 5))
        async with Emulator("binance", Source.simulated(n_events=200), faults=plan) as emu:
            client = StreamClient(make_feed("binance", "BTCUSDT"), emu.ws_url, emu.http_url)
            task = asyncio.create_task(client.run(3.0))
            with pytest.raises(ValueError, match="without checksums"):
                await emu.wait_finished(10)
            client.stop()
            await task

    asyncio.run(main())
