"""Recording: any async iterator of events into a `TickWriter`, with timed flushes while the stream is quiet.

The live source (the venue streaming client) and a capture replayed as if streamed (`paced`) are both
plain `AsyncIterable[Event]`s, so `record` does not care where events come from.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import asdict, dataclass

from kimera.model import Event
from kimera.storage.writer import TickWriter


@dataclass
class RecordSummary:
    """What a recording did and why it stopped ('end of stream', 'time limit' or 'cancelled')."""

    events: int = 0
    skipped: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    stopped: str = ""

    def as_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""
        return asdict(self)


async def paced(events: Iterable[Event], speed: float = 0.0) -> AsyncIterator[Event]:
    """A capture as a stream: each event when its `recv_ns` offset divided by `speed` has elapsed
    (0 = as fast as possible, still yielding to the loop so timers run)."""
    if speed < 0:
        raise ValueError(f"speed must be >= 0, got {speed}")
    loop = asyncio.get_running_loop()
    start = loop.time()
    first: int | None = None
    for i, ev in enumerate(events):
        if speed > 0:
            if first is None:
                first = ev.recv_ns
            delay = start + (ev.recv_ns - first) / 1e9 / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif i % 1024 == 0:
                await asyncio.sleep(0)
        elif i % 1024 == 0:
            await asyncio.sleep(0)
        yield ev


async def _flush_timer(writer: TickWriter) -> None:
    period = min(writer.flush_seconds or 1.0, 1.0) / 2
    while True:
        await asyncio.sleep(period)
        writer.maybe_flush()


async def record(source: AsyncIterable[Event], writer: TickWriter, seconds: float | None = None,
                 venue: str | None = None, symbol: str | None = None) -> RecordSummary:
    """Write the events of `source` (only `venue`/`symbol` where given) until it ends or `seconds` pass.

    The writer is closed (its buffer flushed) however the recording ends; a cancellation is re-raised
    after the flush.
    """
    summary = RecordSummary()
    t0 = time.perf_counter()
    timer = asyncio.create_task(_flush_timer(writer))
    try:
        async with asyncio.timeout(seconds):
            async for ev in source:
                if (venue is not None and ev.venue != venue) or (symbol is not None and ev.symbol != symbol):
                    summary.skipped += 1
                    continue
                writer.write(ev)
                summary.events += 1
        summary.stopped = "end of stream"
    except TimeoutError:
        summary.stopped = "time limit"
    finally:
        summary.stopped = summary.stopped or "cancelled"
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer
        writer.close()
        summary.files = writer.stats.files
        summary.bytes = writer.stats.bytes
        summary.seconds = time.perf_counter() - t0
    return summary
