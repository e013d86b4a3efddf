"""The classifiers: logistic regression, a small MLP and a small LSTM, plus the majority-class baseline.

All take standardised features and return logits over (down, flat, up). The MLP is a plain
`nn.Sequential` of Linear/ReLU so pruning can rebuild it with fewer neurons and ONNX exports it as Gemms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

N_CLASSES = 3


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one linear layer, softmax in the loss."""

    def __init__(self, n_in: int, n_out: int = N_CLASSES) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class MLP(nn.Module):
    """Linear -> ReLU blocks then a linear head; `hidden` gives the width of each block.

    Dropout (training only) is applied functionally after each ReLU, so the state dict and the eval
    graph are the same with or without it.
    """

    def __init__(
        self, n_in: int, hidden: Sequence[int] = (128, 128), n_out: int = N_CLASSES, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if not hidden or any(h <= 0 for h in hidden):
            raise ValueError(f"hidden widths must be positive, got {tuple(hidden)}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.dropout = dropout
        layers: list[nn.Module] = []
        prev = n_in
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        layers.append(nn.Linear(prev, n_out))
        self.net = nn.Sequential(*layers)

    @property
    def linears(self) -> list[nn.Linear]:
        """The linear layers, input first."""
        return [m for m in self.net if isinstance(m, nn.Linear)]

    @property
    def hidden(self) -> tuple[int, ...]:
        """Current hidden widths (they shrink after pruning)."""
        return tuple(lin.out_features for lin in self.linears[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.dropout > 0:
            for m in self.net:
                x = m(x)
                if isinstance(m, nn.ReLU):
                    x = F.dropout(x, self.dropout, True)
            return x
        return self.net(x)


class LSTMClassifier(nn.Module):
    """One LSTM layer over the last `seq_len` feature vectors; the last hidden state feeds a linear head."""

    def __init__(self, n_in: int, hidden: int = 32, n_out: int = N_CLASSES) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def majority_class(y_train: np.ndarray) -> int:
    """The most frequent training class (ties: the lowest id), the honest do-nothing baseline."""
    if len(y_train) == 0:
        raise ValueError("no training labels")
    return int(np.bincount(y_train, minlength=N_CLASSES).argmax())


def n_params(model: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())
