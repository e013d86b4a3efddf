"""Position sizing from risk and volatility, capped by the hard limits and the visible depth."""

from __future__ import annotations

import math

from kimera.model import Instrument
from kimera.risk.config import RiskLimits, RiskParams


def suggested_quantity(
    instrument: Instrument, side: int, price: float, score: float, vol: float, held: float, depth: float,
    params: RiskParams, limits: RiskLimits, position_limit: float | None = None,
) -> int:
    """Fixed-point size: budget·(1 − score)·min(1, target_vol / vol) / price, then capped by the position
    headroom on this side, the notional limit and the depth within the slippage bound; rounded down to the lot.
    `position_limit`: `limits.position_limit(instrument.key)` when the caller has it already."""
    vol_factor = min(1.0, params.target_vol / vol) if vol > 0.0 else 1.0
    q = params.risk_budget * max(0.0, 1.0 - score) * vol_factor / price
    pos_lim = limits.position_limit(instrument.key) if position_limit is None else position_limit
    q = min(q, max(0.0, pos_lim - side * held), limits.max_notional / price, depth)
    if not q > 0.0 or math.isinf(q):
        return 0
    lot = instrument.lot_size
    return int(q * instrument.size_scale) // lot * lot
