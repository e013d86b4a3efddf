"""Shared fixtures for the ML tests: the real captures sampled once, the dataset, trained models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from kimera.ml.compare import Comparison, train_all
from kimera.ml.dataset import Dataset, build_dataset
from kimera.ml.sampling import Series, sample_capture
from kimera.ml.workflow import DEFAULT_BAND_BPS, DEFAULT_HORIZON_MS
from tests.conftest import data_path

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def spot_files() -> list[Path]:
    """The spot BTCUSDT capture (two files, one series)."""
    return [
        data_path("binance-spot-btcusdt-l2", "btcusdt_20240808.gz"),
        data_path("binance-spot-btcusdt-l2", "btcusdt_20240809.gz"),
    ]


@pytest.fixture(scope="session")
def usdm_files() -> list[Path]:
    """The USD-M BTCUSDT capture."""
    return [data_path("binance-usdm-btcusdt-l2", "btcusdt_20240808.gz")]


@pytest.fixture(scope="session")
def spot_series(spot_files: list[Path]) -> Series:
    """Spot sampled on the 100 ms grid."""
    return sample_capture(spot_files)


@pytest.fixture(scope="session")
def all_series(spot_series: Series, usdm_files: list[Path]) -> list[Series]:
    """Spot and USD-M, as training uses them."""
    return [spot_series, sample_capture(usdm_files)]


@pytest.fixture(scope="session")
def dataset(all_series: list[Series]) -> Dataset:
    """The default dataset (default horizon and dead band)."""
    return build_dataset(all_series, DEFAULT_HORIZON_MS, DEFAULT_BAND_BPS)


@pytest.fixture(scope="session")
def comparison(dataset: Dataset) -> Comparison:
    """Logistic regression and MLP trained with the shipped settings and seed 0 (no LSTM: tested apart)."""
    return train_all(dataset, seed=0, lstm=False)
