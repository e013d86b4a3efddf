"""Structured pruning of the MLP's hidden neurons, then their physical removal so the model shrinks.

`torch.nn.utils.prune.ln_structured` zeroes whole rows (neurons) of each hidden layer by L2 norm; it
only masks the weight, so a pruned neuron still outputs the constant ReLU(bias). Removal folds that
constant into the next layer's bias, so the small model computes exactly what the masked one did.
"""

from __future__ import annotations

import copy

import torch
from torch.nn.utils import prune

from kimera.ml.models import MLP


def mask_neurons(model: MLP, amount: float) -> MLP:
    """A copy of `model` with `amount` of each hidden layer's neurons masked (L2 structured pruning)."""
    if not 0 < amount < 1:
        raise ValueError(f"amount must be in (0, 1), got {amount}")
    masked = copy.deepcopy(model)
    for lin in masked.linears[:-1]:
        prune.ln_structured(lin, "weight", amount=amount, n=2, dim=0)
    return masked


def remove_masked(masked: MLP) -> MLP:
    """Rebuild a masked MLP without its zeroed neurons (same function, fewer parameters)."""
    linears = masked.linears
    keeps: list[torch.Tensor] = []
    for lin in linears[:-1]:
        mask = getattr(lin, "weight_mask", None)
        if mask is None:
            raise ValueError("layer is not pruned: call mask_neurons first")
        keeps.append(mask.sum(dim=1) > 0)
    hidden = [int(k.sum()) for k in keeps]
    if min(hidden) == 0:
        raise ValueError("pruning removed every neuron of a layer")
    small = MLP(linears[0].in_features, hidden, linears[-1].out_features)
    with torch.no_grad():
        prev_keep: torch.Tensor | None = None
        carry: torch.Tensor | None = None  # constant outputs of removed neurons of the previous layer
        for i, (src, dst) in enumerate(zip(linears, small.linears, strict=True)):
            w = src.weight.detach().clone()  # masked weight (pruned rows are zero)
            b = src.bias.detach().clone()
            if carry is not None and prev_keep is not None:
                b += w[:, ~prev_keep] @ carry
                w = w[:, prev_keep]
            if i < len(keeps):
                keep = keeps[i]
                carry = torch.relu(b[~keep])
                w, b = w[keep], b[keep]
                prev_keep = keep
            dst.weight.copy_(w)
            dst.bias.copy_(b)
    return small.eval()


def prune_mlp(model: MLP, amount: float) -> MLP:
    """Mask `amount` of every hidden layer's neurons by L2 norm and return the physically smaller MLP."""
    return remove_masked(mask_neurons(model, amount))

