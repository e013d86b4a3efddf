"""Features: no look-ahead (truncation leaves past rows unchanged), and values equal to brute force."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from kimera.data.binance import load_binance_capture
from kimera.engine import BookUpdate, ReplayEngine
from kimera.ml.features import (
    FEATURE_NAMES,
    IMBALANCE_LEVELS,
    MS,
    OFI_WINDOWS_MS,
    RETURN_LAGS_MS,
    TRADE_WINDOWS_MS,
    VOL_WINDOWS_MS,
    WARMUP_MS,
    FeatureState,
    LookAheadError,
)
from kimera.ml.sampling import Series, sample_capture, sample_events
from kimera.model import Quote, Side, Trade
from kimera.venues.registry import resolve_instrument


def test_truncating_the_data_after_t_leaves_features_up_to_t_unchanged(
    spot_files: list[Path], spot_series: Series
) -> None:
    cut = int(spot_series.t_ns[len(spot_series) // 2]) + 37 * MS  # between grid points
    short = sample_capture(spot_files, until_ns=cut)
    n = int(np.sum(spot_series.t_ns <= cut))
    assert n > 1000 and len(spot_series) > n  # the full run has rows after the cut
    assert len(short) == n and short.end_ns == cut
    np.testing.assert_array_equal(short.t_ns, spot_series.t_ns[:n])
    np.testing.assert_array_equal(short.X, spot_series.X[:n])  # bit-identical, not merely close
    np.testing.assert_array_equal(short.s, spot_series.s[:n])


def test_rows_are_on_the_grid_after_warmup(spot_series: Series) -> None:
    assert np.all(spot_series.t_ns % (100 * MS) == 0)
    assert np.all(np.diff(spot_series.t_ns) == 100 * MS)  # no gap in the capture, so no missing rows
    assert spot_series.t_ns[0] - spot_series.mid_t_ns[0] >= WARMUP_MS * MS
    assert spot_series.X.shape == (len(spot_series), len(FEATURE_NAMES))
    assert np.isfinite(spot_series.X).all()


def _brute_force(spot_files: list[Path], until_ns: int) -> dict[int, np.ndarray]:
    """Features at every grid time, recomputed from full histories with no windows or incremental state."""
    engine = ReplayEngine(resolve_instrument)
    tops: list[tuple[int, int, int, int, int]] = []
    trades: list[Trade] = []
    imbalances: dict[int, list[float]] = {}
    books = []

    def on_update(u: BookUpdate) -> None:
        (bp, bq), (ap, aq) = u.book.best_bid(), u.book.best_ask()
        tops.append((u.recv_ns, bp, bq, ap, aq))
        books[:] = [u.book]

    engine.bus.subscribe(BookUpdate, on_update)
    engine.bus.subscribe(Trade, trades.append)
    grid = 100 * MS
    next_g = None
    for ev in load_binance_capture(spot_files):
        if ev.recv_ns > until_ns:
            break
        if isinstance(ev, Quote):
            continue
        if next_g is None:
            next_g = -(-ev.recv_ns // grid) * grid
        while next_g < ev.recv_ns:
            if books:
                imbalances[next_g] = [books[0].imbalance(n) for n in IMBALANCE_LEVELS]
            next_g += grid
        engine.bus.publish(ev)
    t_top = np.array([t[0] for t in tops])
    s_top = np.array([t[1] + t[3] for t in tops])
    out: dict[int, np.ndarray] = {}
    for g, imb in imbalances.items():
        if g - tops[0][0] < WARMUP_MS * MS:
            continue
        k = np.searchsorted(t_top, g, side="right") - 1
        _, bp, _, ap, _ = tops[k]
        s = bp + ap
        row = [*imb, (ap - bp) * 2e4 / s]
        for lag in RETURN_LAGS_MS:
            j = np.searchsorted(t_top, g - lag * MS, side="right") - 1
            row.append(math.log(s / s_top[j]) * 1e4)
        for w in OFI_WINDOWS_MS:
            e_sum = e_abs = 0
            for i in range(1, k + 1):
                if tops[i][0] <= g - w * MS:
                    continue
                _, pb, qb, pa, qa = tops[i - 1]
                _, b, bq, a, aq = tops[i]
                e = (bq if b >= pb else 0) - (qb if b <= pb else 0) - (aq if a <= pa else 0) + (qa if a >= pa else 0)
                e_sum += e
                e_abs += abs(e)
            row.append(e_sum / e_abs if e_abs else 0.0)
        count = 0
        for w in TRADE_WINDOWS_MS:
            inside = [t for t in trades if g - w * MS < t.recv_ns <= g]
            buy = sum(t.size for t in inside if t.side is Side.BUY)
            sell = sum(t.size for t in inside if t.side is Side.SELL)
            row.append((buy - sell) / (buy + sell) if buy + sell else 0.0)
            if w == 5_000:
                count = len(inside)
        row.append(math.log1p(count))
        for w in VOL_WINDOWS_MS:
            sq = sum(
                int(s_top[i] - s_top[i - 1]) ** 2 for i in range(1, k + 1) if t_top[i] > g - w * MS
            )
            row.append(math.sqrt(sq) * 1e4 / s)
        changes = [0] + [i for i in range(1, k + 1) if s_top[i] != s_top[i - 1]]
        row.append(math.log1p((g - t_top[changes[-1]]) / MS))
        out[g] = np.array(row)
    return out


def test_features_equal_brute_force_recomputation(spot_files: list[Path], spot_series: Series) -> None:
    until = int(spot_series.mid_t_ns[0]) + (WARMUP_MS + 15_000) * MS
    ref = _brute_force(spot_files, until)
    rows = {int(t): x for t, x in zip(spot_series.t_ns, spot_series.X, strict=True) if t in ref}
    assert len(rows) >= 140
    for g, x in rows.items():
        np.testing.assert_allclose(x, ref[g], rtol=1e-12, atol=1e-12, err_msg=f"grid time {g}")
    # the features move: a constant column would make this comparison weak
    X = np.stack(list(rows.values()))
    moving = [FEATURE_NAMES[j] for j in range(X.shape[1]) if np.ptp(X[:, j]) > 0]
    assert len(moving) >= len(FEATURE_NAMES) - 1, moving


def test_asking_for_a_time_before_fed_events_is_a_lookahead_error(spot_files: list[Path]) -> None:
    engine = ReplayEngine(resolve_instrument)
    state = FeatureState()
    last: list[BookUpdate] = []
    engine.bus.subscribe(BookUpdate, lambda u: (state.on_book(u.book, u.recv_ns), last.append(u)))
    for ev in load_binance_capture(spot_files[:1]):
        engine.bus.publish(ev)
        if last and last[-1].recv_ns - last[0].recv_ns > (WARMUP_MS + 1000) * MS:
            break
    u = last[-1]
    assert state.vector(u.recv_ns, u.book).shape == (len(FEATURE_NAMES),)
    with pytest.raises(LookAheadError):
        state.vector(u.recv_ns - 1, u.book)
    with pytest.raises(ValueError, match="time order"):
        state.on_book(u.book, u.recv_ns - 1)


def test_features_before_warmup_are_refused() -> None:
    state = FeatureState()
    assert not state.ready(10**18)
    with pytest.raises(ValueError, match="warmed up"):
        from kimera.book import OrderBook

        state.vector(0, OrderBook(resolve_instrument("BINANCE", "BTCUSDT")))


def test_bad_grid_is_rejected() -> None:
    with pytest.raises(ValueError, match="grid_ms"):
        sample_events([], grid_ms=0)
    with pytest.raises(FileNotFoundError):
        sample_capture([Path("/nonexistent/capture.gz")])
