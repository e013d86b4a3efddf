"""Seeded synthetic geoid sets shaped like the encoder's output (topics, ~30 semantic and 8 symbolic keys),
for benchmarks and property tests; every number comes from `numpy.random.default_rng(seed)`."""

from __future__ import annotations

import numpy as np

from kimera.cognition.geoid import Geoid, SymbolicValue

SEMANTIC_VOCAB = tuple(f"feat_{i:02d}" for i in range(30))
REGIMES = ("trending", "ranging", "volatile")
VENUES = ("binance", "okx", "bybit", "coinbase")


def synthetic_geoids(
    n: int, dim: int = 384, seed: int = 0, topics: int = 16, p_missing: float = 0.02
) -> list[Geoid]:
    """`n` geoids in `topics` clusters: cluster-correlated embeddings (cos ≈ 0.9 within, ≈ 0.7 across),
    semantic keys from 10 common and 4 cluster-specific of 30, and 8 symbolic keys of mixed types."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(dim)
    centroids = common + 0.5 * rng.standard_normal((topics, dim))
    base = np.arange(10)
    prefs = [
        np.concatenate([base, 10 + rng.choice(len(SEMANTIC_VOCAB) - 10, 4, replace=False)])
        for _ in range(topics)
    ]
    topic = rng.integers(0, topics, n)
    emb = centroids[topic] + 0.35 * rng.standard_normal((n, dim))
    emb = emb.astype(np.float32)
    out: list[Geoid] = []
    for i in range(n):
        t = int(topic[i])
        own = prefs[t][rng.random(len(prefs[t])) < 0.85]
        extra = rng.choice(len(SEMANTIC_VOCAB), int(rng.integers(0, 3)), replace=False)
        keys = {SEMANTIC_VOCAB[j] for j in (*own.tolist(), *extra.tolist())}
        semantic = {
            key: float(v) for key, v in zip(sorted(keys), rng.exponential(1.0, len(keys)), strict=True)
        }
        out.append(
            Geoid(
                f"g{i:06d}",
                semantic,
                _symbolic(rng, t),
                None if rng.random() < p_missing else emb[i],
                {"topic": t},
            )
        )
    return out


def _symbolic(rng: np.random.Generator, topic: int) -> dict[str, SymbolicValue]:
    """Eight symbolic facts, each present with probability 0.8, leaning with the topic's direction."""
    lean = 1 if topic % 2 == 0 else -1
    vals: dict[str, SymbolicValue] = {
        "direction": int(lean if rng.random() < 0.8 else -lean),
        "regime": str(REGIMES[(topic + int(rng.random() < 0.2)) % 3]).upper()
        if rng.random() < 0.3
        else REGIMES[topic % 3],
        "bullish": bool(lean > 0) if rng.random() < 0.85 else bool(lean < 0),
        "confidence": float(np.round(lean * rng.uniform(-0.2, 1.0), 3)),
        "book_bias": ("bid" if lean > 0 else "ask") if rng.random() < 0.8 else "even",
        "venue": VENUES[0] if rng.random() < 0.9 else VENUES[int(rng.integers(1, len(VENUES)))],
        "hedged": bool(rng.random() < 0.1),
    }
    return {k: v for k, v in vals.items() if rng.random() < 0.8}
