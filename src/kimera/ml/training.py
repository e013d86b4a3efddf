"""Seeded, single-threaded training with early stopping on validation loss, and batched prediction.

Reproducibility: weights are initialised, batches shuffled and dropout drawn from RNGs seeded by
`TrainConfig.seed` inside a forked RNG, so two runs with the same seed and data give identical weights
(CPU kernels are deterministic at a fixed thread count) and the caller's global RNG is left untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and stopping settings; `seed` fixes initial weights and batch order."""

    epochs: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 6
    seed: int = 0
    temperature: float = 2.0  # distillation only
    alpha: float = 0.7  # distillation only: weight of the teacher's soft targets

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1:
            raise ValueError("epochs, batch_size and patience must be >= 1")
        if not (self.lr > 0 and self.weight_decay >= 0 and self.temperature > 0 and 0 <= self.alpha <= 1):
            raise ValueError("need lr > 0, weight_decay >= 0, temperature > 0 and 0 <= alpha <= 1")


@dataclass
class TrainResult:
    """The best model (by validation loss) and the per-epoch history."""

    model: nn.Module
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)


def _loss(logits: torch.Tensor, y: torch.Tensor, soft: torch.Tensor | None, cfg: TrainConfig) -> torch.Tensor:
    ce = F.cross_entropy(logits, y)
    if soft is None:
        return ce
    t = cfg.temperature
    kd = F.kl_div(F.log_softmax(logits / t, dim=1), F.softmax(soft / t, dim=1), reduction="batchmean") * t * t
    return cfg.alpha * kd + (1 - cfg.alpha) * ce


def fit(
    make_model: Callable[[], nn.Module],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    cfg: TrainConfig,
    teacher_train: np.ndarray | None = None,
    teacher_val: np.ndarray | None = None,
) -> TrainResult:
    """Train with Adam on shuffled mini-batches; keep the weights of the epoch with the lowest val loss.

    With `teacher_*` logits the loss is knowledge distillation (soft targets at `cfg.temperature`
    blended with the hard labels by `cfg.alpha`), on validation too.
    """
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("features and labels differ in length")
    if len(X_train) == 0 or len(X_val) == 0:
        raise ValueError("empty training or validation set")
    if (teacher_train is None) != (teacher_val is None):
        raise ValueError("give teacher logits for both training and validation, or neither")
    xt, yt = torch.from_numpy(np.ascontiguousarray(X_train)), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(np.ascontiguousarray(X_val)), torch.from_numpy(y_val)
    st = None if teacher_train is None else torch.from_numpy(np.ascontiguousarray(teacher_train, dtype=np.float32))
    sv = None if teacher_val is None else torch.from_numpy(np.ascontiguousarray(teacher_val, dtype=np.float32))
    with torch.random.fork_rng(devices=[]):  # seeds init, shuffling and dropout; the caller's RNG is untouched
        torch.manual_seed(cfg.seed)
        return _train(make_model(), xt, yt, xv, yv, st, sv, cfg)


def _train(
    model: nn.Module,
    xt: torch.Tensor,
    yt: torch.Tensor,
    xv: torch.Tensor,
    yv: torch.Tensor,
    st: torch.Tensor | None,
    sv: torch.Tensor | None,
    cfg: TrainConfig,
) -> TrainResult:
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best = float("inf")
    best_state = copy.deepcopy(model.state_dict())
    best_epoch = 0
    history: list[dict[str, float]] = []
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            opt.zero_grad()
            loss = _loss(model(xt[idx]), yt[idx], None if st is None else st[idx], cfg)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.inference_mode():
            logits = model(xv)
            val_loss = float(_loss(logits, yv, sv, cfg))
            val_acc = float((logits.argmax(1) == yv).float().mean())
        history.append({"epoch": epoch, "train_loss": total / len(xt), "val_loss": val_loss, "val_acc": val_acc})
        if val_loss < best - 1e-6:
            best, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= cfg.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return TrainResult(model, best_epoch, history)


def predict_logits(model: nn.Module, X: np.ndarray, batch: int = 8192) -> np.ndarray:
    """Logits for every row of `X`, in eval mode without autograd."""
    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(X), batch):
            out.append(model(torch.from_numpy(np.ascontiguousarray(X[i : i + batch]))).numpy())
    return np.concatenate(out) if out else np.zeros((0, 3), np.float32)
