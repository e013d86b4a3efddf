"""The loader's whole-line fast path (bookTicker, trade, depth in Binance's usual layout) gives exactly the
events of the strict decoder, and anything off that layout still goes through the strict path and its errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from kimera.data import LoadStats, MalformedInputError
from kimera.data.binance import line_patterns, load_binance_capture
from kimera.data.lines import split_ts_lines
from kimera.model import BookDelta, Quote, Side, Trade
from kimera.venues.binance import BinanceAdapter
from tests.conftest import data_path

TICK = (b'1723161254087891268 {"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT",'
        b'"b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}')
TRADE = (b'1723161254087896568 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",'
         b'"t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}')
DEPTH = (b'1723161253937085768 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,'
         b'"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],'
         b'["61730.17000000","1.50000000"]],"a":[["61837.64000000","1.54698000"]]}}')


def _strict(line: bytes) -> object:
    ts, _, raw = line.partition(b" ")
    return BinanceAdapter("spot").parse(orjson.loads(raw), int(ts))


def _load(tmp_path: Path, *lines: bytes, skip_bad: bool = False, stats: LoadStats | None = None) -> list:
    f = tmp_path / "cap.txt"
    f.write_bytes(b"\n".join(lines) + b"\n")
    return list(load_binance_capture([f], market="spot", skip_bad=skip_bad, stats=stats))


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_loader_equals_strict_parser_on_every_real_line(market: str) -> None:
    f = data_path(f"binance-{market}-btcusdt-l2", "btcusdt_20240808.gz")
    ad = BinanceAdapter(market)
    want = [ev for _, ns, raw in split_ts_lines(f) if (ev := ad.parse(orjson.loads(raw), ns)) is not None]
    st = LoadStats()
    got = list(load_binance_capture([f], market=market, stats=st))
    assert got == want and st.events == len(want) and st.bad_lines == 0
    assert all(type(a.symbol) is str for a in got[:100])


def test_usual_layouts_take_the_fast_path(tmp_path: Path) -> None:
    tick, trade, depth = line_patterns(8, 8)
    assert tick(TICK) and trade(TRADE) and depth(DEPTH)
    q, t, d = _load(tmp_path, TICK, TRADE, DEPTH)
    assert q == _strict(TICK) == Quote("BINANCE", "BTCUSDT", 50093239212, 6183763000000, 378826000, 6183764000000,
                                       154698000, 0, 1723161254087891268)
    assert t == _strict(TRADE) and isinstance(t, Trade) and t.side is Side.SELL and t.exchange_ns == 1723161255342 * 10**6
    assert d == _strict(DEPTH) and isinstance(d, BookDelta)
    assert d.bids == [(6173763000000, 0), (6173017000000, 150000000)] and d.asks == [(6183764000000, 154698000)]
    empty = DEPTH.replace(b'"a":[["61837.64000000","1.54698000"]]', b'"a":[]')
    assert depth(empty) and _load(tmp_path, empty)[0].asks == [] == _strict(empty).asks


@pytest.mark.parametrize("line", [
    TICK.replace(b'"b":"61837.63000000"', b'"b":"61837.6300000"'),  # 7 decimals: strict path, same value
    TICK.replace(b'"b":"61837.63000000"', b'"b":"61837.63"'),
    TICK.replace(b'"s":"BTCUSDT",', b'"s": "BTCUSDT",'),  # blank: not the usual layout
    TRADE.replace(b'"m":true', b'"m":false'),
    TRADE.replace(b',"M":true', b''),
    DEPTH.replace(b'"b":[[', b'"b": [['),
    DEPTH.replace(b'@depth@100ms', b'@depth'),
])
def test_other_layouts_decode_the_same_through_the_strict_path(tmp_path: Path, line: bytes) -> None:
    assert _load(tmp_path, line) == [_strict(line)]


@pytest.mark.parametrize("line", [
    TICK.replace(b'"u":50093239212', b'"u":050093239212'),  # not JSON (leading zero)
    TICK.replace(b'"b":"61837.63000000"', b'"b":"6183x.63000000"'),
    TICK.replace(b'"B":"3.78826000"', b'"B":"3_7.78826000"'),
    TICK.replace(b'"B":"3.78826000"', b'"B":"3.788260001"'),  # would round
    TICK.replace(b'"B":"3.78826000"', b'"B":"1e3"'),
    TICK[:-1],  # truncated
    TRADE.replace(b'"q":"0.02000000"', b'"q":"0.02000000x"'),
    DEPTH.replace(b'"1.50000000"', b'"-1.50000000"'),
    DEPTH.replace(b'["61730.17000000","1.50000000"]', b'["61730.17000000"]'),
    b"1723161254087891268x" + TICK[19:],  # timestamp
    TICK.replace(b'"B":"3.78826000"', b'"B":"-3.78826000"'),  # negative size
    TRADE.replace(b'"q":"0.02000000"', b'"q":"-0.02000000"'),
    TRADE.replace(b'"p":"61837.63000000"', b'"p":"0.00000000"'),  # a trade at price 0
    DEPTH.replace(b'"61730.17000000"', b'"0.00000000"'),  # a level at price 0
])
def test_malformed_usual_lines_still_raise_naming_file_and_line(tmp_path: Path, line: bytes) -> None:
    with pytest.raises(MalformedInputError) as ei:
        _load(tmp_path, TICK, line, TRADE)
    assert ei.value.line == 2 and "cap.txt:2" in str(ei.value)
    st = LoadStats()
    got = _load(tmp_path, TICK, line, TRADE, skip_bad=True, stats=st)
    assert len(got) == 2 and st.bad_lines == 1 and st.lines == 3 and st.events == 2
