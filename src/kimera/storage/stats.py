"""Compression statistics per dataset (kind, venue, symbol), from the file footers alone.

`original_bytes` is the Arrow in-memory size of the decoded, normalised columns of those rows (recorded by
the writer in each file's metadata); `compressed_bytes` is the size of the Parquet files on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kimera.storage.files import open_file
from kimera.storage.layout import live_parts


@dataclass
class DatasetStats:
    """Sizes of one dataset; `ratio` = original / compressed, `saved` = 1 - compressed / original."""

    kind: str
    venue: str
    symbol: str
    files: int = 0
    events: int = 0
    original_bytes: int = 0
    compressed_bytes: int = 0

    @property
    def ratio(self) -> float:
        """How many times smaller on disk than in memory."""
        return self.original_bytes / self.compressed_bytes if self.compressed_bytes else 0.0

    @property
    def saved(self) -> float:
        """Fraction of the in-memory size saved on disk."""
        return 1.0 - self.compressed_bytes / self.original_bytes if self.original_bytes else 0.0

    def as_dict(self) -> dict[str, object]:
        """Plain dict for JSON, with the derived ratio."""
        return {"kind": self.kind, "venue": self.venue, "symbol": self.symbol, "files": self.files,
                "events": self.events, "original_bytes": self.original_bytes,
                "compressed_bytes": self.compressed_bytes, "ratio": round(self.ratio, 3),
                "saved": round(self.saved, 4)}


def compression_stats(root: str | Path, venue: str | None = None, symbol: str | None = None) -> list[DatasetStats]:
    """One row per (kind, venue, symbol) present in the store."""
    out: dict[tuple[str, str, str], DatasetStats] = {}
    for p in live_parts(Path(root), None, venue, symbol):
        _, meta = open_file(p.path, p.kind)
        st = out.setdefault((p.kind, p.venue, p.symbol), DatasetStats(p.kind, p.venue, p.symbol))
        st.files += 1
        st.events += meta.events
        st.original_bytes += meta.decoded_bytes
        st.compressed_bytes += p.path.stat().st_size
    return [out[k] for k in sorted(out)]


def total(rows: list[DatasetStats]) -> DatasetStats:
    """All datasets together."""
    t = DatasetStats("all", "*", "*")
    for r in rows:
        t.files += r.files
        t.events += r.events
        t.original_bytes += r.original_bytes
        t.compressed_bytes += r.compressed_bytes
    return t
