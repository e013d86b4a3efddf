"""Tension weights `T = w_E·E + w_L·L + w_S·S`: validated non-negative and summing to one."""

from __future__ import annotations

import math
from dataclasses import dataclass

_SUM_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class TensionWeights:
    """Weights of the embedding (E), key-set (L) and symbolic (S) components; default 1/3 each."""

    e: float = 1.0 / 3.0
    l: float = 1.0 / 3.0  # noqa: E741 (the spec's name)
    s: float = 1.0 / 3.0

    def __post_init__(self) -> None:
        vals = (self.e, self.l, self.s)
        for name, v in zip("ELS", vals, strict=True):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                raise ValueError(f"tension weight w_{name} must be a finite number >= 0, got {v!r}")
        total = math.fsum(vals)
        if abs(total - 1.0) > _SUM_TOL:
            raise ValueError(f"tension weights must sum to 1, got {vals} (sum {total!r})")
        object.__setattr__(self, "e", float(self.e))
        object.__setattr__(self, "l", float(self.l))
        object.__setattr__(self, "s", float(self.s))

    @classmethod
    def parse(cls, text: str) -> TensionWeights:
        """Weights from `"E,L,S"` (e.g. the CLI's `--weights 0.5,0.25,0.25`)."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 3:
            raise ValueError(f"weights must be three numbers 'E,L,S', got {text!r}")
        try:
            e, l_, s = (float(p) for p in parts)
        except ValueError as exc:
            raise ValueError(f"weights must be three numbers 'E,L,S', got {text!r}") from exc
        return cls(e, l_, s)

    def combine(self, e: float, l_: float, s: float) -> float:
        """`w_E·E + w_L·L + w_S·S`, evaluated left to right (the order every engine uses)."""
        return self.e * e + self.l * l_ + self.s * s
