"""Classification metrics on class ids: accuracy, macro-F1, confusion matrix, agreement."""

from __future__ import annotations

import numpy as np

from kimera.ml.models import N_CLASSES


def _check(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"expected two 1-D arrays of equal length, got {a.shape} and {b.shape}")
    if len(a) == 0:
        raise ValueError("no predictions to score")


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of exact matches."""
    _check(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = N_CLASSES) -> np.ndarray:
    """Counts: rows are true classes, columns predicted classes."""
    _check(y_true, y_pred)
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n: int = N_CLASSES) -> float:
    """Unweighted mean of per-class F1 over the classes present in truth or prediction."""
    cm = confusion(y_true, y_pred, n)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    present = (support + predicted) > 0
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros(n), where=denom > 0)
    return float(f1[present].mean())


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of rows where two models predict the same class."""
    _check(a, b)
    return float(np.mean(a == b))
