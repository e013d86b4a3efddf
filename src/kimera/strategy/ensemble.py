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
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import msgspec
import numpy as np

from kimera.cognition import TensionWeights
from kimera.cognition.pulse import Decision, decide, decide_unit, pulse
from kimera.engine.books import BookUpdate
from kimera.features import MarketFeatures
from kimera.model import Instrument
from kimera.strategy.base import NO_INTENTS, SignalStrategy
from kimera.strategy.intent import OrderIntent, Signal
from kimera.strategy.signals import ScoredSignal
from kimera.strategy.tension import GeoidDraft, PairTension, all_pair_tensions, member_summary, pair_distances

SEMANTIC_KEYS = ("conviction", "doubt", "stretch")
_F3 = struct.Struct("3f")  # float32 rounding of the 3-d stance, as `Geoid` stores it
# Read-only shared states: a draft's symbolic state and metadata are the same few values every step.
_DIRECTION = {d: MappingProxyType({"direction": d}) for d in (-1, 0, 1)}
_META: dict[tuple[str, str], Mapping[str, Any]] = {}
_new = tuple.__new__  # NamedTuple from a tuple in C
_FN: dict[int, struct.Struct] = {}  # float32 rounding of n members' embeddings at once (3n floats)
# cognition `decide`'s surge region, as the ensemble's fast path relies on it (tested against `decide`)
_SURGE_MIN_PULSE = 0.3
_NEVER_SURGE_AT_OR_BELOW = 0.6
_ALWAYS_SURGE_ABOVE = 0.7


def _meta(name: str, venue: str) -> Mapping[str, Any]:
    """The shared read-only metadata of member `name`'s geoids on `venue`."""
    meta = _META.get((name, venue))
    if meta is None:
        meta = _META[(name, venue)] = MappingProxyType({"source": name, "venue": venue})
    return meta


def _decision(p: float, s: float) -> Decision:
    """cognition's `decide(p, s)` without re-validating values already in [0, 1] (anything else goes to
    `decide`, which raises); tested equal to `decide` on a grid and its edges."""
    if not (0.0 <= p <= 1.0 and 0.0 <= s <= 1.0):
        return decide(p, s)
    return decide_unit(p, s)


def _outcome(net: float, p_max: float, stability: float, verdict: Decision, calm: float) -> tuple[int, bool, float, str]:
    """(direction, trade, size fraction, reason) from the members' net stance, the pulse and the verdict."""
    direction = (1 if net > 0 else -1) if net != 0.0 else 0
    if direction == 0:
        return 0, False, 0.0, "no consensus direction"
    if p_max < calm:
        return direction, True, stability, "members agree"
    if verdict is Decision.SURGE:
        return direction, True, stability * (1.0 - p_max), "tension, but stable: sized down"
    if verdict is Decision.COLLAPSE:
        return direction, False, 0.0, "members contradict: collapse"
    return direction, False, 0.0, "members in tension: buffer"


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
    return _new(GeoidDraft, (s.name, sem, _DIRECTION[d], emb, _meta(s.name, venue)))


def member_pair_tensions(
    signals: Sequence[Signal], drafts: Sequence[GeoidDraft], weights: TensionWeights
) -> list[PairTension]:
    """`all_pair_tensions(drafts, weights)` for drafts made by `member_draft(signals[k], venue)`, exactly (the
    same operations in the same order), without the general path's key-set work: every member draft has the
    semantic keys `SEMANTIC_KEYS` (L = 0) and the one symbolic key `direction` (S = 1 for opposite non-zero
    directions, else 0). Tested equal to the general path on the real replay and on random signals."""
    n = len(drafts)
    if n < 2:
        return []
    es = pair_distances(np.array([d.embedding for d in drafts], dtype=np.float64))  # the shared E kernel
    ds = [s.direction for s in signals]
    we, wl, ws = weights.e, weights.l, weights.s
    out: list[PairTension] = []
    p = 0
    for i in range(n):
        di = ds[i]
        for j in range(i + 1, n):
            dj = ds[j]
            e = float(es[p])
            p += 1
            s = 1.0 if (di > 0 > dj) or (di < 0 < dj) else 0.0
            out.append(_new(PairTension, (i, j, we * e + wl * 0.0 + ws * s, e, 0.0, s)))
    return out


class _Given(NamedTuple):
    """Geoids and pair tensions built by the caller (the general path)."""

    pairs: tuple[PairTension, ...]
    drafts: tuple[GeoidDraft, ...]


class _MemberStances(NamedTuple):
    """What the one-pass path keeps to rebuild its geoids and pairs on demand: every member's stance packed as
    float32 (3 per member, as `Geoid` stores embeddings), their metadata and the tension weights."""

    packed: bytes
    metas: tuple[Mapping[str, Any], ...]
    weights: TensionWeights


def _stance_drafts(signals: tuple[Signal, ...], b: _MemberStances) -> tuple[GeoidDraft, ...]:
    """`member_draft(s, venue)` of every signal, from the stances already rounded (equal, tested)."""
    metas = b.metas
    flat = struct.unpack(f"{len(b.packed) // 4}f", b.packed)
    out = []
    for k, s in enumerate(signals):
        c = s.confidence
        sem = {"conviction": c, "doubt": 1.0 - c, "stretch": min(1.0, abs(s.score))}
        out.append(_new(GeoidDraft, (s.name, sem, _DIRECTION[s.direction], flat[3 * k : 3 * k + 3], metas[k])))
    return tuple(out)


class EnsembleDecision(msgspec.Struct, frozen=True, gc=False):
    """The ensemble's verdict at one step, with everything it was derived from.

    The member geoids (`drafts`) and their pair tensions (`pairs`) of the one-pass path are rebuilt on access
    from the stances it kept (the hot path only needs the pulse and the tension rate); equality compares the
    decision, the signals, the geoids and the pairs, whichever path made them."""

    trade: bool
    direction: int
    size_fraction: float
    confidence: float
    pulse: float
    stability: float
    decision: Decision
    tension_rate: float
    signals: tuple[Signal, ...]
    reason: str
    basis: _Given | _MemberStances

    @property
    def drafts(self) -> tuple[GeoidDraft, ...]:
        """One geoid draft per member signal, in member order."""
        b = self.basis
        return b.drafts if isinstance(b, _Given) else _stance_drafts(self.signals, b)

    @property
    def pairs(self) -> tuple[PairTension, ...]:
        """Every member pair i < j with its tension and components."""
        b = self.basis
        if isinstance(b, _Given):
            return b.pairs
        return tuple(member_pair_tensions(self.signals, self.drafts, b.weights))

    def _public(self) -> tuple[object, ...]:
        return (self.trade, self.direction, self.size_fraction, self.confidence, self.pulse, self.stability,
                self.decision, self.tension_rate, self.signals, self.reason, self.pairs, self.drafts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EnsembleDecision):
            return NotImplemented
        return self._public() == other._public()

    __hash__ = None  # type: ignore[assignment]  # drafts hold dicts: never hashable

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
        kf: dict[str, float] = {}
        for mem in members:  # the ensemble's decision reads every member's features (finest quantum wins)
            for name, q in mem.key_features:
                kf[name] = min(q, kf.get(name, q))
        self.key_features = tuple(kf.items())
        self.threshold = threshold
        self.weights = weights or TensionWeights()
        self.calm_pulse = calm_pulse
        self._last: EnsembleDecision | None = None
        self._pending: MarketFeatures | None = None  # features whose decision `last` computes on demand
        # members whose signal is `_scored(id, score(f))` let `on_book` decide from the bare scores
        # (and whose `signal` is not overridden) let `on_book` and `decide` work from the bare scores
        scored = [m for m in members if isinstance(m, ScoredSignal) and type(m).signal is ScoredSignal.signal]
        self._scores = tuple(m.score for m in scored) if len(scored) == len(members) else None
        venue = instrument.venue
        self._names = tuple(ids)
        self._metas = tuple(_meta(name, venue) for name in ids)
        self._f32n = struct.Struct(f"{3 * len(members)}f")  # float32 rounding of every member's stance at once

    @property
    def last(self) -> EnsembleDecision | None:
        """The decision at the latest step (`on_book`'s fast path leaves it to be computed here, on demand)."""
        f = self._pending
        if f is not None:
            self.decide(f)
        return self._last

    def signal(self, f: MarketFeatures) -> Signal:
        """The ensemble's own signal (direction and confidence of its decision; 0 when it abstains)."""
        d = self.decide(f)
        return Signal(self.strategy_id, d.direction if d.trade else 0, float(d.direction) * d.confidence, d.confidence)

    def decide(self, f: MarketFeatures) -> EnsembleDecision:
        """Members' signals → geoids → tensions → pulse → buffer/surge/collapse → trade or abstain."""
        scores = self._scores
        if scores is not None:
            return self._decide_scored(f, scores)
        venue = self.instrument.venue
        signals = tuple([m.signal(f) for m in self.members])
        drafts = tuple([member_draft(s, venue) for s in signals])
        return self.decide_drafts(signals, drafts, member_pair_tensions(signals, drafts, self.weights))

    def _decide_scored(self, f: MarketFeatures, scores: tuple[Callable[[MarketFeatures], float], ...]) -> EnsembleDecision:
        """`decide` for `ScoredSignal` members in one pass: the same `Signal`s, member geoids, pair tensions and
        decision as signal → `member_draft` → `member_pair_tensions` → `decide_drafts` (the same operations in
        the same order; tested equal field by field on the replay and on random scores), with far fewer calls."""
        names = self._names
        signals: list[Signal] = []
        stance: list[float] = []
        net = 0.0
        active = 0.0
        k = 0
        for score in scores:
            sc = score(f)
            a = abs(sc)
            d = (1 if sc > 0 else -1) if a >= 1.0 else 0
            c = min(1.0, a * 0.5)
            signals.append(Signal(names[k], d, sc, c))  # validated: a non-finite score raises, as `_scored` does
            stance += (d * c, 1.0 - c * abs(d), math.tanh(sc))
            net += d * c
            active += c if d else 0.0
            k += 1
        packed = self._f32n.pack(*stance)  # float32 rounding of every member's stance at once
        w = self.weights
        m = 0.5 * (len(SEMANTIC_KEYS) + len(SEMANTIC_KEYS))  # every member draft has the same 3 semantic keys
        amp = 1.0 + 0.5 * (m / 20.0 if m < 20.0 else 1.0)
        # every pair's T as `member_pair_tensions` computes it (same kernel for E, tested), without its records
        n_tense, best_t = member_summary(
            np.frombuffer(packed, np.float32).reshape(k, 3), w.e, w.l, w.s, self.threshold, amp
        )
        n_pairs = k * (k - 1) // 2
        t = min(1.0, best_t)
        p_max = min(1.0, t * (1.0 + 0.5 * min(m / 20.0, 1.0))) if 0.0 <= t <= 1.0 else pulse(t, m)  # `pulse`, inlined
        rate = n_tense / n_pairs
        stability = min(1.0, abs(net) / active) if active > 0.0 else 0.0
        confidence = min(1.0, abs(net) / k)
        verdict = _decision(p_max, stability)
        direction, trade, frac, why = _outcome(net, p_max, stability, verdict, self.calm_pulse)
        out = EnsembleDecision(
            trade, direction, frac, confidence, p_max, stability, verdict, rate, tuple(signals), why,
            _new(_MemberStances, (packed, self._metas, w)),
        )
        self._last = out
        self._pending = None
        return out

    def decide_drafts(
        self, signals: tuple[Signal, ...], drafts: tuple[GeoidDraft, ...], pairs: list[PairTension] | None = None
    ) -> EnsembleDecision:
        """The decision from given member signals and their geoids (the step after encoding); `pairs`, when
        given, are those drafts' `all_pair_tensions` (computed here otherwise)."""
        if pairs is None:
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
        direction, trade, frac, why = _outcome(net, p_max, stability, verdict, self.calm_pulse)
        d = EnsembleDecision(
            trade, direction, frac, confidence, p_max, stability, verdict, rate, signals, why,
            _new(_Given, (tuple(pairs), drafts)),
        )
        self._last = d
        self._pending = None
        return d

    def traded_direction(self, scores: Sequence[float]) -> int | None:
        """`decide`'s traded direction (its `direction` when it trades, else 0) from the members' bare scores,
        with the same arithmetic in the same order but no `Signal`, geoid or pair objects: only the pulse
        of the most tense pair and the stability are needed. None when a score is not finite (the full path
        then raises as `Signal` does). Valid for `ScoredSignal` members with the `member_draft` geoids."""
        net = 0.0
        active = 0.0
        ds: list[int] = []
        stance: list[float] = []
        for sc in scores:
            if not math.isfinite(sc):
                return None
            a = abs(sc)
            d = (1 if sc > 0 else -1) if a >= 1.0 else 0
            c = min(1.0, a * 0.5)
            net += d * c
            active += c if d else 0.0
            ds.append(d)
            stance += (d * c, 1.0 - c * abs(d), math.tanh(sc))
        if net == 0.0:
            return 0
        direction = 1 if net > 0 else -1
        stability = min(1.0, abs(net) / active)  # active > 0: some member has a direction
        w = self.weights
        m = float(len(SEMANTIC_KEYS))  # 0.5·(m_i + m_j): every member draft has the same semantic keys
        # Shortcuts from `decide`'s surge region (cognition: never SURGE at stability <= 0.6; always SURGE at
        # pulse >= 0.3 when stability > 0.7; `test_surge_region_assumed_by_the_fast_path` checks both):
        if stability > _ALWAYS_SURGE_ABOVE and self.calm_pulse >= _SURGE_MIN_PULSE:
            return direction  # pulse < calm: trade; pulse >= calm >= 0.3: SURGE
        # opposite members give S = 1, so the most tense pair's T >= w.s (E >= 0 only adds) and the pulse is at
        # least `floor`; when that already reaches calm, the decision at low stability is buffer/collapse
        if stability <= _NEVER_SURGE_AT_OR_BELOW and 1 in ds and -1 in ds:
            floor = min(1.0, min(1.0, w.s) * (1.0 + 0.5 * min(m / 20.0, 1.0)))
            if floor >= self.calm_pulse:
                return 0
        st = _FN.get(len(stance))
        if st is None:
            st = _FN[len(stance)] = struct.Struct(f"{len(stance)}f")
        emb = np.frombuffer(st.pack(*stance), np.float32).reshape(-1, 3)  # float32, as the geoids store them
        amp = 1.0 + 0.5 * (m / 20.0 if m < 20.0 else 1.0)
        _, best_t = member_summary(emb, w.e, w.l, w.s, self.threshold, amp)
        t = min(1.0, best_t)  # cognition's `pulse(t, m)`, inlined (t is in [0, 1] here)
        p_max = min(1.0, t * (1.0 + 0.5 * min(m / 20.0, 1.0)))
        if p_max < self.calm_pulse:
            return direction
        return direction if decide(p_max, stability) is Decision.SURGE else 0

    def on_book(self, update: BookUpdate, features: MarketFeatures) -> Sequence[OrderIntent]:
        if features.symbol != self._inst_key:
            return NO_INTENTS
        fast = self._scores
        if fast is not None:
            traded = self.traded_direction([score(features) for score in fast])
            if traded is not None and (traded == self._last_direction or traded == 0):
                self._last_direction = traded  # no intent: what `intents_for` would do with this direction
                self._pending = features
                return NO_INTENTS
        d = self.decide(features)
        direction = d.direction if d.trade else 0
        return self.intents_for(direction, d.confidence, d.signals, d.tension_rate, features.recv_ns, d.size_fraction)
