"""Loader for Binance captures (`<recv_ns> <raw JSON>` lines: depth diffs, REST snapshot, bookTicker,
trades), as recorded by hftbacktest's collector; see ../shared/data/binance-*-l2/PROVENANCE.md."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from kimera.data.errors import LoadStats
from kimera.data.lines import read_bytes, split_ts_lines
from kimera.model import BookDelta, Event, Level, Quote, Side, Trade
from kimera.venues.binance import BinanceAdapter, FastBinanceDecoder

_Match = Callable[[bytes], "re.Match[bytes] | None"]
_INT = rb"(0|[1-9][0-9]*)"  # a JSON integer (no sign, no leading zero)


@lru_cache(maxsize=8)
def line_patterns(pd: int, sd: int) -> tuple[_Match, _Match, _Match]:
    """Whole-line `fullmatch`ers for the three hot spot streams in the exact layout Binance sends them
    (`<recv_ns> {"stream":..,"data":{..}}`, keys in order, no blanks, prices with exactly `pd` decimals and
    sizes with `sd`). A match is a complete validation of the line: every character is accounted for and every
    number is plain ASCII digits, so the groups convert with `int()` and cannot fail. Anything else (another
    layout, a sign, an exponent, fewer decimals, garbage) does not match and takes the strict decoder, which
    gives the same event or the same error as before."""
    px, sz = rb'"([0-9]+\.[0-9]{%d})"' % pd, rb'"([0-9]+\.[0-9]{%d})"' % sd
    lv = rb'\["[0-9]+\.[0-9]{%d}","[0-9]+\.[0-9]{%d}"\]' % (pd, sd)
    arr = rb"(\[(?:" + lv + rb"(?:," + lv + rb")*)?\])"
    head = rb'([0-9]+) \{"stream":"[a-z0-9]+@'
    tick = re.compile(head + rb'bookTicker","data":\{"u":' + _INT + rb',"s":"([A-Z0-9]+)","b":' + px
                      + rb',"B":' + sz + rb',"a":' + px + rb',"A":' + sz + rb"\}\}")
    trade = re.compile(head + rb'trade","data":\{"e":"trade","E":' + _INT + rb',"s":"([A-Z0-9]+)","t":' + _INT
                       + rb',"p":' + px + rb',"q":' + sz + rb',"T":' + _INT + rb',"m":(true|false),"M":(?:true|false)\}\}')
    depth = re.compile(head + rb'depth(?:@[0-9]+ms)?","data":\{"e":"depthUpdate","E":' + _INT + rb',"s":"([A-Z0-9]+)",'
                       rb'"U":' + _INT + rb',"u":' + _INT + rb',"b":' + arr + rb',"a":' + arr + rb"\}\}")
    return tick.fullmatch, trade.fullmatch, depth.fullmatch


def _levels(arr: bytes) -> list[Level] | None:
    """A validated `[["p","q"],...]` array -> `[(p, q), ...]` with C-level loops; None if a price is 0 (the
    strict adapter rejects it, so the line is left to the decoder path to judge)."""
    if len(arr) == 2:
        return []
    v = list(map(int, arr.translate(None, b'[]".').split(b",")))  # '[["1.5","2.0"],..' -> '15,20,..'
    px = v[0::2]
    if min(px) <= 0:
        return None
    return list(zip(px, v[1::2], strict=True))


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
    venue = adapter.venue
    tick, trade, depth = line_patterns(adapter.pd, adapter.sd)
    px_cache: dict[bytes, int] = {}  # validated price string -> int: a few thousand distinct per session
    px_get = px_cache.get

    def px_new(b: bytes) -> int:
        if len(px_cache) >= 100_000:
            px_cache.clear()
        v = px_cache[b] = int(b.replace(b".", b""))
        return v

    n_lines = n_events = n_ignored = n_fast = 0  # n_fast: lines (and events) of the three usual layouts
    sell, buy = Side.SELL, Side.BUY
    try:
        for path in paths:
            lineno = 0
            for line in read_bytes(path).split(b"\n"):  # the hot loop: line framing and the usual layouts inlined
                lineno += 1
                m = tick(line)
                if m is not None:  # bookTicker, ~3/4 of the lines
                    ts, u, sym, b, bq, a, aq = m.groups()
                    n_fast += 1
                    yield Quote(venue, sym.decode(), int(u), px_get(b) or px_new(b), int(bq.replace(b".", b"")),
                                px_get(a) or px_new(a), int(aq.replace(b".", b"")), 0, int(ts))
                    continue
                m = trade(line)
                if m is not None:
                    ts, e, sym, t, p, q, tt, mk = m.groups()
                    price = px_get(p) or px_new(p)
                    if price:  # a price of 0 is left to the strict path, which rejects it
                        n_fast += 1
                        yield Trade(venue, sym.decode(), int(t), price, int(q.replace(b".", b"")),
                                    sell if mk == b"true" else buy, int(tt) * 1_000_000, int(ts))
                        continue
                m = depth(line)
                if m is not None:
                    ts, e, sym, uf, ul, bids, asks = m.groups()
                    bl, al = _levels(bids), _levels(asks)
                    if bl is not None and al is not None:
                        n_fast += 1
                        yield BookDelta(venue, sym.decode(), int(uf), int(ul), bl, al, int(e) * 1_000_000, int(ts))
                        continue
                ts, _, raw = line.partition(b" ")  # anything else: the strict decoder
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
        st.lines += n_lines + n_fast
        st.events += n_events + n_fast
        st.ignored += n_ignored
