"""Chronological split with purge gaps on the real pooled data, and train-only standardisation."""

from __future__ import annotations

import numpy as np
import pytest

from kimera.ml.dataset import Dataset
from kimera.ml.features import N_FEATURES
from kimera.ml.sampling import Series
from kimera.ml.split import Standardizer, chronological_split


def test_parts_are_in_time_order_with_a_gap_of_at_least_the_horizon(dataset: Dataset) -> None:
    tr, va, te = dataset.train, dataset.val, dataset.test
    h = dataset.horizon_ns
    assert tr.t_ns.max() + h <= va.t_ns.min()
    assert va.t_ns.max() + h <= te.t_ns.min()
    # both series are pooled and the cut is on the shared clock: no series' test row precedes any train row
    assert set(np.unique(tr.series)) == {0, 1}
    n = len(tr) + len(va) + len(te)
    assert 0.55 < len(tr) / n < 0.65 and 0.15 < len(te) / n < 0.25


def test_every_part_has_features_windows_and_labels(dataset: Dataset) -> None:
    for name, p in dataset.parts().items():
        assert p.X.shape == (len(p), N_FEATURES) and p.X.dtype == np.float32, name
        assert p.seq.shape == (len(p), dataset.seq_len, N_FEATURES), name
        np.testing.assert_array_equal(p.seq[:, -1, :], p.X)  # the window ends at the row itself
        assert set(np.unique(p.y)) == {0, 1, 2}, name
        assert np.all(np.diff(p.t_ns) >= 0), name


def test_standardiser_uses_training_rows_only(dataset: Dataset, all_series: list[Series]) -> None:
    raw_train = dataset.train.X.astype(np.float64) * dataset.scaler.std + dataset.scaler.mean
    np.testing.assert_allclose(raw_train.mean(axis=0), dataset.scaler.mean, rtol=1e-4, atol=1e-4)
    assert np.abs(dataset.train.X.mean(axis=0)).max() < 1e-3
    # statistics over all rows differ: the test rows did not leak into the scaler
    every = np.concatenate([s.X for s in all_series])
    assert not np.allclose(every.mean(axis=0), dataset.scaler.mean, rtol=1e-3)


def test_sequence_window_rows_are_the_previous_grid_rows(dataset: Dataset, all_series: list[Series]) -> None:
    p = dataset.test
    i = len(p) // 2
    series = all_series[int(p.series[i])]
    row = int(np.searchsorted(series.t_ns, p.t_ns[i]))
    expect = dataset.scaler.transform(series.X[row - dataset.seq_len + 1 : row + 1])
    np.testing.assert_array_equal(p.seq[i], expect)


def test_split_rejects_bad_arguments() -> None:
    t = np.arange(100, dtype=np.int64)
    with pytest.raises(ValueError, match="fractions"):
        chronological_split(t, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="gap"):
        chronological_split(t, gap_ns=-1)
    with pytest.raises(ValueError, match="empty"):
        chronological_split(t, gap_ns=1_000)
    m = chronological_split(t, (0.6, 0.2, 0.2), gap_ns=5)
    assert m.train.sum() == 60 and m.val.sum() == 15 and m.test.sum() == 15


def test_standardizer_rejects_nan_and_constant_columns_get_unit_std() -> None:
    with pytest.raises(ValueError, match="NaN"):
        Standardizer.fit(np.array([[1.0, np.nan]]))
    sc = Standardizer.fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    assert sc.std.tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(sc.transform(np.array([[2.0, 5.0]])), [[0.0, 0.0]])


def test_dataset_round_trips_through_npz(dataset: Dataset, tmp_path) -> None:
    dataset.save(tmp_path / "d.npz")
    back = Dataset.load(tmp_path / "d.npz")
    for k, p in dataset.parts().items():
        q = back.parts()[k]
        np.testing.assert_array_equal(p.X, q.X)
        np.testing.assert_array_equal(p.y, q.y)
    assert back.horizon_ns == dataset.horizon_ns and back.cuts_ns == dataset.cuts_ns
