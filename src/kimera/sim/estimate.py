"""Estimate the order-flow simulator's rates from a real L2 capture (run once; output embedded as JSON).

Each applied diff level is compared with the book before it: a size increase at distance k ticks behind
the own-side best counts as a limit arrival at k (its log size feeds the size law); decreases are
cancelled volume, less (at the best level) the volume traded there. The cancel rate at k is that volume
per second over the mean queue at k, i.e. the fraction of a queue cancelled per second. Trades give the market-order rate per side and the market-order size law (prints with the
same side and timestamp are one order). Binance diffs are netted over 100 ms, so these are lower bounds
of the true event rates; the simulator inherits that, which is documented rather than hidden.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from kimera.book import SyncedBook, SyncStatus
from kimera.data.binance import load_binance_capture
from kimera.model import BookDelta, BookSnapshot, Trade
from kimera.venues.binance import BinanceAdapter


def estimate(paths: Iterable[str | Path], K: int = 20) -> dict[str, Any]:
    """Rates per second and log-normal size parameters from a Binance spot capture."""
    files = [Path(p) for p in paths]
    ad = BinanceAdapter("spot")
    inst = ad.instrument
    tick = inst.price_scale // 100  # BTCUSDT tick 0.01
    sb = SyncedBook(inst, ad.rule)
    arrivals = np.zeros(K)
    cancels = np.zeros(K)  # cancelled volume (base units) per distance
    traded = 0.0
    queue_sum = np.zeros(K)
    queue_obs = 0
    lsizes: list[float] = []
    msizes: dict[tuple[int, int], int] = {}
    first = last = None
    start_price = None
    for ev in load_binance_capture(files, "spot"):
        first = ev.recv_ns if first is None else first
        last = ev.recv_ns
        if isinstance(ev, BookSnapshot):
            sb.on_snapshot(ev)
        elif isinstance(ev, Trade):
            key = (ev.exchange_ns, int(ev.side))
            msizes[key] = msizes.get(key, 0) + ev.size
            traded += ev.size / inst.size_scale
        elif isinstance(ev, BookDelta):
            if not sb.trusted:
                sb.on_delta(ev)
                continue
            bb, ba = sb.book.best_bid(), sb.book.best_ask()
            before_b, before_a = sb.book.bids.as_dict(), sb.book.asks.as_dict()
            if sb.on_delta(ev) is not SyncStatus.APPLIED or bb is None or ba is None:
                continue
            start_price = start_price or (bb[0] + ba[0]) / 2 / inst.price_scale
            for lv, before, best, sign in ((ev.bids, before_b, bb[0], 1), (ev.asks, before_a, ba[0], -1)):
                for p, q in lv:
                    k = max(0, (best - p) * sign // tick)
                    if k >= K:
                        continue
                    prev = before.get(p, 0)
                    if q > prev:
                        arrivals[k] += 1
                        lsizes.append(math.log((q - prev) / inst.size_scale))
                    elif q < prev:
                        cancels[k] += (prev - q) / inst.size_scale
            for i, (_, q) in enumerate(sb.book.bids.top(K)):
                queue_sum[i] += q / inst.size_scale
            queue_obs += 1
    if first is None or last is None or queue_obs == 0:
        raise ValueError("capture has no synced book updates to estimate from")
    secs = (last - first) / 1e9
    mean_q = queue_sum / queue_obs
    cancels[0] = max(cancels[0] - traded, 0.0)  # best-level decreases not explained by trades
    cancel_rate = cancels / 2 / secs / np.maximum(mean_q, 1e-9)
    ms = np.log(np.array(list(msizes.values()), dtype=float) / inst.size_scale)
    return {
        "limit_rate": (arrivals / 2 / secs).round(6).tolist(),
        "cancel_rate": cancel_rate.round(6).tolist(),
        "market_rate": round(len(msizes) / 2 / secs, 6),
        "limit_size": [round(float(np.mean(lsizes)), 6), round(float(np.std(lsizes)), 6)],
        "market_size": [round(float(ms.mean()), 6), round(float(ms.std()), 6)],
        "start_price": round(float(start_price or 0.0), 2),
        "tick": 0.01,
        "source": "estimated by kimera.sim.estimate from " + ", ".join(p.name for p in files),
    }


if __name__ == "__main__":  # python -m kimera.sim.estimate FILE... > params.json
    import json
    import sys

    print(json.dumps(estimate(sys.argv[1:]), indent=1))
