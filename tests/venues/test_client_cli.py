"""The `kimera stream` command against its in-process emulator, and the client's reconnect backoff."""

from __future__ import annotations

import asyncio
import itertools
import random
import re

import pytest
from typer.testing import CliRunner

from kimera.cli import app
from kimera.venues.feeds import make_feed
from kimera.venues.stream import Backoff, StreamClient, StreamConfig, picows_available, resolve_transport


def test_stream_command_with_emulator_needs_no_internet() -> None:
    result = CliRunner().invoke(app, ["stream", "--venue", "binance", "--emulate", "--seconds", "2", "--rate", "400"])
    assert result.exit_code == 0, result.output
    m = re.search(r"BINANCE:BTCUSDT: messages=(\d+) book_updates=(\d+) trusted=True bid=([\d.]+) ask=([\d.]+)",
                  result.output)
    assert m is not None, result.output
    assert int(m.group(2)) > 100 and float(m.group(3)) < float(m.group(4))
    result = CliRunner().invoke(app, ["stream", "--venue", "kraken", "--emulate", "--seconds", "1.5", "--depth", "10"])
    assert result.exit_code == 0 and "KRAKEN:XBT/USD" in result.output and "trusted=True" in result.output


def test_stream_command_rejects_unknown_venue() -> None:
    result = CliRunner().invoke(app, ["stream", "--venue", "nyse", "--seconds", "1"])
    assert result.exit_code != 0 and "unknown venue" in result.output


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    b = Backoff(0.1, 2.0, random.Random(5))
    delays = [b.next() for _ in range(8)]
    for n, d in enumerate(delays):
        full = min(2.0, 0.1 * 2**n)
        assert full / 2 <= d <= full
    assert len({round(d, 9) for d in delays[5:]}) == 3  # capped, yet jittered (no synchronized retries)
    b.reset()
    assert b.next() <= 0.1


@pytest.mark.parametrize("transport", ["websockets", "picows"])
def test_client_backs_off_while_nothing_listens(transport: str) -> None:
    if transport == "picows" and not picows_available():
        pytest.skip("picows not installed")

    async def main() -> StreamClient:
        # a port nobody listens on: every connect fails and the client retries with growing delays
        client = StreamClient(make_feed("kraken", "XBT/USD"), "ws://127.0.0.1:9",
                              config=StreamConfig(backoff_base_s=0.05, backoff_cap_s=0.2, open_timeout_s=1,
                                                  transport=transport))
        await client.run(1.0)
        return client

    client = asyncio.run(main())
    h = client.health
    assert h.connects == 0 and 3 <= h.reconnects <= 25 and h.state == "stopped"
    assert h.last_error is not None and not client.book.trusted


def test_transport_choice() -> None:
    assert resolve_transport("websockets") == "websockets"
    assert resolve_transport("auto") == ("picows" if picows_available() else "websockets")
    with pytest.raises(ValueError, match="unknown transport"):
        resolve_transport("curl")


def test_random_fault_plan_is_spread_and_reproducible() -> None:
    from kimera.emulator import FaultKind, FaultPlan

    kinds = [FaultKind.DROP, FaultKind.DUPLICATE, FaultKind.STALL]
    plan = FaultPlan.random(kinds, count=6, first=100, last=2000, seed=4, min_gap=100)
    at = sorted(plan.faults)
    assert len(at) == 6 and all(100 <= a <= 2000 for a in at)
    assert all(b - a >= 50 for a, b in itertools.pairwise(at))
    assert {f.kind for f in plan.faults.values()} == set(kinds)
    assert all(f.duration_s > 0 for f in plan.faults.values() if f.kind is FaultKind.STALL)
    assert FaultPlan.random(kinds, 6, 100, 2000, seed=4, min_gap=100).faults == plan.faults
