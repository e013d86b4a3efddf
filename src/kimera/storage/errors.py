"""Errors of the tick store: every one names the file (or dataset) and says what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class StoreError(ValueError):
    """Something in the store cannot be read or written; `path` is the file or directory concerned."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class CorruptFileError(StoreError):
    """A file that is not a complete Parquet file (truncated, overwritten, not Parquet at all)."""


class SchemaMismatchError(StoreError):
    """A readable Parquet file whose columns, types or metadata are not those of its table kind."""
