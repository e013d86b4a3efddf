"""LOBSTER (NASDAQ ITCH reconstruction) loader: order-level messages into L2 deltas and trades.

Row i of the orderbook file is the 10-level book AFTER message i. LOBSTER has no L2 update ids, so the
message's row number is its update id (a contiguous chain). The translator keeps the aggregate size per
price so each message becomes one absolute-size level change; the book logic itself is `OrderBook`'s.
The first orderbook row seeds a 10-level snapshot (the state after message 1).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kimera.data.errors import MalformedInputError
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Level, Side, Trade

VENUE = "LOBSTER"
EMPTY_ASK = 9999999999
EMPTY_BID = -9999999999


def instrument(symbol: str) -> Instrument:
    """LOBSTER prices are USD x 10000 (4 decimals); sizes are shares."""
    return Instrument(VENUE, symbol, price_decimals=4, size_decimals=0, taker_fee=0.0, maker_fee=0.0)


@dataclass(frozen=True)
class LobsterMessage:
    """One row of the message file."""

    time_ns: int
    kind: int
    order_id: int
    size: int
    price: int
    direction: int


def _time_ns(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])


def read_messages(path: str | Path) -> list[LobsterMessage]:
    """Parse the message file; a bad row raises `MalformedInputError` with its line number."""
    out: list[LobsterMessage] = []
    with open(path, newline="") as f:
        for i, row in enumerate(csv.reader(f), 1):
            try:
                if len(row) < 6:
                    raise ValueError(f"expected 6 columns, got {len(row)}")
                m = LobsterMessage(_time_ns(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5]))
                if not 1 <= m.kind <= 7 or m.direction not in (1, -1) or m.size < 0:
                    raise ValueError(f"bad type/direction/size: {row}")
            except ValueError as exc:
                raise MalformedInputError(str(path), i, str(exc)) from exc
            out.append(m)
    return out


def read_orderbook(path: str | Path) -> list[tuple[list[Level], list[Level]]]:
    """Parse the orderbook file into (bids, asks) per row, best first, empty levels removed."""
    out: list[tuple[list[Level], list[Level]]] = []
    with open(path, newline="") as f:
        for i, row in enumerate(csv.reader(f), 1):
            try:
                v = [int(x) for x in row]
                if len(v) % 4:
                    raise ValueError(f"expected a multiple of 4 columns, got {len(v)}")
            except ValueError as exc:
                raise MalformedInputError(str(path), i, str(exc)) from exc
            asks = [(v[k], v[k + 1]) for k in range(0, len(v), 4) if v[k] != EMPTY_ASK and v[k + 1] > 0]
            bids = [(v[k + 2], v[k + 3]) for k in range(0, len(v), 4) if v[k + 2] != EMPTY_BID and v[k + 3] > 0]
            out.append((bids, asks))
    return out


def level_after(size_now: int, m: LobsterMessage, strict: bool = True) -> int:
    """Visible size at the message's price after it: adds for new orders, removals for cancels/executions.

    `strict=False` clamps at 0: a level deeper than the seeded 10 has an unknown size, so a removal there
    cannot be checked (the loader's case); `strict=True` (a known full level) raises instead."""
    if m.kind == 1:
        return size_now + m.size
    if m.kind in (2, 3, 4):
        if m.size > size_now and not strict:
            return 0
        if m.size > size_now:
            raise ValueError(f"message removes {m.size} at {m.price} but only {size_now} is visible")
        return size_now - m.size
    return size_now


def load_lobster(message_file: str | Path, orderbook_file: str | Path, symbol: str = "AAPL") -> Iterator[Event]:
    """A snapshot from orderbook row 1, then one event per later message (delta or trade).

    Visible executions (type 4) yield a Trade and a delta; hidden executions (5) only a Trade; halts and
    crosses (6, 7) change nothing visible. Trade side is the aggressor: a resting buy hit = SELL.
    """
    msgs = read_messages(message_file)
    book0 = read_orderbook(orderbook_file)[0]
    bids0, asks0 = book0
    size_at: dict[tuple[int, int], int] = {}
    for p, q in bids0:
        size_at[(1, p)] = q
    for p, q in asks0:
        size_at[(-1, p)] = q
    t0 = msgs[0].time_ns
    yield BookSnapshot(VENUE, symbol, 1, list(bids0), list(asks0), t0, t0)
    for uid, m in enumerate(msgs[1:], 2):
        if m.kind in (4, 5):
            aggressor = Side.SELL if m.direction == 1 else Side.BUY
            yield Trade(VENUE, symbol, uid, m.price, m.size, aggressor, m.time_ns, m.time_ns)
        if m.kind in (1, 2, 3, 4):
            key = (m.direction, m.price)
            new = level_after(size_at.get(key, 0), m, strict=False)
            size_at[key] = new
            lv = [(m.price, new)]
            bids, asks = (lv, []) if m.direction == 1 else ([], lv)
            yield BookDelta(VENUE, symbol, uid, uid, bids, asks, m.time_ns, m.time_ns)
        else:  # hidden execution, cross, halt: the update id still advances (an empty delta keeps the chain)
            yield BookDelta(VENUE, symbol, uid, uid, [], [], m.time_ns, m.time_ns)
