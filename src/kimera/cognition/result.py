"""Detected tensions as columns (indices and scores), with a per-pair iterator for convenience."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TextIO

import numpy as np
import numpy.typing as npt

from kimera.cognition.weights import TensionWeights

CSV_HEADER = ("geoid_a", "geoid_b", "tension", "E", "L", "S")


class TensionGradient(NamedTuple):
    """One pair in tension: the two geoid ids, the total tension and its E, L, S components."""

    geoid_a: str
    geoid_b: str
    tension: float
    E: float
    L: float
    S: float


@dataclass(frozen=True, slots=True, eq=False)
class TensionPairs:
    """Every pair i < j (input order) with tension >= threshold, as parallel arrays sorted by (i, j)."""

    ids: Sequence[str]
    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    tension: npt.NDArray[np.float64]
    E: npt.NDArray[np.float64]
    L: npt.NDArray[np.float64]
    S: npt.NDArray[np.float64]
    threshold: float
    weights: TensionWeights

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def __iter__(self) -> Iterator[TensionGradient]:
        ids = self.ids
        cols = (
            self.i.tolist(),
            self.j.tolist(),
            self.tension.tolist(),
            self.E.tolist(),
            self.L.tolist(),
            self.S.tolist(),
        )
        for a, b, t, e, l_, s in zip(*cols, strict=True):
            yield TensionGradient(ids[a], ids[b], t, e, l_, s)

    def pair_set(self) -> set[tuple[int, int]]:
        """The pairs as a set of index tuples (for tests and small results)."""
        return set(zip(self.i.tolist(), self.j.tolist(), strict=True))

    def write_csv(self, out: TextIO) -> None:
        """Write `geoid_a,geoid_b,tension,E,L,S` rows (floats at full round-trip precision)."""
        w = csv.writer(out, lineterminator="\n")
        w.writerow(CSV_HEADER)
        w.writerows(self)

    @staticmethod
    def empty(ids: Sequence[str], threshold: float, weights: TensionWeights) -> TensionPairs:
        """A result with no pairs."""
        z = np.zeros(0, dtype=np.int64)
        f = np.zeros(0, dtype=np.float64)
        return TensionPairs(ids, z, z.copy(), f, f.copy(), f.copy(), f.copy(), threshold, weights)
