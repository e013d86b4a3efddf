"""Geoid validation, entropy, weights, the E/L/S rules on hand-made cases, pulse and decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kimera.cognition import Decision, Geoid, GeoidError, TensionWeights, decide, pulse
from kimera.cognition.pulse import pulses
from kimera.cognition.reference import (
    embedding_distance,
    key_distance,
    opposition,
    symbolic_opposition,
    tension,
)


def test_bad_geoids_are_clear_errors() -> None:
    with pytest.raises(GeoidError, match="NaN"):
        Geoid("a", embedding=[1.0, float("nan")])
    with pytest.raises(GeoidError, match="NaN"):
        Geoid("a", embedding=[1.0, float("inf")])
    with pytest.raises(GeoidError, match=r"overflows float32|NaN"):
        Geoid("a", embedding=[1e39])
    with pytest.raises(GeoidError, match="negative"):
        Geoid("a", {"x": -0.5})
    with pytest.raises(GeoidError, match="not a number"):
        Geoid("a", {"x": True})
    with pytest.raises(GeoidError, match="NaN"):
        Geoid("a", symbolic_state={"x": float("nan")})
    with pytest.raises(GeoidError, match="bool, number or string"):
        Geoid("a", symbolic_state={"x": None})
    with pytest.raises(GeoidError, match="1-D"):
        Geoid("a", embedding=[[1.0, 2.0]])
    with pytest.raises(GeoidError, match="non-empty"):
        Geoid("")


def test_geoid_normalises_values() -> None:
    g = Geoid("a", {"x": 1}, {"b": np.bool_(True), "n": np.int64(-3), "f": np.float32(0.5)}, [1, 2, 3])
    assert g.embedding is not None and g.embedding.dtype == np.float32 and not g.embedding.flags.writeable
    assert g.symbolic_state == {"b": True, "n": -3, "f": 0.5}
    assert type(g.symbolic_state["b"]) is bool and type(g.symbolic_state["n"]) is int
    assert g.semantic_state == {"x": 1.0} and g.dim == 3


def test_entropy_in_bits() -> None:
    assert Geoid("a").entropy == 0.0
    assert Geoid("a", {"x": 0.0, "y": 0.0}).entropy == 0.0
    assert Geoid("a", {"x": 5.0}).entropy == 0.0
    assert Geoid("a", {"x": 1.0, "y": 1.0}).entropy == pytest.approx(1.0)
    assert Geoid("a", {k: 2.0 for k in "abcd"}).entropy == pytest.approx(2.0)
    p = np.array([1.0, 2.0, 5.0]) / 8.0
    assert Geoid("a", {"x": 1, "y": 2, "z": 5}).entropy == pytest.approx(-(p * np.log2(p)).sum())


def test_weights_validation() -> None:
    assert TensionWeights.parse("0.5, 0.25,0.25") == TensionWeights(0.5, 0.25, 0.25)
    for bad in ("1,1,1", "0.5,0.5", "a,b,c", "-0.5,1,0.5", "nan,0.5,0.5"):
        with pytest.raises(ValueError):
            TensionWeights.parse(bad)


def test_embedding_distance_rules() -> None:
    assert embedding_distance(None, [1.0]) == 0.0
    assert embedding_distance([0.0, 0.0], [1.0, 0.0]) == 1.0
    assert embedding_distance([0.0, 0.0], [0.0, 0.0]) == 1.0
    assert embedding_distance([1.0, 0.0], [2.0, 0.0]) == 0.0
    assert embedding_distance([1.0, 0.0], [-1.0, 0.0]) == 1.0  # 1 − (−1) = 2, clipped
    assert embedding_distance([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1 - 1 / math.sqrt(2))
    with pytest.raises(GeoidError, match="dimensions differ"):
        embedding_distance([1.0], [1.0, 2.0])


def test_key_distance_rules() -> None:
    assert key_distance(set(), set()) == 0.0
    assert key_distance({"a"}, set()) == 1.0
    assert key_distance({"a", "b"}, {"b", "c"}) == pytest.approx(2 / 3)


def test_symbolic_opposition_rules() -> None:
    assert opposition(True, False) == 1.0 and opposition(True, True) == 0.0
    assert opposition(2, -0.5) == 1.0 and opposition(0, -1) == 0.0 and opposition(3, 1) == 0.0
    assert opposition(True, -1) == 0.0  # bools are not numbers here
    assert opposition("Up", "uP") == 0.0 and opposition("up", "down") == 0.5
    assert opposition("ß", "SS") == 0.0  # case-insensitive by Unicode casefolding
    assert opposition("1", 1) == 0.0
    # every common key counts, even those of incomparable types
    assert symbolic_opposition(
        {"a": True, "b": "x", "c": 1}, {"a": False, "b": 2, "c": -1, "d": 0}
    ) == pytest.approx(2 / 3)
    assert symbolic_opposition({"a": 1}, {"b": 1}) == 0.0


def test_tension_is_the_weighted_sum() -> None:
    a = Geoid("a", {"x": 1, "y": 1}, {"dir": 1, "regime": "trend"}, [1.0, 0.0])
    b = Geoid("b", {"x": 1}, {"dir": -1, "regime": "TREND"}, [0.0, 1.0])
    t = tension(a, b)
    assert (t.E, t.L, t.S) == (1.0, 0.5, 0.5)
    assert t.tension == pytest.approx(2 / 3)
    assert tension(a, b, TensionWeights(0.0, 0.0, 1.0)).tension == 0.5


def test_pulse_and_decision_table() -> None:
    assert pulse(0.5, 0) == 0.5
    assert pulse(0.5, 20) == 0.75 and pulse(0.5, 100) == 0.75
    assert pulse(0.8, 20) == 1.0
    assert pulse(0.4, 10) == pytest.approx(0.5)
    assert pulses([0.5, 0.8], [20, 20]).tolist() == [0.75, 1.0]
    assert decide(0.29, 1.0) is Decision.BUFFER
    assert decide(0.5, 0.61) is Decision.SURGE and decide(0.5, 0.6) is Decision.BUFFER
    assert decide(0.7, 0.71) is Decision.SURGE and decide(0.7, 0.7) is Decision.BUFFER
    assert decide(0.9, 0.29) is Decision.COLLAPSE and decide(0.9, 0.3) is Decision.BUFFER
    for bad in ((1.2, 0.5), (0.5, -0.1), (float("nan"), 0.5)):
        with pytest.raises(ValueError):
            decide(*bad)
    with pytest.raises(ValueError):
        pulse(0.5, -1)
