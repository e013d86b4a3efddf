"""Real captures through the adapters, loaders and the one sync state machine, checked against the
exchanges' own oracles: Kraken's CRC32 checksums, Bybit's `u` chain, Coinbase's ticker."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from kimera.book import SyncedBook, SyncStatus
from kimera.data import LoadStats, MalformedInputError
from kimera.data.bybit import is_bybit_dump, load_bybit
from kimera.data.tardis import is_tardis, load_tardis
from kimera.data.wscaptures import is_cryptofeed, load_cryptofeed
from kimera.engine.replay import replay
from kimera.model import Bar, BookDelta, BookSnapshot, Event, Quote, Trade
from kimera.venues import kraken
from kimera.venues.registry import resolve_instrument, venue_spec
from tests.conftest import data_path

CF = "cryptofeed-ws-captures-a"


def synced_for(e: Event) -> SyncedBook:
    spec = venue_spec(e.venue)
    return SyncedBook(resolve_instrument(e.venue, e.symbol), spec.rule(), spec.checksum, max_depth=spec.max_depth)


def test_kraken_every_checksum_equals_the_exchanges() -> None:
    books: dict[str, SyncedBook] = {}
    compared = mismatched = 0
    for e in load_cryptofeed([data_path(CF, "KRAKEN.ws.50.0.gz")]):
        sb = books.get(e.symbol) or books.setdefault(e.symbol, synced_for(e))
        if isinstance(e, BookSnapshot):
            sb.on_snapshot(e)
        elif isinstance(e, BookDelta):
            assert e.checksum is not None
            sb.on_delta(e)
            compared += 1
            mismatched += kraken.checksum(sb.book) != e.checksum
    assert (compared, mismatched) == (4269, 0)  # PROVENANCE: 4,269 checksums over 10 pairs
    assert len(books) == 10 and all(sb.trusted and sb.checksum_failures == 0 for sb in books.values())


def test_kraken_checksum_catches_a_wrong_level() -> None:
    events = [e for e in load_cryptofeed([data_path(CF, "KRAKEN.ws.50.0.gz")]) if e.symbol == "XMR/USD"]
    sb = synced_for(events[0])
    sb.on_snapshot(events[0])  # type: ignore[arg-type]
    p, q = sb.book.bids.best() or (0, 0)
    sb.book.bids.set(p, q + 1)  # one unit off at the best bid
    status = sb.on_delta(events[1])  # type: ignore[arg-type]
    assert status is SyncStatus.GAP and sb.checksum_failures == 1 and not sb.trusted


def test_kraken_book_decimals_match_the_venues_strings() -> None:
    # the checksum is only reproducible if each pair's scale is exactly its strings' number of decimals
    text = gzip.decompress(data_path(CF, "KRAKEN.ws.50.0.gz").read_bytes()).decode()
    snapshots = [ln for ln in text.splitlines() if '"as":[' in ln]
    assert len(snapshots) == 10
    for line in snapshots:
        pair = line.rsplit('"', 2)[-2]
        decimals = {(len(m.group(1)), len(m.group(2))) for m in re.finditer(r'\["\d+\.(\d+)","\d+\.(\d+)"', line)}
        assert decimals == {kraken.BOOK_DECIMALS[pair]}, pair


def test_kraken_trades_and_ticker() -> None:
    evs = list(load_cryptofeed([data_path(CF, "KRAKEN.ws.48.0.gz"), data_path(CF, "KRAKEN.ws.49.0.gz")]))
    quotes = [e for e in evs if isinstance(e, Quote)]
    trades = [e for e in evs if isinstance(e, Trade)]
    assert quotes and trades
    assert all(q.bid_px < q.ask_px for q in quotes)
    assert [e.recv_ns for e in evs] == sorted(e.recv_ns for e in evs)  # two files merged by receive time


def test_bybit_ob500_no_gaps_never_crossed() -> None:
    p = data_path("bybit-linear-xrpusdt-ob500", "xrpusdt-ob500.data.zip")
    assert is_bybit_dump(p)
    events = list(load_bybit([p]))
    sb = synced_for(events[0])
    crossed = 0
    statuses = []
    for e in events:
        if isinstance(e, BookSnapshot):
            sb.on_snapshot(e)
        elif isinstance(e, BookDelta):
            statuses.append(sb.on_delta(e))
        crossed += sb.book.is_crossed()
    assert len(events) == 50 and statuses == [SyncStatus.APPLIED] * 49
    assert sb.gaps == 0 and crossed == 0 and sb.trusted
    assert (len(sb.book.bids), len(sb.book.asks)) == (500, 500)


def test_bybit_chain_break_is_a_gap() -> None:
    events = list(load_bybit([data_path("bybit-linear-xrpusdt-ob500", "xrpusdt-ob500.data.zip")]))
    snap, d1, _, d3 = events[:4]
    assert isinstance(snap, BookSnapshot) and isinstance(d1, BookDelta) and isinstance(d3, BookDelta)
    sb = synced_for(snap)
    sb.on_snapshot(snap)
    sb.on_delta(d1)
    assert sb.on_delta(d3) is SyncStatus.GAP  # the delta between them never arrived


def test_coinbase_best_bid_ask_agree_with_the_ticker_where_they_coincide() -> None:
    books: dict[str, SyncedBook] = {}
    agree = disagree = crossed = 0
    for e in load_cryptofeed([data_path(CF, "COINBASE.ws.28.0.gz")]):
        sb = books.get(e.symbol) or books.setdefault(e.symbol, synced_for(e))
        if isinstance(e, BookSnapshot):
            sb.on_snapshot(e)
        elif isinstance(e, BookDelta):
            sb.on_delta(e)
            crossed += sb.book.is_crossed()
        elif isinstance(e, Quote):
            # coincide: the ticker is at least as new as the last level update our book has applied
            # (tickers sent at subscription describe a state older than the level2 snapshot)
            if sb.book.last_update_id <= 0 or e.exchange_ns // 1000 < sb.book.last_update_id:
                continue
            bb, ba = sb.book.best_bid(), sb.book.best_ask()
            if bb is not None and ba is not None and (bb[0], ba[0]) == (e.bid_px, e.ask_px):
                agree += 1
            else:
                disagree += 1
    assert crossed == 0
    assert agree >= 90 and disagree == 0


def test_binance_cryptofeed_capture_syncs_all_four_symbols() -> None:
    files = [data_path(CF, n) for n in ("BINANCE.ws.1.0.gz", "BINANCE.http.0.0.gz", "BINANCE.0.gz")]
    assert all(is_cryptofeed(f) for f in files)
    st = LoadStats()
    evs = list(load_cryptofeed(files, stats=st))
    snaps = [e for e in evs if isinstance(e, BookSnapshot)]
    assert sorted(s.symbol for s in snaps) == ["BLZETH", "LRCBTC", "NKNUSDT", "RUNEEUR"]
    nkn = next(s for s in snaps if s.symbol == "NKNUSDT")
    first = next(e for e in evs if isinstance(e, BookDelta) and e.symbol == "NKNUSDT")
    assert first.first_update_id <= nkn.update_id + 1 <= first.last_update_id + 1  # PROVENANCE: straddled
    s = replay([evs], resolve_instrument)
    assert s.gaps == 0 and s.crossed_books == 0 and s.untrusted_at_end == 0 and len(s.books) == 4
    assert st.ignored > 0 and st.bad_lines == 0  # exchangeInfo, acks, open klines: counted, not dropped silently
    assert all(isinstance(e, Bar | BookDelta | BookSnapshot | Quote | Trade) for e in evs)


def test_bybit_v1_capture_replays_uncrossed() -> None:
    s = replay([load_cryptofeed([data_path(CF, "BYBIT.ws.25.0.gz"), data_path(CF, "BYBIT.ws.26.0.gz")])],
               resolve_instrument)
    assert s.snapshots == 10 and s.diffs == s.diffs_applied == 4268 and s.crossed_books == 0


def test_cryptofeed_unsupported_exchange_and_bad_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BITMEX: not supported"):
        load_cryptofeed([data_path(CF, "BITMEX.ws.1.0.gz")])
    bad = tmp_path / "KRAKEN.ws.1.0"
    bad.write_text('1618678134.2: [992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"1"},'
                   '"book-1000","XMR/USD"]\n1618678134.3: [992,{"b":[["not-a-price"\n')
    with pytest.raises(MalformedInputError, match=r"KRAKEN.ws.1.0:2: "):
        list(load_cryptofeed([bad]))
    st = LoadStats()
    assert len(list(load_cryptofeed([bad], skip_bad=True, stats=st))) == 1 and st.bad_lines == 1


def test_tardis_samples() -> None:
    d = data_path("tardis-csv-samples")
    snap = list(load_tardis([d / "binance-futures_book_snapshot_25_BTCUSDT.csv"]))
    assert is_tardis(d / "binance-futures_book_snapshot_25_BTCUSDT.csv")
    assert len(snap) == 10 and all(isinstance(e, BookSnapshot) and len(e.bids) == len(e.asks) == 25 for e in snap)
    first = snap[0]
    assert isinstance(first, BookSnapshot) and first.asks[0] == (1_165_708_000_000, 171_400_000)
    assert first.venue == "TARDIS_BINANCE_FUTURES" and first.recv_ns == 1598918403810979000
    s = replay([snap], resolve_instrument)
    assert s.gaps == 0 and s.crossed_books == 0
    trades = list(load_tardis([d / "bitmex_trades_XBTUSD.csv"]))
    assert len(trades) == 10 and all(isinstance(t, Trade) for t in trades)
    quotes = list(load_tardis([d / "huobi-dm-swap_quotes_BTC-USD.csv"]))
    assert all(isinstance(q, Quote) and q.bid_px < q.ask_px for q in quotes)
    inc = list(load_tardis([d / "deribit_incremental_book_L2_BTC-PERPETUAL.csv"]))
    assert len(inc) == 1 and isinstance(inc[0], BookSnapshot) and len(inc[0].asks) == 15  # one snapshot, 15 rows


def test_tardis_bad_row_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
                 "bitmex,XBTUSD,1,2,7,buy,8531.5,10\nbitmex,XBTUSD,1,2,8,sideways,8531.5,10\n")
    with pytest.raises(MalformedInputError, match=r"t.csv:3: KeyError"):
        list(load_tardis([f]))


def test_live_binance_decoder_gives_the_adapters_events() -> None:
    import orjson

    from kimera.data.lines import split_ts_lines
    from kimera.venues.binance import BinanceAdapter
    from kimera.venues.feeds import BinanceFeed

    feed, adapter = BinanceFeed("BTCUSDT"), BinanceAdapter("spot", "BTCUSDT")
    compared = 0
    for _, recv_ns, raw in split_ts_lines(data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz")):
        if b"@depth" not in raw[:40]:
            continue
        expected = adapter.parse(orjson.loads(raw), recv_ns)
        assert feed.decode(raw.decode(), recv_ns) == [expected]
        assert feed.decode(raw, recv_ns) == [expected]  # picows hands over bytes
        compared += 1
    assert compared > 3000
    # unusual strings take the strict path: same numbers, or the same clear errors
    base = '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,'
    for b in ('[["60000.1","0.5"]]', '[["60000.10000000","2"]]', '[["1e3","1.00000000"]]', '[["+1.00000000","1.0"]]',
              '[["1_0.00000000","1.00000000"]]', '[[" 1.00000000","1.00000000"]]', '[["0.00000000","1.00000000"]]',
              '[["-1.00000000","1.00000000"]]', '[["60000.00000000","-1.00000000"]]'):
        msg = base + f'"b":{b},"a":[]}}}}'
        try:
            want: object = adapter.parse(orjson.loads(msg), 7)
        except ValueError as exc:
            want = type(exc)
        try:
            got: object = feed.decode(msg, 7)
        except ValueError as exc:
            got = type(exc)
        assert got == want or got == [want], (b, got, want)
