"""Loader for Tardis.dev normalised CSV files (`book_snapshot_N`, `incremental_book_L2`, `trades`, `quotes`),
as in ../shared/data/tardis-csv-samples.

Tardis rows carry no venue update ids, so the loader numbers book messages per symbol (a contiguous
chain, `ContiguousRule`). Each Tardis exchange becomes its own venue `TARDIS_<EXCHANGE>` (e.g.
`TARDIS_BINANCE_FUTURES`), registered on first sight: a vendor's normalised stream is not the venue's
wire protocol, so it must not borrow the venue's sync rule. Timestamps are µs: `timestamp` is the
exchange's, `local_timestamp` Tardis' receive time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from kimera.book import ContiguousRule
from kimera.data.errors import LoadStats
from kimera.data.lines import read_bytes
from kimera.model import BookDelta, BookSnapshot, Event, Instrument, Level, Quote, Side, Trade
from kimera.model.fixed import parse_fixed
from kimera.venues.registry import VenueSpec, register_venue

DECIMALS = 8
KINDS = ("book_snapshot", "incremental_book_L2", "trades", "quotes")


def venue_name(exchange: str) -> str:
    """`binance-futures` -> `TARDIS_BINANCE_FUTURES`."""
    return "TARDIS_" + exchange.upper().replace("-", "_")


def register_tardis_venue(exchange: str) -> str:
    """Register the venue of a Tardis exchange (idempotent) and return its name."""
    name = venue_name(exchange)

    def inst(symbol: str) -> Instrument:
        return Instrument(name, symbol, DECIMALS, DECIMALS, taker_fee=0.0, maker_fee=0.0)

    register_venue(VenueSpec(name, ContiguousRule, inst))
    return name


def kind_of(header: list[str]) -> str:
    """Which Tardis data type a CSV header belongs to."""
    cols = set(header)
    if {"exchange", "symbol", "timestamp", "local_timestamp"} - cols:
        raise ValueError(f"not a Tardis CSV header (needs exchange,symbol,timestamp,local_timestamp): {header[:6]}")
    if "asks[0].price" in cols:
        return "book_snapshot"
    if {"is_snapshot", "side", "price", "amount"} <= cols:
        return "incremental_book_L2"
    if {"id", "side", "price", "amount"} <= cols:
        return "trades"
    if {"ask_amount", "ask_price", "bid_price", "bid_amount"} <= cols:
        return "quotes"
    raise ValueError(f"unsupported Tardis data type (supported: {', '.join(KINDS)}); header {header[:8]}")


def is_tardis(path: str | Path) -> bool:
    """True if the file's first line is a Tardis CSV header of a supported type."""
    try:
        first = read_bytes(path)[:4000].split(b"\n", 1)[0].decode().strip().split(",")
        kind_of(first)
    except (ValueError, UnicodeDecodeError, OSError):
        return False
    return True


def _fx(text: str) -> int:
    return parse_fixed(text, DECIMALS)


class _Book:
    """Per-symbol state of an incremental stream: the next update id and the snapshot being collected."""

    def __init__(self) -> None:
        self.next_id = 1
        self.snap_bids: list[Level] = []
        self.snap_asks: list[Level] = []
        self.snap_key: tuple[int, int] | None = None


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    text = read_bytes(path).decode()
    reader = csv.DictReader(io.StringIO(text))
    yield from enumerate(reader, 2)


def _load_one(path: Path, skip_bad: bool, st: LoadStats) -> Iterator[Event]:
    header = read_bytes(path)[:4000].split(b"\n", 1)[0].decode().strip().split(",")
    kind = kind_of(header)
    books: dict[str, _Book] = {}
    pending: dict[str, tuple[str, _Book]] = {}  # symbol -> (venue, book) with a snapshot being collected

    def flush(symbol: str | None = None) -> Iterator[Event]:
        for sym_ in [symbol] if symbol is not None else list(pending):
            venue_, b_ = pending.pop(sym_)
            assert b_.snap_key is not None
            ex_, loc_ = b_.snap_key
            yield BookSnapshot(venue_, sym_, b_.next_id, sorted(b_.snap_bids, reverse=True), sorted(b_.snap_asks),
                               ex_ * 1000, loc_ * 1000)
            b_.next_id += 1
            b_.snap_bids, b_.snap_asks, b_.snap_key = [], [], None

    for lineno, row in _rows(path):
        st.lines += 1
        try:
            venue = register_tardis_venue(row["exchange"])
            sym = row["symbol"]
            ex_us, loc_us = int(row["timestamp"]), int(row["local_timestamp"])
            if kind == "book_snapshot":
                n = sum(1 for c in row if c.startswith("asks[") and c.endswith("].price"))
                bids = [(_fx(row[f"bids[{i}].price"]), _fx(row[f"bids[{i}].amount"])) for i in range(n)
                        if row.get(f"bids[{i}].price")]
                asks = [(_fx(row[f"asks[{i}].price"]), _fx(row[f"asks[{i}].amount"])) for i in range(n)
                        if row.get(f"asks[{i}].price")]
                b = books.setdefault(sym, _Book())
                events: list[Event] = [BookSnapshot(venue, sym, b.next_id, bids, asks, ex_us * 1000, loc_us * 1000)]
                b.next_id += 1
            elif kind == "incremental_book_L2":
                b = books.setdefault(sym, _Book())
                side = row["side"]
                if side not in ("bid", "ask"):
                    raise ValueError(f"side must be bid or ask, got {side!r}")
                lv = (_fx(row["price"]), _fx(row["amount"]))
                if row["is_snapshot"] == "true":  # rows of one snapshot share their timestamps
                    events = list(flush(sym)) if b.snap_key not in (None, (ex_us, loc_us)) else []
                    if b.snap_key is None:
                        b.snap_key = (ex_us, loc_us)
                        pending[sym] = (venue, b)
                    (b.snap_bids if side == "bid" else b.snap_asks).append(lv)
                else:
                    events = list(flush())
                    uid = b.next_id
                    b.next_id += 1
                    bids, asks = ([lv], []) if side == "bid" else ([], [lv])
                    events.append(BookDelta(venue, sym, uid, uid, bids, asks, ex_us * 1000, loc_us * 1000))
            elif kind == "trades":
                aggressor = {"buy": Side.BUY, "sell": Side.SELL}[row["side"]]
                tid = int(row["id"]) if row["id"].isdigit() else -1
                events = [Trade(venue, sym, tid, _fx(row["price"]), _fx(row["amount"]), aggressor, ex_us * 1000,
                                loc_us * 1000)]
            else:  # quotes
                events = [Quote(venue, sym, -1, _fx(row["bid_price"]), _fx(row["bid_amount"]), _fx(row["ask_price"]),
                                _fx(row["ask_amount"]), ex_us * 1000, loc_us * 1000)]
        except (ValueError, KeyError, TypeError) as exc:
            st.reject(str(path), lineno, exc, skip_bad)
            continue
        st.events += len(events)
        yield from events
    yield from flush()


def load_tardis(
    paths: Iterable[str | Path],
    skip_bad: bool = False,
    stats: LoadStats | None = None,
) -> Iterator[Event]:
    """Events of Tardis CSV files, in the order given.

    A malformed row raises `MalformedInputError(file, line, reason)`; with `skip_bad=True` it is counted.
    """
    st = stats if stats is not None else LoadStats()
    for p in paths:
        yield from _load_one(Path(p), skip_bad, st)
