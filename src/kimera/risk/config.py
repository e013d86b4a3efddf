"""Risk configuration: component weights (the seed's, validated), hard limits and component parameters."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from kimera.risk.errors import RiskConfigError

COMPONENTS = ("thermal", "cognitive", "volatility", "correlation", "liquidity", "contradiction")


def _num(owner: str, name: str, v: object, lo: float = 0.0, hi: float = math.inf, lo_open: bool = False) -> float:
    """A real number in [lo, hi] ((lo, hi] when `lo_open`), or a `RiskConfigError` naming it."""
    if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
        raise RiskConfigError(f"{owner}.{name} must be a number, got {v!r}")
    x = float(v)
    if x < lo or x > hi or (lo_open and x == lo):
        lo_s = "(" if lo_open else "["
        raise RiskConfigError(f"{owner}.{name} must be in {lo_s}{lo}, {hi}], got {v!r}")
    return x


@dataclass(frozen=True, slots=True)
class RiskWeights:
    """Weights of the six components; finite, >= 0, summing to 1 (within 1e-9)."""

    thermal: float = 0.25
    cognitive: float = 0.25
    volatility: float = 0.20
    correlation: float = 0.15
    liquidity: float = 0.10
    contradiction: float = 0.05

    def __post_init__(self) -> None:
        vals = [_num("RiskWeights", n, getattr(self, n), 0.0, 1.0) for n in COMPONENTS]
        total = math.fsum(vals)
        if abs(total - 1.0) > 1e-9:
            raise RiskConfigError(f"RiskWeights must sum to 1, got {dict(zip(COMPONENTS, vals, strict=True))} (sum {total!r})")

    def as_tuple(self) -> tuple[float, float, float, float, float, float]:
        """The weights in `COMPONENTS` order."""
        return (self.thermal, self.cognitive, self.volatility, self.correlation, self.liquidity, self.contradiction)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Hard limits: an order breaking any of them is blocked, and the verdict names limit and values.

    A value strictly over its limit blocks (strictly under, for `min_confidence`); equal passes.
    `max_position` and `position_limits` (per `VENUE:SYMBOL`) are absolute base-unit positions after the
    order; `max_notional` is one order's quote notional; at most `max_orders` orders are approved per
    `rate_window_ns`; `max_daily_loss` (quote) and `max_drawdown` (fraction of the equity peak) block new
    risk, but with `allow_reducing` an order that strictly reduces the absolute position still passes them.
    """

    max_position: float = math.inf
    position_limits: Mapping[str, float] = field(default_factory=dict)
    max_notional: float = math.inf
    max_orders: int = 50
    rate_window_ns: int = 1_000_000_000
    max_daily_loss: float = math.inf
    max_drawdown: float = 1.0
    min_confidence: float = 0.0
    max_contradiction: float = 1.0
    max_risk_score: float = 1.0
    allow_reducing: bool = True

    def __post_init__(self) -> None:
        o = "RiskLimits"
        _num(o, "max_position", self.max_position)
        _num(o, "max_notional", self.max_notional)
        _num(o, "max_daily_loss", self.max_daily_loss)
        _num(o, "max_drawdown", self.max_drawdown, 0.0, 1.0)
        _num(o, "min_confidence", self.min_confidence, 0.0, 1.0)
        _num(o, "max_contradiction", self.max_contradiction, 0.0, 1.0)
        _num(o, "max_risk_score", self.max_risk_score, 0.0, 1.0)
        for name in ("max_orders", "rate_window_ns"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "max_orders" else 1):
                raise RiskConfigError(f"{o}.{name} must be a non-negative int (window > 0), got {v!r}")
        if not isinstance(self.allow_reducing, bool):
            raise RiskConfigError(f"{o}.allow_reducing must be a bool, got {self.allow_reducing!r}")
        if not isinstance(self.position_limits, Mapping):
            raise RiskConfigError(f"{o}.position_limits must be a mapping, got {type(self.position_limits).__name__}")
        for k, v in self.position_limits.items():
            _num(o, f"position_limits[{k!r}]", v)
        object.__setattr__(self, "position_limits", dict(self.position_limits))

    def position_limit(self, key: str) -> float:
        """The absolute position limit for an instrument key."""
        return self.position_limits.get(key, self.max_position)


@dataclass(frozen=True, slots=True)
class RiskParams:
    """How components are computed (scales and shares; see docs/decisions-and-risk.md)."""

    vol_scale: float = 1.0  # annualised volatility at which the volatility component reaches 1
    entropy_bins: int = 16
    temperature_short: int = 32  # returns in the "recent" window of the temperature ratio
    thermal_entropy_share: float = 0.5  # thermal = (1 − s)·temperature + s·entropy
    slippage_bps: float = 10.0  # depth counted within this distance of the mid
    spread_scale_bps: float = 10.0  # spread at which the spread part of liquidity reaches 1
    liquidity_spread_share: float = 0.3  # liquidity = (1 − s)·size/depth + s·spread part
    correlation_window: int = 256
    concentration_share: float = 0.5  # correlation component = (1 − s)·max(0, side·ρ) + s·concentration
    risk_budget: float = 10_000.0  # quote notional suggested at zero risk and target volatility
    target_vol: float = 0.5  # sizing scales by min(1, target_vol / vol)

    def __post_init__(self) -> None:
        o = "RiskParams"
        _num(o, "vol_scale", self.vol_scale, 0.0, lo_open=True)
        _num(o, "slippage_bps", self.slippage_bps, 0.0)
        _num(o, "spread_scale_bps", self.spread_scale_bps, 0.0, lo_open=True)
        _num(o, "risk_budget", self.risk_budget, 0.0)
        _num(o, "target_vol", self.target_vol, 0.0, lo_open=True)
        for name in ("thermal_entropy_share", "liquidity_spread_share", "concentration_share"):
            _num(o, name, getattr(self, name), 0.0, 1.0)
        for name, lo in (("entropy_bins", 2), ("temperature_short", 2), ("correlation_window", 3)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise RiskConfigError(f"{o}.{name} must be an int >= {lo}, got {v!r}")


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """Weights, limits and parameters together."""

    weights: RiskWeights = field(default_factory=RiskWeights)
    limits: RiskLimits = field(default_factory=RiskLimits)
    params: RiskParams = field(default_factory=RiskParams)

    def __post_init__(self) -> None:
        for f in fields(self):
            want = {"weights": RiskWeights, "limits": RiskLimits, "params": RiskParams}[f.name]
            if not isinstance(getattr(self, f.name), want):
                raise RiskConfigError(f"RiskConfig.{f.name} must be a {want.__name__}")
