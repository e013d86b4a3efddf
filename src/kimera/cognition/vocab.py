"""A process-wide vocabulary interning key names and casefolded strings as integer ids.

Each geoid turns its keys into ids once, at construction, so packing n geoids is a few numpy
concatenations instead of a Python loop over keys. Ids are only meaningful within one *generation*:
when the vocabulary passes `LIMIT` entries (e.g. a stream of unique string values) it starts afresh with
a new generation, and geoids of an older generation are re-interned when next packed, so memory stays
bounded however long the process runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
LIMIT = 1 << 20  # entries (keys + strings) before a new generation starts


class Vocab:
    """One generation: key ids and casefolded-string ids, numbered from 0 in order of first appearance."""

    __slots__ = ("gen", "keys", "strings")

    def __init__(self, gen: int) -> None:
        self.gen = gen
        self.keys: dict[str, int] = {}
        self.strings: dict[str, int] = {}


_lock = threading.Lock()
_current = Vocab(0)


def current() -> Vocab:
    """The vocabulary new geoids are interned into."""
    return _current


def _add(voc: Vocab, table: dict[str, int], items: Iterable[str]) -> None:
    """Number the missing items under the lock (ids stay dense and unique across threads)."""
    global _current
    with _lock:
        for k in items:
            if k not in table:
                table[k] = len(table)
        if voc is _current and len(voc.keys) + len(voc.strings) > LIMIT:
            _current = Vocab(voc.gen + 1)  # `voc` stays valid for whoever holds it


def intern(voc: Vocab, table: dict[str, int], items: list[str]) -> I32:
    """Ids of `items` in `table` (one of `voc`'s), numbering new ones."""
    try:
        return np.fromiter(map(table.__getitem__, items), dtype=np.int32, count=len(items))
    except KeyError:
        _add(voc, table, items)
        return np.fromiter(map(table.__getitem__, items), dtype=np.int32, count=len(items))
