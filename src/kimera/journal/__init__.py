"""Crash-safe journal: every order, transition, fill and position change in SQLite (WAL) before it is acted on."""

from kimera.journal.rebuild import RebuiltState, rebuild
from kimera.journal.sqlite import Journal, JournalDivergence, JournalError, Record

__all__ = ["Journal", "JournalDivergence", "JournalError", "RebuiltState", "Record", "rebuild"]
