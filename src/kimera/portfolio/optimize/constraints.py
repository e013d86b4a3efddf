"""Long-only, fully-invested feasible sets: per-asset bounds and group (sector) bounds on summed weight."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kimera.portfolio.optimize.covariance import FloatArray
from kimera.portfolio.optimize.errors import InfeasibleError

FEAS_TOL = 1e-9
WEIGHT_FLOOR = 1e-8  # interior-point round-off: weights below this (and above their lower bound) are 0


@dataclass(frozen=True)
class Group:
    """Σ_{i ∈ members} w_i must lie in [lower, upper]."""

    members: tuple[int, ...]
    lower: float = 0.0
    upper: float = 1.0
    name: str = ""


@dataclass(frozen=True)
class Resolved:
    """Bounds and the group matrix as arrays for an N-asset problem."""

    lower: FloatArray
    upper: FloatArray
    group_matrix: FloatArray  # m×N of 0/1
    group_lower: FloatArray
    group_upper: FloatArray

    @property
    def trivial(self) -> bool:
        """True when only 0 ≤ w ≤ 1 and no groups apply."""
        return not self.group_matrix.shape[0] and bool(np.all(self.lower == 0) and np.all(self.upper == 1))


@dataclass(frozen=True)
class Constraints:
    """Per-asset bounds (scalars or length-N arrays) and groups; the defaults are 0 ≤ w ≤ 1."""

    lower: float | Sequence[float] | FloatArray = 0.0
    upper: float | Sequence[float] | FloatArray = 1.0
    groups: tuple[Group, ...] = ()

    @classmethod
    def by_name(
        cls,
        assets: Sequence[str],
        bounds: Mapping[str, tuple[float, float]] | None = None,
        groups: Mapping[str, tuple[Sequence[str], float, float]] | None = None,
    ) -> Constraints:
        """Build from {asset: (lo, hi)} and {group: ([assets], lo, hi)}; unknown names are an error."""
        index = {a: i for i, a in enumerate(assets)}
        lower = np.zeros(len(assets))
        upper = np.ones(len(assets))
        for name, (lo, hi) in (bounds or {}).items():
            if name not in index:
                raise InfeasibleError(f"bound for unknown asset {name!r}")
            lower[index[name]], upper[index[name]] = lo, hi
        built: list[Group] = []
        for gname, (members, lo, hi) in (groups or {}).items():
            missing = [m for m in members if m not in index]
            if missing:
                raise InfeasibleError(f"group {gname!r} names unknown assets {missing}")
            built.append(Group(tuple(index[m] for m in members), lo, hi, gname))
        return cls(lower, upper, tuple(built))

    def resolve(self, n: int) -> Resolved:
        """Arrays for N assets, after checking the set is non-empty where that is cheap to decide."""
        lower = np.broadcast_to(np.asarray(self.lower, dtype=np.float64), (n,)).copy()
        upper = np.broadcast_to(np.asarray(self.upper, dtype=np.float64), (n,)).copy()
        if np.any(lower < 0):
            raise InfeasibleError("long-only: lower bounds must be ≥ 0")
        if np.any(lower > upper + FEAS_TOL):
            raise InfeasibleError(
                f"lower bound above upper bound for asset index {int(np.argmax(lower > upper))}"
            )
        if lower.sum() > 1 + FEAS_TOL or upper.sum() < 1 - FEAS_TOL:
            raise InfeasibleError(
                f"bounds cannot sum to 1: Σlower = {lower.sum():.4g}, Σupper = {upper.sum():.4g}"
            )
        g = np.zeros((len(self.groups), n))
        for k, grp in enumerate(self.groups):
            if not grp.members or min(grp.members) < 0 or max(grp.members) >= n:
                raise InfeasibleError(f"group {grp.name or k} has members outside 0..{n - 1}")
            if grp.lower > grp.upper + FEAS_TOL:
                raise InfeasibleError(f"group {grp.name or k}: lower {grp.lower} above upper {grp.upper}")
            g[k, list(grp.members)] = 1.0
        glo = np.array([grp.lower for grp in self.groups], dtype=np.float64)
        ghi = np.array([grp.upper for grp in self.groups], dtype=np.float64)
        return Resolved(lower, upper, g, glo, ghi)


def finish_weights(w: FloatArray, limits: Resolved) -> FloatArray:
    """Clip solver round-off to the bounds, zero dust below WEIGHT_FLOOR, renormalise to sum 1."""
    clipped = np.clip(np.asarray(w, dtype=np.float64), limits.lower, limits.upper)
    clipped[(clipped < WEIGHT_FLOOR) & (limits.lower == 0)] = 0.0
    total = clipped.sum()
    if not total > 0:
        raise InfeasibleError("solver returned an empty portfolio")
    out: FloatArray = clipped / total
    return out
