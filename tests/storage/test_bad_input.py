"""Bad files and bad input give clear errors that name the file and what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kimera.model import BookDelta, Instrument, Trade
from kimera.storage import (
    CorruptFileError,
    SchemaMismatchError,
    StoreError,
    TickStore,
    TickWriter,
    compact,
    compression_stats,
)
from kimera.storage.codec import encode
from kimera.storage.files import FileMeta, write_file
from kimera.storage.layout import live_parts, part_name
from kimera.storage.schema import to_table
from tests.storage.conftest import capture_events


def _first(root: Path, kind: str) -> Path:
    return next(p.path for p in live_parts(root) if p.kind == kind)


def test_truncated_file_is_a_corrupt_file_error_naming_it(store_copy) -> None:  # type: ignore[no-untyped-def]
    root = store_copy("binance-usdm")
    victim = _first(root, "book_delta")
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or damaged") as ei:
        TickStore(root).read_table("book_delta")
    assert ei.value.path == str(victim)
    with pytest.raises(CorruptFileError):
        list(TickStore(root).events("BINANCE_USDM", "BTCUSDT"))
    # the other kinds are unaffected
    assert TickStore(root).read_table("quote").num_rows == 66_089


def test_damaged_page_is_a_corrupt_file_error(store_copy) -> None:  # type: ignore[no-untyped-def]
    root = store_copy("binance-usdm")
    victim = _first(root, "quote")
    data = bytearray(victim.read_bytes())
    for i in range(100, 4000):  # scribble over the first data pages, keep the footer
        data[i] ^= 0x5A
    victim.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=victim.name):
        TickStore(root).read_table("quote")


def test_file_of_another_kind_is_a_schema_mismatch(store_copy) -> None:  # type: ignore[no-untyped-def]
    root = store_copy("binance-usdm")
    quote_file = _first(root, "quote")
    trade_dir = _first(root, "trade").parent
    shutil.copy(quote_file, trade_dir / part_name(10**12, 10**12))
    with pytest.raises(SchemaMismatchError, match="holds 'quote' rows but lies under the 'trade' directory"):
        TickStore(root).read_table("trade")


def test_missing_or_retyped_column_is_a_schema_mismatch(store_copy) -> None:  # type: ignore[no-untyped-def]
    root = store_copy("binance-usdm")
    src = _first(root, "trade")
    table = pq.read_table(src)
    meta = {k: v for k, v in pq.ParquetFile(src).metadata.metadata.items() if k.startswith(b"kimera.")}
    bad = tmp = src.parent / part_name(10**12, 10**12)
    pq.write_table(table.drop_columns(["side"]).replace_schema_metadata(meta), tmp)
    with pytest.raises(SchemaMismatchError, match="lacks column 'side'") as ei:
        TickStore(root).read_table("trade")
    assert ei.value.path == str(bad)
    retyped = table.set_column(table.schema.get_field_index("price"), "price",
                               table.column("price").cast(pa.float64()))
    pq.write_table(retyped.replace_schema_metadata(meta), tmp)
    with pytest.raises(SchemaMismatchError, match="column 'price' is double, expected int64"):
        TickStore(root).read_table("trade")


def test_foreign_parquet_file_is_named(store_copy) -> None:  # type: ignore[no-untyped-def]
    root = store_copy("lobster")
    d = _first(root, "trade").parent
    pq.write_table(pa.table({"x": [1, 2]}), d / part_name(10**12, 10**12))
    with pytest.raises(SchemaMismatchError, match="not a kimera tick file"):
        TickStore(root).read_table("trade")


def test_decimals_conflict_between_files_of_a_stream(tmp_path: Path) -> None:
    ev = Trade("LOBSTER", "AAPL", 1, 5_850_000, 100, 1, 10**9, 10**9)  # type: ignore[arg-type]
    with TickWriter(tmp_path, fsync=False) as w:
        w.write(ev)
    table = to_table("trade", "LOBSTER", "AAPL", [5], [ev])
    other = live_parts(tmp_path)[0].path.parent / part_name(5, 5)
    write_file(other, encode("trade", table), FileMeta("trade", "LOBSTER", "AAPL", 2, 0, 1, table.nbytes), fsync=False)
    with pytest.raises(SchemaMismatchError, match=r"decimals \(2, 0\) differ from \(4, 0\)"):
        TickStore(tmp_path).read_table("trade")


def test_bad_events_are_rejected_with_the_reason(tmp_path: Path) -> None:
    w = TickWriter(tmp_path, fsync=False)
    with pytest.raises(TypeError, match="cannot store Instrument"):
        w.write(Instrument("X", "Y"))  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="cannot store NOWHERE:ABC"):
        w.write(Trade("NOWHERE", "ABC", 1, 1, 1, 1, 0, 0))  # type: ignore[arg-type]
    good = [BookDelta("LOBSTER", "AAPL", i, i, [(5_850_000, i)], [], i, i) for i in (1, 3)]
    w.write(good[0])
    w.write(BookDelta("LOBSTER", "AAPL", 2, 2, [(2**64, 1)], [], 2, 2))
    w.write(good[1])
    with pytest.raises(ValueError, match=r"1 event\(s\) not stored: BookDelta.*'bid_px'.*64-bit"):
        w.flush()
    w.close()  # the bad event does not block the writer; the good ones are on disk
    assert list(TickStore(tmp_path).events("LOBSTER", "AAPL")) == good


def test_missing_store_and_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store directory"):
        TickStore(tmp_path / "nope")
    with pytest.raises(StoreError, match="unknown table kind 'trades'"):
        TickStore(tmp_path).read_table("trades")
    with pytest.raises(StoreError, match="no such store directory"):
        compression_stats(tmp_path / "nope")
    with pytest.raises(StoreError, match="no such store directory"):
        compact(tmp_path / "nope")


def test_cli_errors_are_clear(tmp_path: Path, written_stores: dict[str, Path]) -> None:
    import typer

    from kimera.storage.cli import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()
    res = runner.invoke(app, ["query", "SELECT nope FROM trade", "--root", str(written_stores["lobster"])])
    assert res.exit_code == 2 and "nope" in res.output
    res = runner.invoke(app, ["query", "SELECT 1", "--root", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no such store directory" in res.output
    res = runner.invoke(app, ["record", "--from-file", str(tmp_path / "no.gz"), "--out", str(tmp_path / "t")])
    assert res.exit_code == 2 and "no such file" in res.output
    res = runner.invoke(app, ["query", "SELECT count(*) AS n, sum(size) AS s FROM trade", "--root",
                              str(written_stores["lobster"]), "--format", "csv"])
    trades = [e for e in capture_events("lobster") if isinstance(e, Trade)]
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == ["n,s", f"{len(trades)},{sum(t.size for t in trades)}"]


@pytest.mark.parametrize("old", ["kimera-ticks/2", "kimera-ticks/3"])
def test_file_of_another_format_version_is_refused_clearly(store_copy, old: str) -> None:  # type: ignore[no-untyped-def]
    root = store_copy("lobster")
    victim = _first(root, "trade")
    table = pq.read_table(victim)
    meta = dict(table.schema.metadata)
    meta[b"kimera.format"] = old.encode()
    pq.write_table(table.replace_schema_metadata(meta), victim)
    with pytest.raises(SchemaMismatchError, match=rf"unknown tick-file format '{old}'.*reads only "
                                                  r"'kimera-ticks/4'") as ei:
        TickStore(root).read_table("trade")
    assert ei.value.path == str(victim)


def test_compaction_recompresses_a_lone_flush_file(tmp_path: Path) -> None:
    from kimera.storage.files import open_file

    evs = [Trade("LOBSTER", "AAPL", i, 5_850_000 + i, 100, 1, 10**9 + i, 10**9 + i) for i in range(50)]  # type: ignore[arg-type]
    with TickWriter(tmp_path, fsync=False) as w:
        w.write_many(evs)
    (part,) = live_parts(tmp_path)
    assert open_file(part.path, "trade")[1].zstd_level == 3
    rep = compact(tmp_path, fsync=False)
    assert (rep.files_in, rep.files_out) == (1, 1)
    assert open_file(part.path, "trade")[1].zstd_level == 19
    assert compact(tmp_path, fsync=False).files_in == 0  # already at the level: left alone
    assert list(TickStore(tmp_path).events("LOBSTER", "AAPL")) == evs
