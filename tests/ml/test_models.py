"""Training: reproducible from a seed, and the MLP measured against the honest baselines."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from kimera.ml.compare import MLP_CONFIG, MLP_DROPOUT, MLP_HIDDEN, Comparison
from kimera.ml.dataset import Dataset
from kimera.ml.metrics import accuracy, agreement, confusion, macro_f1
from kimera.ml.models import MLP, LSTMClassifier, majority_class
from kimera.ml.training import TrainConfig, fit, predict_logits


def _fit_mlp(data: Dataset, seed: int, epochs: int = 4) -> MLP:
    cfg = replace(MLP_CONFIG, seed=seed, epochs=epochs)
    n = data.train.X.shape[1]
    model = fit(lambda: MLP(n, MLP_HIDDEN, dropout=MLP_DROPOUT), data.train.X, data.train.y, data.val.X, data.val.y, cfg).model
    assert isinstance(model, MLP)
    return model


def test_training_is_reproducible_from_the_seed(dataset: Dataset) -> None:
    torch.manual_seed(12345)  # global RNG state must not matter
    a = _fit_mlp(dataset, seed=7)
    torch.manual_seed(999)
    b = _fit_mlp(dataset, seed=7)
    c = _fit_mlp(dataset, seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    np.testing.assert_array_equal(predict_logits(a, dataset.test.X), predict_logits(b, dataset.test.X))
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)  # another seed gives other weights


def test_fit_leaves_the_global_rng_alone(dataset: Dataset) -> None:
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    _fit_mlp(dataset, seed=0, epochs=1)
    assert torch.equal(torch.rand(3), expected)


def test_mlp_beats_majority_class_and_logistic_regression_on_test(comparison: Comparison) -> None:
    mlp, lr, maj = comparison.test("mlp"), comparison.test("logreg"), comparison.test("majority")
    assert mlp.accuracy > lr.accuracy > maj.accuracy
    assert mlp.macro_f1 > lr.macro_f1 > maj.macro_f1
    verdict = comparison.verdict()
    assert verdict.pop("model") == "mlp" and all(verdict.values()) and len(verdict) == 4
    # the majority baseline predicts one class: its test accuracy is that class's share
    assert comparison.majority == 1  # flat dominates the training labels at 500 ms


def test_scores_are_consistent_with_confusion_matrices(comparison: Comparison, dataset: Dataset) -> None:
    for name in ("logreg", "mlp"):
        sc = comparison.test(name)
        cm = np.array(sc.confusion)
        assert cm.sum() == len(dataset.test)
        assert np.trace(cm) / cm.sum() == pytest.approx(sc.accuracy)
        assert np.bincount(dataset.test.y, minlength=3).tolist() == cm.sum(axis=1).tolist()


def test_lstm_trains_on_windows_reproducibly(dataset: Dataset) -> None:
    cfg = TrainConfig(epochs=2, seed=3)
    n = dataset.train.X.shape[1]
    sub = slice(0, 1500)
    runs = [
        fit(lambda: LSTMClassifier(n, 16), dataset.train.seq[sub], dataset.train.y[sub], dataset.val.seq, dataset.val.y, cfg)
        for _ in range(2)
    ]
    la, lb = (predict_logits(r.model, dataset.test.seq) for r in runs)
    assert la.shape == (len(dataset.test), 3)
    np.testing.assert_array_equal(la, lb)


def test_metrics_on_known_values() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    assert accuracy(y, p) == pytest.approx(4 / 6)
    # per class F1: 0 -> 2*1/(2+2)=0.5, 1 -> 2*2/(2+3)=0.8, 2 -> 2*1/(2+1)=2/3
    assert macro_f1(y, p) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert confusion(y, p).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert agreement(p, p) == 1.0
    assert majority_class(np.array([2, 2, 1])) == 2
    with pytest.raises(ValueError):
        accuracy(y, p[:3])
    with pytest.raises(ValueError):
        majority_class(np.array([], dtype=np.int64))


def test_fit_rejects_mismatched_inputs(dataset: Dataset) -> None:
    with pytest.raises(ValueError, match="length"):
        fit(lambda: MLP(3), dataset.train.X, dataset.train.y[:-1], dataset.val.X, dataset.val.y, TrainConfig())
    with pytest.raises(ValueError, match="teacher"):
        fit(lambda: MLP(3), dataset.train.X, dataset.train.y, dataset.val.X, dataset.val.y, TrainConfig(),
            teacher_train=np.zeros((len(dataset.train), 3)))
    with pytest.raises(ValueError):
        TrainConfig(lr=0)
