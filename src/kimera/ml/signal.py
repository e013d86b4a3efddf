"""`MLSignal`: the trained model as a live strategy signal, fed from the book and the trade tape.

It computes the same causal features as training (`FeatureState`), standardises them with the
training statistics, runs the model and returns `(direction, confidence)`: direction is -1 (down),
0 (flat) or +1 (up) over the model's horizon, confidence the model's probability of that class.
Before the 30 s warm-up it returns `(0, 0.0)`. It needs only numpy plus whichever runtime the model
uses (onnxruntime for the optimised ONNX file, torch for `.pt` weights), imported on load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from kimera.book import OrderBook
from kimera.ml.features import N_FEATURES, FeatureState
from kimera.model import Trade

Predictor = Callable[[np.ndarray], np.ndarray]  # float32 (n, F) standardised -> logits (n, 3)


class MLSignal:
    """Direction and confidence from a model over live order-book features.

    Feed it in receive-time order: `on_trade` for every trade and `on_book` after every applied book
    update, then `predict(now_ns, book)`; or call `update(book, trades, now_ns)` once per book update,
    which does all three. Features need every book update (order-flow imbalance is summed per update).
    """

    def __init__(self, predict: Predictor, mean: np.ndarray, std: np.ndarray, horizon_ms: int | None = None) -> None:
        mean = np.asarray(mean, np.float64)
        std = np.asarray(std, np.float64)
        if mean.shape != (N_FEATURES,) or std.shape != (N_FEATURES,):
            raise ValueError(f"mean and std must have {N_FEATURES} entries, got {mean.shape} and {std.shape}")
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise ValueError("mean must be finite and std finite and positive")
        self._predict = predict
        self.mean = mean
        self.std = std
        self.horizon_ms = horizon_ms
        self.state = FeatureState()
        self.last_proba: np.ndarray | None = None  # (p_down, p_flat, p_up) of the last prediction

    @classmethod
    def from_dir(cls, run_dir: str | Path, model: str = "mlp_pruned.onnx") -> MLSignal:
        """Load a run written by `kimera ml train` (and `optimize`): `model` is a file in it, an ONNX
        file (run by onnxruntime) or `mlp.pt` (the fp32 torch MLP)."""
        from kimera.ml.artifacts import load_meta, load_mlp, scaler_arrays

        run = Path(run_dir)
        meta = load_meta(run)
        mean, std = scaler_arrays(meta)
        path = Path(model) if Path(model).is_absolute() else run / model
        if not path.exists():
            hint = " (run `kimera ml optimize` first)" if model.endswith(".onnx") else ""
            raise FileNotFoundError(f"model file not found: {path}{hint}")
        predictor: Predictor
        if path.suffix == ".onnx":
            from kimera.ml.onnx_export import OnnxPredictor

            predictor = OnnxPredictor(path)
        elif path.name == "mlp.pt":
            from kimera.ml.onnx_export import TorchPredictor

            predictor = TorchPredictor(load_mlp(run))
        else:
            raise ValueError(f"unsupported model file {model!r}: give an .onnx file or mlp.pt")
        return cls(predictor, mean, std, int(meta["horizon_ms"]))

    def on_book(self, book: OrderBook, recv_ns: int) -> None:
        """Record the book after an update received at `recv_ns`."""
        self.state.on_book(book, recv_ns)

    def on_trade(self, trade: Trade) -> None:
        """Record a trade."""
        self.state.on_trade(trade)

    def ready(self, now_ns: int) -> bool:
        """True once the features' warm-up is covered."""
        return self.state.ready(now_ns)

    def features(self, now_ns: int, book: OrderBook) -> np.ndarray:
        """The standardised float32 feature row the model sees at `now_ns`."""
        x = (self.state.vector(now_ns, book) - self.mean) / self.std
        return x.astype(np.float32).reshape(1, N_FEATURES)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The model's logits for standardised float32 rows (n, F), e.g. a dataset's test rows."""
        return np.asarray(self._predict(np.ascontiguousarray(x, dtype=np.float32)))

    def predict(self, now_ns: int, book: OrderBook) -> tuple[int, float]:
        """`(direction, confidence)` at `now_ns` from everything fed so far; `(0, 0.0)` before warm-up."""
        if not self.state.ready(now_ns):
            self.last_proba = None
            return 0, 0.0
        logits = np.asarray(self._predict(self.features(now_ns, book)), np.float64).reshape(-1)
        z = np.exp(logits - logits.max())
        p = z / z.sum()
        self.last_proba = p
        k = int(p.argmax())
        return k - 1, float(p[k])

    def update(self, book: OrderBook, trades: Iterable[Trade], now_ns: int) -> tuple[int, float]:
        """Feed the trades received since the last call and the book updated at `now_ns`, then predict."""
        for t in trades:
            self.state.on_trade(t)
        self.state.on_book(book, now_ns)
        return self.predict(now_ns, book)
