"""Compaction: merge a day's small flush files into one large file, crash-safely.

The merged file is written under a temporary name, fsynced and renamed to `part-<first>-<last>`, whose
range covers every input; only then are the inputs deleted. A crash in between leaves inputs that
readers already ignore (their range lies inside the merged file's) and the next compaction deletes.
Rows are re-encoded per row group, so the GCD scaling is recomputed over the merged rows and the format-4
predictions (values stored as NULL where the previous row predicts them) restart at each row group. A day
with a single file is rewritten too when its footer says it was compressed at a lower zstd level than asked
for (a flush file, level 3): compaction leaves every day at the compaction level.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kimera.storage.codec import NARROW_COLUMNS, NARROW_LEVELS, LevelsTooWide, decode, encode, write_options
from kimera.storage.errors import SchemaMismatchError
from kimera.storage.files import FileMeta, commit, open_file, read_file
from kimera.storage.layout import TMP_RE, Part, Partition, part_name, partitions, tmp_name


@dataclass
class CompactionReport:
    """What a compaction did."""

    partitions: int = 0
    files_in: int = 0
    files_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    removed_superseded: int = 0
    removed_temp: int = 0
    outputs: list[Path] = field(default_factory=list)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_orphans(part: Partition, report: CompactionReport) -> None:
    """Delete superseded parts and temp files whose writer process is gone."""
    for p in part.superseded:
        with contextlib.suppress(FileNotFoundError):
            p.path.unlink()
            report.removed_superseded += 1
    for t in part.temp:
        m = TMP_RE.match(t.name)
        if m and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(FileNotFoundError):
                t.unlink()
                report.removed_temp += 1


def _merge(parts: list[Part], kind: str, compression_level: int, row_group_rows: int, fsync: bool) -> tuple[Path, int]:
    """Write the rows of `parts` (already in seq order) into one file; returns its path and size."""
    try:
        return _merge_as(parts, kind, compression_level, row_group_rows, fsync, narrow_auto=True)
    except LevelsTooWide:  # a later row group's levels do not fit the int32 columns the first one chose
        return _merge_as(parts, kind, compression_level, row_group_rows, fsync, narrow_auto=False)


def _merge_as(parts: list[Part], kind: str, compression_level: int, row_group_rows: int, fsync: bool,
              narrow_auto: bool) -> tuple[Path, int]:
    """`_merge` with int32 level columns chosen by the first row group (`narrow_auto`) or none."""
    narrow: list[str] = []
    final = parts[0].path.parent / part_name(parts[0].first, parts[-1].last)
    tmp = final.parent / tmp_name(final.name)
    metas: list[FileMeta] = []
    writer: pq.ParquetWriter | None = None
    pending: list[pa.Table] = []
    rows = 0

    def emit() -> None:
        nonlocal writer, pending, rows
        if not pending:
            return
        # the first row group picks int32 level columns where they fit; later ones must match (else: retry)
        table = encode(kind, pa.concat_tables(pending), None if writer is None and narrow_auto else narrow)
        if writer is None:
            narrow.extend(n for n in NARROW_COLUMNS.get(kind, ()) if table.schema.field(n).type == NARROW_LEVELS)
            writer = pq.ParquetWriter(tmp, table.schema.remove_metadata(), compression_level=compression_level,
                                      **write_options(kind))
        writer.write_table(table, row_group_size=table.num_rows)
        pending, rows = [], 0

    try:
        for p in parts:
            stored, meta = read_file(p.path, kind)
            if metas and (meta.venue, meta.symbol, meta.price_decimals, meta.size_decimals) != (
                    metas[0].venue, metas[0].symbol, metas[0].price_decimals, metas[0].size_decimals):
                raise SchemaMismatchError(p.path, f"stream or decimals differ from {parts[0].path.name}")
            metas.append(meta)
            pending.append(decode(kind, stored))
            rows += stored.num_rows
            if rows >= row_group_rows:
                emit()
        emit()
        m0 = metas[0]
        total = FileMeta(kind, m0.venue, m0.symbol, m0.price_decimals, m0.size_decimals,
                         sum(m.events for m in metas), sum(m.decoded_bytes for m in metas), compression_level)
        assert writer is not None
        writer.add_key_value_metadata(total.as_metadata())
        writer.close()
        writer = None
        commit(tmp, final, fsync)
    except BaseException:
        if writer is not None:
            writer.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return final, final.stat().st_size


def _level(part: Part) -> int:
    """The zstd level a file's footer says it was written with."""
    return open_file(part.path, part.kind)[1].zstd_level


def compact(root: str | Path, kind: str | None = None, venue: str | None = None, symbol: str | None = None,
            min_files: int = 2, compression_level: int = 19, row_group_rows: int = 500_000,
            fsync: bool = True) -> CompactionReport:
    """Merge every day partition with at least `min_files` live files into one, recompress a lone file
    written at a lower zstd level than `compression_level`; clean up leftovers."""
    report = CompactionReport()
    for part in partitions(Path(root), kind, venue, symbol):
        _remove_orphans(part, report)
        lone_low = len(part.live) == 1 and _level(part.live[0]) < compression_level
        if not part.live or (len(part.live) < min_files and not lone_low):
            continue
        report.partitions += 1
        report.files_in += len(part.live)
        report.bytes_in += sum(p.path.stat().st_size for p in part.live)
        out, size = _merge(part.live, part.live[0].kind, compression_level, row_group_rows, fsync)
        for p in part.live:
            if p.path != out:
                p.path.unlink()
        report.files_out += 1
        report.bytes_out += size
        report.outputs.append(out)
    return report
