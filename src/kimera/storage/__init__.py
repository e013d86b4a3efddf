"""Tick store: normalised events per venue, symbol and day in compressed Parquet, recorded from streams,
read back exactly (as Arrow tables or as the original events, in order) and queried with DuckDB."""

from kimera.storage.compact import CompactionReport, compact
from kimera.storage.errors import CorruptFileError, SchemaMismatchError, StoreError
from kimera.storage.query import connect
from kimera.storage.reader import TickStore
from kimera.storage.record import RecordSummary, paced, record
from kimera.storage.schema import KINDS
from kimera.storage.stats import DatasetStats, compression_stats
from kimera.storage.writer import TickWriter

__all__ = [
    "KINDS",
    "CompactionReport",
    "CorruptFileError",
    "DatasetStats",
    "RecordSummary",
    "SchemaMismatchError",
    "StoreError",
    "TickStore",
    "TickWriter",
    "compact",
    "compression_stats",
    "connect",
    "paced",
    "record",
]
