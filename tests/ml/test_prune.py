"""Structured pruning really removes neurons and keeps the masked model's function exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kimera.ml.compare import Comparison
from kimera.ml.dataset import Dataset
from kimera.ml.measure import torch_size_bytes
from kimera.ml.models import MLP, n_params
from kimera.ml.prune import mask_neurons, prune_mlp, remove_masked
from kimera.ml.training import predict_logits


def _mlp(comparison: Comparison) -> MLP:
    m = comparison.models["mlp"]
    assert isinstance(m, MLP)
    return m


def test_removal_computes_what_the_masked_model_computes(comparison: Comparison, dataset: Dataset) -> None:
    masked = mask_neurons(_mlp(comparison), 0.5)
    small = remove_masked(masked)
    X = dataset.test.X
    np.testing.assert_allclose(predict_logits(small, X), predict_logits(masked, X), rtol=1e-5, atol=1e-5)


def test_pruned_model_is_physically_smaller(comparison: Comparison) -> None:
    big = _mlp(comparison)
    small = prune_mlp(big, 0.5)
    assert big.hidden == (128, 128) and small.hidden == (64, 64)
    assert n_params(small) == 20 * 64 + 64 + 64 * 64 + 64 + 64 * 3 + 3
    assert torch_size_bytes(small) < 0.35 * torch_size_bytes(big)
    assert not any(hasattr(lin, "weight_mask") for lin in small.linears)  # plain weights, no masks left


def test_pruning_drops_the_lowest_norm_neurons(comparison: Comparison) -> None:
    big = _mlp(comparison)
    norms = big.linears[0].weight.detach().norm(dim=1)
    masked = mask_neurons(big, 0.25)
    kept = masked.linears[0].weight_mask.sum(dim=1) > 0  # type: ignore[operator]
    assert int(kept.sum()) == 96
    assert norms[kept].min() >= norms[~kept].max()


def test_pruning_rejects_bad_amounts_and_unmasked_models() -> None:
    m = MLP(4, (8, 8))
    with pytest.raises(ValueError, match="amount"):
        prune_mlp(m, 0.0)
    with pytest.raises(ValueError, match="amount"):
        prune_mlp(m, 1.0)
    with pytest.raises(ValueError, match="not pruned"):
        remove_masked(m)


def test_folded_bias_keeps_constant_outputs_of_pruned_neurons() -> None:
    torch.manual_seed(0)
    m = MLP(3, (4,)).eval()
    with torch.no_grad():
        m.linears[0].weight[0].mul_(1e-3)  # neuron 0 has the smallest norm ...
        m.linears[0].bias[0] = 5.0  # ... and a large positive bias: it outputs ~5 for any input
    small = prune_mlp(m, 0.25)
    masked = mask_neurons(m, 0.25)
    x = torch.randn(50, 3)
    with torch.no_grad():
        np.testing.assert_allclose(small(x).numpy(), masked(x).numpy(), rtol=1e-5, atol=1e-5)
