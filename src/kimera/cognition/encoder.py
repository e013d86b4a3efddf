"""Geoids from market state: one geoid per (signal, venue, moment), so views of the same moment can clash.

Semantic state: the market's features as non-negative weights, signed features split into two keys
(`ret_up_5s` / `ret_down_5s`), so venues that disagree on a sign have different key sets (L > 0).
Symbolic state: the signal's `direction` (int −1/0/1) and the market `regime` (str).
Embedding: the squashed market features plus one "view" coordinate, direction × the market block's norm,
so two signals that read the same market in opposite directions are orthogonal (E = 1).
The source (signal, venue) and the moment are in the id and the metadata: a different source is not
itself a contradiction. Every feature is documented in docs/cognition.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from kimera.cognition.features import DEPTHS, HORIZONS_S, MarketFeatures
from kimera.cognition.geoid import Geoid
from kimera.cognition.signals import Signal

TREND_EFFICIENCY = 0.4  # efficiency ratio at or above which the regime is "trending" (a random walk of
# 300 steps has about 0.05; see docs/cognition.md)
RET_SCALE_BPS = 2.0  # tanh scale of returns in the embedding
VOL_SCALE_BPS = 5.0  # tanh scale of volatility
SPREAD_SCALE_BPS = 1.0  # tanh scale of the spread
Z_SCALE = 2.0  # tanh scale of the z-score
MARKET_DIM = len(DEPTHS) + 1 + len(HORIZONS_S) + 4
EMBED_DIM = MARKET_DIM + 1


def regime(f: MarketFeatures) -> str:
    """'trending' when the mid moved in a fairly straight line over the window, else 'ranging'."""
    return "trending" if f.efficiency >= TREND_EFFICIENCY else "ranging"


def _signed(out: dict[str, float], up: str, down: str, x: float) -> None:
    """Put |x| under `up` when x > 0, under `down` when x < 0, nothing when x == 0."""
    if x > 0:
        out[up] = x
    elif x < 0:
        out[down] = -x


def semantic_state(f: MarketFeatures) -> dict[str, float]:
    """The market's features as non-negative weights (signed ones split by sign into two keys)."""
    out: dict[str, float] = {}
    for d, x in zip(DEPTHS, f.imbalance, strict=True):
        _signed(out, f"book_bid_heavy_{d}", f"book_ask_heavy_{d}", x)
    out["spread_bps"] = f.spread_bps
    for h, r in zip(HORIZONS_S, f.returns_bps, strict=True):
        _signed(out, f"ret_up_{h:g}s", f"ret_down_{h:g}s", r)
    out["volatility_bps"] = f.volatility_bps
    _signed(out, "flow_buy", "flow_sell", f.flow_imbalance)
    out["trend_efficiency"] = f.efficiency
    _signed(out, "stretched_up", "stretched_down", f.zscore)
    return out


def market_vector(f: MarketFeatures) -> npt.NDArray[np.float64]:
    """The market block of the embedding: every feature squashed into [−1, 1]."""
    t = math.tanh
    return np.array(
        [
            *f.imbalance,
            t(f.spread_bps / SPREAD_SCALE_BPS),
            *(t(r / RET_SCALE_BPS) for r in f.returns_bps),
            t(f.volatility_bps / VOL_SCALE_BPS),
            f.flow_imbalance,
            f.efficiency,
            t(f.zscore / Z_SCALE),
        ],
        dtype=np.float64,
    )


class GeoidEncoder:
    """Encodes (market features, signal) into a geoid of dimension `EMBED_DIM`."""

    dim = EMBED_DIM

    def encode(self, f: MarketFeatures, signal: Signal) -> Geoid:
        """One geoid: this signal's reading of this venue's market at this moment."""
        m = market_vector(f)
        direction = int(signal.direction(f))
        view = direction * float(np.linalg.norm(m))
        return Geoid(
            geoid_id=f"{f.venue}:{f.symbol}:{signal.name}:{f.ts_ns}",
            semantic_state=semantic_state(f),
            symbolic_state={"direction": direction, "regime": regime(f)},
            embedding=np.append(m, view).astype(np.float32),
            metadata={
                "venue": f.venue,
                "symbol": f.symbol,
                "signal": signal.name,
                "ts_ns": f.ts_ns,
                "mid": f.mid,
                "conviction": float(signal.conviction(f)),
            },
        )

    def encode_moment(self, features: Iterable[MarketFeatures], signals: Iterable[Signal]) -> list[Geoid]:
        """Every (venue features × signal) geoid of one moment."""
        sigs = list(signals)
        return [self.encode(f, s) for f in features for s in sigs]
