"""An ensemble that listens to its members only as far as they agree: one geoid per member signal, the
contradiction engine over them, then the cognition pulse and buffer / surge / collapse decision.

Action mapping (the cognition spec names the decision, the ensemble says what it means for trading):
- consensus direction D = sign(Σ cᵢ·dᵢ); D = 0 → abstain;
- pulse < `calm_pulse` (no real tension; `decide` says buffer) → trade, size × stability;
- SURGE (tension, but the active members mostly agree) → trade, sized down: size × stability × (1 − pulse);
- BUFFER with pulse >= `calm_pulse` (unresolved tension) → abstain and wait;
- COLLAPSE (strong tension, no consensus) → abstain.
stability = |Σ cᵢ·dᵢ| / Σ_{dᵢ≠0} cᵢ (agreement among members with an opinion), confidence = |Σ cᵢ·dᵢ| / n.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import msgspec

from kimera.cognition import TensionWeights
from kimera.cognition.pulse import Decision, decide, pulse
from kimera.engine.books import BookUpdate
from kimera.features import MarketFeatures
from kimera.model import Instrument
from kimera.strategy.base import NO_INTENTS, SignalStrategy
from kimera.strategy.intent import OrderIntent, Signal
from kimera.strategy.tension import GeoidDraft, PairTension, all_pair_tensions

SEMANTIC_KEYS = ("conviction", "doubt", "stretch")
_F3 = struct.Struct("3f")  # float32 rounding of the 3-d stance, as `Geoid` stores it
# Read-only shared states: a draft's symbolic state and metadata are the same few values every step.
_DIRECTION = {d: MappingProxyType({"direction": d}) for d in (-1, 0, 1)}
_META: dict[tuple[str, str], Mapping[str, Any]] = {}
_new = tuple.__new__  # NamedTuple from a tuple in C


def member_draft(s: Signal, venue: str) -> GeoidDraft:
    """The geoid of one member's signal: its stance as an embedding, its direction as a symbolic fact.

    embedding = (d·c, 1 − c·|d|, tanh(score)): opposite convictions point opposite ways (E → 1);
    semantic = conviction c, doubt 1 − c, stretch min(1, |score|) (same keys for all members, so L = 0);
    symbolic = {direction: d} (opposite non-zero directions give S = 1); the id is the member's name (unique
    within a step); source and venue in metadata (read-only mappings shared between steps).
    """
    c, d = s.confidence, s.direction
    emb = _F3.unpack(_F3.pack(d * c, 1.0 - c * abs(d), math.tanh(s.score)))
    sem = {"conviction": c, "doubt": 1.0 - c, "stretch": min(1.0, abs(s.score))}
    meta = _META.get((s.name, venue))
    if meta is None:
        meta = _META[(s.name, venue)] = MappingProxyType({"source": s.name, "venue": venue})
    return _new(GeoidDraft, (s.name, sem, _DIRECTION[d], emb, meta))


class EnsembleDecision(msgspec.Struct, frozen=True, gc=False):
    """The ensemble's verdict at one step, with everything it was derived from."""

    trade: bool
    direction: int
    size_fraction: float
    confidence: float
    pulse: float
    stability: float
    decision: Decision
    tension_rate: float
    signals: tuple[Signal, ...]
    pairs: tuple[PairTension, ...]
    drafts: tuple[GeoidDraft, ...]
    reason: str

    def in_tension(self, threshold: float) -> list[PairTension]:
        """The member pairs whose tension is at or above `threshold`."""
        return [p for p in self.pairs if p.tension >= threshold]


class Ensemble(SignalStrategy):
    """Combines member `SignalStrategy`s (their `signal()` only; their own intents are not used)."""

    def __init__(
        self, instrument: Instrument, members: Sequence[SignalStrategy], base_quantity: int,
        threshold: float = 0.4, weights: TensionWeights | None = None, calm_pulse: float = 0.3,
        strategy_id: str = "ensemble", min_confidence: float = 0.0,
    ) -> None:
        super().__init__(strategy_id, instrument, base_quantity, min_confidence)
        if len(members) < 2:
            raise ValueError(f"{strategy_id}: an ensemble needs at least 2 members, got {len(members)}")
        ids = [m.strategy_id for m in members]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{strategy_id}: member ids must be distinct, got {ids}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"{strategy_id}: threshold must be in [0, 1], got {threshold!r}")
        if not 0.0 < calm_pulse <= 1.0:
            raise ValueError(f"{strategy_id}: calm_pulse must be in (0, 1], got {calm_pulse!r}")
        self.members = tuple(members)
        self.threshold = threshold
        self.weights = weights or TensionWeights()
        self.calm_pulse = calm_pulse
        self.last: EnsembleDecision | None = None

    def signal(self, f: MarketFeatures) -> Signal:
        """The ensemble's own signal (direction and confidence of its decision; 0 when it abstains)."""
        d = self.decide(f)
        return Signal(self.strategy_id, d.direction if d.trade else 0, float(d.direction) * d.confidence, d.confidence)

    def decide(self, f: MarketFeatures) -> EnsembleDecision:
        """Members' signals → geoids → tensions → pulse → buffer/surge/collapse → trade or abstain."""
        venue = self.instrument.venue
        signals = tuple([m.signal(f) for m in self.members])
        drafts = tuple([member_draft(s, venue) for s in signals])
        return self.decide_drafts(signals, drafts)

    def decide_drafts(self, signals: tuple[Signal, ...], drafts: tuple[GeoidDraft, ...]) -> EnsembleDecision:
        """The decision from given member signals and their geoids (the step after encoding)."""
        pairs = all_pair_tensions(drafts, self.weights)
        thr = self.threshold
        n_tense = 0
        # pulse = min(1, T·(1 + 0.5·min(m/20, 1))) grows with T and m: find the pair with the largest raw
        # product here, then let cognition's `pulse` compute (and validate) that one value
        best_t, best_m, best_raw = 0.0, 0.0, -1.0
        for pr in pairs:
            t = pr.tension
            if t >= thr:
                n_tense += 1
            m = 0.5 * (len(drafts[pr.i].semantic_state) + len(drafts[pr.j].semantic_state))
            raw = t * (1.0 + 0.5 * (m / 20.0 if m < 20.0 else 1.0))
            if raw > best_raw:
                best_t, best_m, best_raw = t, m, raw
        p_max = pulse(min(1.0, best_t), best_m) if pairs else 0.0
        rate = n_tense / len(pairs) if pairs else 0.0
        net = 0.0
        active = 0.0
        for s in signals:
            net += s.direction * s.confidence
            active += s.confidence if s.direction else 0.0
        stability = min(1.0, abs(net) / active) if active > 0.0 else 0.0
        confidence = min(1.0, abs(net) / len(signals))
        verdict = decide(p_max, stability)
        direction = (1 if net > 0 else -1) if net != 0.0 else 0
        if direction == 0:
            trade, frac, why = False, 0.0, "no consensus direction"
        elif p_max < self.calm_pulse:
            trade, frac, why = True, stability, "members agree"
        elif verdict is Decision.SURGE:
            trade, frac, why = True, stability * (1.0 - p_max), "tension, but stable: sized down"
        elif verdict is Decision.COLLAPSE:
            trade, frac, why = False, 0.0, "members contradict: collapse"
        else:
            trade, frac, why = False, 0.0, "members in tension: buffer"
        d = EnsembleDecision(
            trade, direction, frac, confidence, p_max, stability, verdict, rate, signals, tuple(pairs), drafts, why
        )
        self.last = d
        return d

    def on_book(self, update: BookUpdate, features: MarketFeatures) -> Sequence[OrderIntent]:
        if features.symbol != self.instrument.key:
            return NO_INTENTS
        d = self.decide(features)
        direction = d.direction if d.trade else 0
        return self.intents_for(direction, d.confidence, d.signals, d.tension_rate, features.recv_ns, d.size_fraction)
