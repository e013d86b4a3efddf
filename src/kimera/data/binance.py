"""Loader for Binance captures (`<recv_ns> <raw JSON>` lines: depth diffs, REST snapshot, bookTicker,
trades), as recorded by hftbacktest's collector; see ../shared/data/binance-*-l2/PROVENANCE.md."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from kimera.data.errors import LoadStats
from kimera.data.lines import read_bytes, split_ts_lines
from kimera.model import Event
from kimera.venues.binance import BinanceAdapter, FastBinanceDecoder


def detect_market(path: str | Path) -> str:
    """'usdm' if the capture's depth stream chains with `pu` (futures), else 'spot'."""
    for _, _, raw in split_ts_lines(path):
        if b'"depthUpdate"' in raw:
            return "usdm" if b'"pu":' in raw else "spot"
    return "spot"


def load_binance_capture(
    paths: Iterable[str | Path],
    market: str | None = None,
    symbol: str = "BTCUSDT",
    skip_bad: bool = False,
    stats: LoadStats | None = None,
) -> Iterator[Event]:
    """Events of one or more capture files in file order (files concatenated in the order given).

    A malformed line raises `MalformedInputError(file, line, reason)`; with `skip_bad=True` it is
    counted in `stats` instead (never dropped silently).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return
    st = stats if stats is not None else LoadStats()
    adapter = BinanceAdapter(market or detect_market(paths[0]), symbol)
    decode = FastBinanceDecoder(adapter).decode
    n_lines = n_events = n_ignored = 0
    try:
        for path in paths:
            lineno = 0
            for line in read_bytes(path).split(b"\n"):  # the hot loop: line framing inlined
                lineno += 1
                ts, _, raw = line.partition(b" ")
                if not raw and not line.strip():
                    continue
                n_lines += 1
                try:
                    if not ts.isdigit():
                        raise ValueError("line does not start with '<recv_ns> '")
                    ev = decode(raw, int(ts))
                except (ValueError, KeyError, TypeError, IndexError) as exc:  # orjson.JSONDecodeError is a ValueError
                    st.reject(str(path), lineno, exc, skip_bad)
                    continue
                if ev is None:
                    n_ignored += 1
                    continue
                n_events += 1
                yield ev
    finally:  # counters kept in locals on the hot path, published however the iteration ends
        st.lines += n_lines
        st.events += n_events
        st.ignored += n_ignored
