"""Reading and writing one Parquet file of the store: atomic writes, metadata, and strict validation."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kimera.storage.codec import NARROW_COLUMNS, NARROW_LEVELS, stored_schema, write_options
from kimera.storage.errors import CorruptFileError, SchemaMismatchError
from kimera.storage.layout import tmp_name

# 2: level prices stored as within-row differences; 3: + exchange clocks GCD-scaled (`ts_scale`), zero level
# sizes stored as NULL, one data page per column chunk, the zstd level recorded in the footer; 4: + values the
# previous row predicts stored as NULL (quote sizes, chained book-delta update ids), first level prices in
# columns of their own, rare odd level sizes stored raw under a negative `sz_scale`.
FORMAT = "kimera-ticks/4"
_META_KEYS = ("format", "kind", "venue", "symbol", "price_decimals", "size_decimals", "events", "decoded_bytes",
              "zstd_level")


@dataclass(frozen=True)
class FileMeta:
    """What a file's footer says about its contents."""

    kind: str
    venue: str
    symbol: str
    price_decimals: int
    size_decimals: int
    events: int
    decoded_bytes: int
    zstd_level: int = 0  # set by `write_file` / compaction to the level the file was compressed with

    def as_metadata(self) -> dict[bytes, bytes]:
        """Parquet key-value metadata (`kimera.*` keys)."""
        return {f"kimera.{k}".encode(): str(getattr(self, k) if k != "format" else FORMAT).encode()
                for k in _META_KEYS}


def parse_meta(path: Path, raw: dict[bytes, bytes] | None) -> FileMeta:
    """Validate and parse a footer's `kimera.*` metadata; a foreign or damaged footer is a clear error."""
    kv = {k.decode(): v.decode() for k, v in (raw or {}).items() if k.startswith(b"kimera.")}
    if not kv:
        raise SchemaMismatchError(path, "not a kimera tick file: no kimera.* metadata")
    if kv.get("kimera.format") != FORMAT:  # checked first: another version may have other keys
        raise SchemaMismatchError(path, f"unknown tick-file format {kv.get('kimera.format')!r}: this version of "
                                        f"kimera reads only {FORMAT!r} (files of an older format must be re-recorded "
                                        f"or converted with the kimera version that wrote them)")
    missing = [k for k in _META_KEYS if f"kimera.{k}" not in kv]
    if missing:
        raise SchemaMismatchError(path, f"bad {FORMAT} metadata: lacks {', '.join('kimera.' + k for k in missing)}")
    try:
        return FileMeta(kv["kimera.kind"], kv["kimera.venue"], kv["kimera.symbol"], int(kv["kimera.price_decimals"]),
                        int(kv["kimera.size_decimals"]), int(kv["kimera.events"]), int(kv["kimera.decoded_bytes"]),
                        int(kv["kimera.zstd_level"]))
    except ValueError as exc:
        raise SchemaMismatchError(path, f"bad kimera metadata: {exc}") from exc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(tmp: Path, final: Path, fsync: bool) -> None:
    """Make a fully written temporary file visible under its final name (atomic rename)."""
    if fsync:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(tmp, final)
    if fsync:
        _fsync_dir(final.parent)


def write_file(final: Path, table: pa.Table, meta: FileMeta, compression_level: int = 3,
               fsync: bool = True, row_group_rows: int | None = None) -> int:
    """Write a stored-schema table to `final` via a temporary file and a rename; returns the file's bytes."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / tmp_name(final.name)
    meta = dataclasses.replace(meta, zstd_level=compression_level)
    table = table.replace_schema_metadata(meta.as_metadata())
    try:
        pq.write_table(table, tmp, row_group_size=row_group_rows, compression_level=compression_level,
                       **write_options(meta.kind))
        commit(tmp, final, fsync)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return final.stat().st_size


def open_file(path: Path, kind: str) -> tuple[pq.ParquetFile, FileMeta]:
    """Open a store file and check it is a complete Parquet file of `kind` with exactly the expected columns."""
    try:
        pf = pq.ParquetFile(path, pre_buffer=True)  # one read per column chunk range (measured faster)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise CorruptFileError(path, f"not a complete Parquet file (truncated or damaged?): {exc}") from exc
    schema = pf.schema_arrow
    meta = parse_meta(path, pf.metadata.metadata)
    if meta.kind != kind:
        raise SchemaMismatchError(path, f"holds {meta.kind!r} rows but lies under the {kind!r} directory")
    check_schema(path, kind, schema)
    return pf, meta


def check_schema(path: Path, kind: str, schema: pa.Schema) -> None:
    """Columns, order and types must be those of `kind` (level lists int64 or int32); the error names the first
    difference."""
    narrow = [n for n in NARROW_COLUMNS.get(kind, ()) if n in schema.names and schema.field(n).type == NARROW_LEVELS]
    want = stored_schema(kind, narrow)
    if schema.equals(want, check_metadata=False):
        return
    have_names, want_names = schema.names, want.names
    for name in want_names:
        if name not in have_names:
            raise SchemaMismatchError(path, f"{kind} file lacks column {name!r} (has {have_names})")
        if schema.field(name).type != want.field(name).type:
            raise SchemaMismatchError(path, f"column {name!r} is {schema.field(name).type}, expected {want.field(name).type}")
    extra = [n for n in have_names if n not in want_names]
    if extra:
        raise SchemaMismatchError(path, f"{kind} file has unexpected column(s) {extra}")
    raise SchemaMismatchError(path, f"columns in order {have_names}, expected {want_names}")


def read_file(path: Path, kind: str) -> tuple[pa.Table, FileMeta]:
    """The stored table of one file, validated; a read that fails mid-file is a `CorruptFileError`."""
    pf, meta = open_file(path, kind)
    try:
        table = pf.read()
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise CorruptFileError(path, f"cannot decode: {exc}") from exc
    if table.num_rows != meta.events:
        raise CorruptFileError(path, f"{table.num_rows} rows but the footer says {meta.events} events")
    return table, meta
