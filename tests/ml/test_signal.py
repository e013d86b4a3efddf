"""MLSignal: live, incremental predictions equal the offline pipeline's on the same rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kimera.data.binance import load_binance_capture
from kimera.engine import BookUpdate, ReplayEngine
from kimera.ml.compare import Comparison
from kimera.ml.dataset import Dataset
from kimera.ml.features import MS, N_FEATURES
from kimera.ml.onnx_export import TorchPredictor
from kimera.ml.signal import MLSignal
from kimera.ml.training import predict_logits
from kimera.model import Quote, Trade
from kimera.venues.registry import resolve_instrument


def test_live_signal_reproduces_offline_predictions(spot_files: list[Path], dataset: Dataset, comparison: Comparison) -> None:
    model = comparison.models["mlp"]
    sig = MLSignal(TorchPredictor(model), dataset.scaler.mean, dataset.scaler.std, 500)
    # offline: every dataset row of the spot series (series 0), its features and predicted class
    offline: dict[int, tuple[np.ndarray, int]] = {}
    for part in dataset.parts().values():
        pred = predict_logits(model, part.X).argmax(1)
        for t, x, p, s in zip(part.t_ns, part.X, pred, part.series, strict=True):
            if s == 0:
                offline[int(t)] = (x, int(p))
    engine = ReplayEngine(resolve_instrument)
    books: list = []
    updates: list[tuple[int, float]] = []

    def on_update(u: BookUpdate) -> None:
        updates.append(sig.update(u.book, (), u.recv_ns))
        books[:] = [u.book]

    engine.bus.subscribe(BookUpdate, on_update)
    engine.bus.subscribe(Trade, sig.on_trade)
    grid = 100 * MS
    next_g = None
    stop = None
    matched = 0
    for ev in load_binance_capture(spot_files):
        if isinstance(ev, Quote):
            continue
        if next_g is None:
            next_g = -(-ev.recv_ns // grid) * grid
            stop = ev.recv_ns + 150_000 * MS  # the first 2.5 minutes keep the test quick
        if ev.recv_ns > stop:
            break
        while next_g < ev.recv_ns:
            if next_g in offline:
                x, p = offline[next_g]
                np.testing.assert_array_equal(sig.features(next_g, books[0]), x.reshape(1, N_FEATURES))
                direction, confidence = sig.predict(next_g, books[0])
                assert direction == p - 1
                assert sig.last_proba is not None and confidence == pytest.approx(sig.last_proba.max())
                matched += 1
            next_g += grid
        engine.bus.publish(ev)
    assert matched == sum(1 for t in offline if t < next_g)  # every offline spot row so far was reproduced live
    assert matched > 1000
    dirs = np.array([d for d, _ in updates])
    confs = np.array([c for _, c in updates])
    assert set(np.unique(dirs)) <= {-1, 0, 1} and len(set(dirs.tolist())) == 3  # it does call ups and downs
    assert np.all((confs >= 0) & (confs <= 1))
    assert updates[0] == (0, 0.0)  # before the 30 s warm-up
    assert confs[-1] >= 1 / 3  # a 3-class argmax probability


def test_signal_rejects_bad_scalers() -> None:
    ok = np.zeros(N_FEATURES)
    with pytest.raises(ValueError, match="entries"):
        MLSignal(lambda x: x, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="positive"):
        MLSignal(lambda x: x, ok, np.zeros(N_FEATURES))
    with pytest.raises(ValueError, match="finite"):
        MLSignal(lambda x: x, np.full(N_FEATURES, np.nan), np.ones(N_FEATURES))
