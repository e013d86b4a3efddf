"""Train every model on one dataset and score all of them, baselines included, on the same test rows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from torch import nn

from kimera.ml.dataset import Dataset
from kimera.ml.metrics import accuracy, confusion, macro_f1
from kimera.ml.models import MLP, LogisticRegression, LSTMClassifier, majority_class, n_params
from kimera.ml.training import TrainConfig, TrainResult, fit, predict_logits

# Chosen on the validation split (see docs/ml.md); the test split was not used to choose them.
LOGREG_CONFIG = TrainConfig(epochs=60, lr=3e-3, weight_decay=1e-4, patience=6)
MLP_CONFIG = TrainConfig(epochs=60, lr=1e-3, weight_decay=1e-2, patience=8)
LSTM_CONFIG = TrainConfig(epochs=30, lr=1e-3, weight_decay=1e-2, patience=5)
MLP_HIDDEN = (128, 128)
MLP_DROPOUT = 0.3
LSTM_HIDDEN = 32


@dataclass
class Score:
    """One model's figures on one split."""

    accuracy: float
    macro_f1: float
    confusion: list[list[int]]


@dataclass
class Comparison:
    """Trained models, their scores per split, and the plain verdict on the test split."""

    models: dict[str, nn.Module]
    results: dict[str, TrainResult]
    scores: dict[str, dict[str, Score]]  # model -> split -> score
    majority: int
    params: dict[str, int] = field(default_factory=dict)

    def test(self, name: str) -> Score:
        """A model's test score."""
        return self.scores[name]["test"]

    def verdict(self, model: str = "mlp") -> dict[str, Any]:
        """Does `model` beat the majority class and the logistic regression on test accuracy and macro-F1?"""
        m, maj, lr = self.test(model), self.test("majority"), self.test("logreg")
        return {
            "model": model,
            "beats_majority_accuracy": m.accuracy > maj.accuracy,
            "beats_logreg_accuracy": m.accuracy > lr.accuracy,
            "beats_majority_f1": m.macro_f1 > maj.macro_f1,
            "beats_logreg_f1": m.macro_f1 > lr.macro_f1,
        }


def _score(y: np.ndarray, pred: np.ndarray) -> Score:
    return Score(accuracy(y, pred), macro_f1(y, pred), confusion(y, pred).tolist())


def train_all(data: Dataset, seed: int = 0, epochs: int | None = None, lstm: bool = True) -> Comparison:
    """Fit logistic regression, MLP and (optionally) LSTM with `seed`; `epochs` caps every model's epochs."""
    n_features = data.train.X.shape[1]

    def cfg(base: TrainConfig) -> TrainConfig:
        return replace(base, seed=seed, epochs=min(base.epochs, epochs) if epochs else base.epochs)

    tr, va = data.train, data.val
    results = {
        "logreg": fit(lambda: LogisticRegression(n_features), tr.X, tr.y, va.X, va.y, cfg(LOGREG_CONFIG)),
        "mlp": fit(lambda: MLP(n_features, MLP_HIDDEN, dropout=MLP_DROPOUT), tr.X, tr.y, va.X, va.y, cfg(MLP_CONFIG)),
    }
    if lstm:
        results["lstm"] = fit(lambda: LSTMClassifier(n_features, LSTM_HIDDEN), tr.seq, tr.y, va.seq, va.y, cfg(LSTM_CONFIG))
    maj = majority_class(tr.y)
    scores: dict[str, dict[str, Score]] = {"majority": {}}
    for split, part in data.parts().items():
        scores["majority"][split] = _score(part.y, np.full(len(part.y), maj))
    for name, res in results.items():
        scores[name] = {}
        for split, part in data.parts().items():
            X = part.seq if name == "lstm" else part.X
            scores[name][split] = _score(part.y, predict_logits(res.model, X).argmax(1))
    models = {k: r.model for k, r in results.items()}
    return Comparison(models, results, scores, maj, {k: n_params(m) for k, m in models.items()})
