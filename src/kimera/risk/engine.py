"""The risk engine: six components → one score, hard limits that block (and say why), a kill switch,
order-rate control, sizing, and a vectorised batch path that gives the same verdicts as the single one."""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from kimera.book import OrderBook
from kimera.features import FeatureEngine
from kimera.model import Instrument
from kimera.risk import components as C
from kimera.risk.batch import OrderBatch
from kimera.risk.config import RiskConfig
from kimera.risk.errors import RiskInputError
from kimera.risk.market import MarketState, market_state_from_book
from kimera.risk.portfolio import PortfolioView
from kimera.risk.sizing import suggested_quantity
from kimera.risk.verdict import LIMITS, BatchVerdict, Breach, Components, RiskVerdict
from kimera.strategy.intent import OrderIntent

F64 = npt.NDArray[np.float64]
_new = tuple.__new__  # NamedTuple from a tuple in C
_F64 = np.dtype(np.float64)
_confidence = attrgetter("confidence")


def _f64(a: object) -> F64:
    """`a` as a float64 array (itself when it already is one: the portfolio's returns usually are)."""
    if type(a) is np.ndarray and a.dtype is _F64:
        return a
    return np.asarray(a, dtype=np.float64)


def _portfolio_numbers(pf: PortfolioView) -> tuple[float, float, float]:
    eq, peak, pnl = pf.equity, pf.equity_peak, pf.daily_pnl
    if not (math.isfinite(eq) and math.isfinite(peak) and math.isfinite(pnl)):
        raise RiskInputError(f"portfolio equity {eq!r}, equity_peak {peak!r}, daily_pnl {pnl!r} must be finite")
    return eq, peak, pnl


class RiskEngine:
    """Assesses proposed orders. Thread-safe: the kill switch and the order-rate window sit behind a lock."""

    def __init__(self, config: RiskConfig | None = None) -> None:
        self.config = config or RiskConfig()
        if not isinstance(self.config, RiskConfig):
            raise TypeError(f"config must be a RiskConfig, got {type(self.config).__name__}")
        self._lock = threading.Lock()
        self._killed: str | None = None
        self._approved_ns: deque[int] = deque()
        self.assessed = 0
        self.approved = 0
        self.blocked_by: Counter[str] = Counter()

    # -- kill switch ------------------------------------------------------------------------------
    def kill(self, reason: str) -> None:
        """Halt: every assessment from now on is blocked with `kill_switch` until `resume()`."""
        with self._lock:
            self._killed = reason or "kill switch"

    def resume(self) -> None:
        """Lift the kill switch."""
        with self._lock:
            self._killed = None

    @property
    def killed(self) -> str | None:
        """The kill reason, or None when trading is allowed."""
        return self._killed

    # -- market -----------------------------------------------------------------------------------
    def market_state(self, book: OrderBook, features: FeatureEngine, recv_ns: int, side: int = 0) -> MarketState:
        """The market state of a book with this engine's parameters (`side` ±1: measure one side's depth)."""
        return market_state_from_book(book, features, recv_ns, self.config.params, side)

    def _recent(self, now_ns: int) -> int:
        """Approved orders inside the rate window ending at `now_ns` (caller holds the lock)."""
        q = self._approved_ns
        cutoff = now_ns - self.config.limits.rate_window_ns
        while q and q[0] <= cutoff:
            q.popleft()
        return len(q)

    # -- one order --------------------------------------------------------------------------------
    def assess(self, intent: OrderIntent, market: MarketState, portfolio: PortfolioView, now_ns: int) -> RiskVerdict:
        """Components, score, limits and sizing for one order; an approval counts toward the order rate."""
        cfg = self.config
        p, lim = cfg.params, cfg.limits
        inst = intent.instrument
        key = inst.key
        if inst is not market.instrument and key != market.instrument.key:
            raise RiskInputError(f"order for {key} assessed against the market of {market.instrument.key}")
        side = int(intent.side)
        qty = intent.quantity / inst.size_scale
        price = (market.ask if side > 0 else market.bid) if intent.price is None else intent.price / inst.price_scale
        eq, peak, pnl = portfolio.equity, portfolio.equity_peak, portfolio.daily_pnl
        if not (math.isfinite(eq) and math.isfinite(peak) and math.isfinite(pnl)):
            _portfolio_numbers(portfolio)  # raises, naming the values

        pr = portfolio.returns
        # fewer than 3 portfolio returns: `correlation` is 0 by definition (skips its array checks)
        rho = C.correlation(market.returns, _f64(pr), p.correlation_window) if len(pr) >= 3 else 0.0
        o_sum, o_sq, held = C.concentration_terms(portfolio.positions, key)
        new_pos = held + side * qty
        hhi = C.concentration(o_sum, o_sq, abs(new_pos) * price)
        comps = _new(Components, (
            market.thermal,
            C.cognitive([*map(_confidence, intent.signals)]),
            C.volatility(market, p),
            C.correlation_component(side, rho, hhi, p),
            C.liquidity(side, qty, market, p),
            C.contradiction(intent.tension_rate),
        ))
        w = cfg.weights
        score = (
            w.thermal * comps[0] + w.cognitive * comps[1] + w.volatility * comps[2]
            + w.correlation * comps[3] + w.liquidity * comps[4] + w.contradiction * comps[5]
        )
        if not -1e-9 <= score <= 1.0 + 1e-9:  # only a NaN or infinite input gets here: never approve it
            raise RiskInputError(f"risk score {score!r} from components {comps} for {key}: an input is not finite")
        score = min(1.0, max(0.0, score))  # weights sum to 1 within 1e-9
        notional = qty * price
        reducing = abs(new_pos) < abs(held) and new_pos * held >= 0.0
        exempt = lim.allow_reducing and reducing
        dd = (peak - eq) / peak if peak > 0.0 else 0.0
        pos_lim = lim.position_limit(key)
        breaches: list[Breach] = []
        if abs(new_pos) > pos_lim:
            breaches.append(Breach("max_position", abs(new_pos), pos_lim))
        if notional > lim.max_notional:
            breaches.append(Breach("max_notional", notional, lim.max_notional))
        if -pnl > lim.max_daily_loss and not exempt:
            breaches.append(Breach("max_daily_loss", -pnl, lim.max_daily_loss))
        if dd > lim.max_drawdown and not exempt:
            breaches.append(Breach("max_drawdown", dd, lim.max_drawdown))
        if intent.confidence < lim.min_confidence:
            breaches.append(Breach("min_confidence", intent.confidence, lim.min_confidence))
        if comps[5] > lim.max_contradiction:
            breaches.append(Breach("max_contradiction", comps[5], lim.max_contradiction))
        if score > lim.max_risk_score:
            breaches.append(Breach("max_risk_score", score, lim.max_risk_score))
        lock = self._lock
        lock.acquire()
        try:
            if self._killed is not None:
                breaches.append(Breach("kill_switch", 1.0, 0.0))
            recent = self._recent(now_ns)
            if recent >= lim.max_orders:
                breaches.append(Breach("max_order_rate", recent + 1, lim.max_orders))
            ok = not breaches
            self.assessed += 1
            if ok:
                self._approved_ns.append(now_ns)
                self.approved += 1
            else:
                self.blocked_by.update(b.limit for b in breaches)
        finally:
            lock.release()
        if len(breaches) > 1:
            breaches.sort(key=lambda b: LIMITS.index(b.limit))
        depth = market.depth_ask if side > 0 else market.depth_bid
        sq = suggested_quantity(inst, side, price, score, market.vol, held, depth, p, lim, pos_lim)
        return _new(RiskVerdict, (ok, score, comps, tuple(breaches), sq, rho, hhi, notional))

    # -- many orders ------------------------------------------------------------------------------
    def assess_batch(
        self, batch: OrderBatch, market: MarketState, portfolio: PortfolioView, now_ns: int
    ) -> BatchVerdict:
        """Every order of `batch` (one instrument) at once; the same verdicts as calling `assess` on each in
        order at `now_ns` (approvals earlier in the batch count toward the order rate of later ones)."""
        cfg = self.config
        p, lim, w = cfg.params, cfg.limits, cfg.weights
        inst = market.instrument
        key = inst.key
        n = len(batch)
        side = batch.side.astype(np.float64)
        qty = batch.qty
        touch = np.where(side > 0, market.ask, market.bid)
        price = np.where(np.isnan(batch.price), touch, batch.price)
        eq, peak, pnl = _portfolio_numbers(portfolio)

        rho = C.correlation(market.returns, np.asarray(portfolio.returns, dtype=np.float64), p.correlation_window)
        o_sum, o_sq, held = C.concentration_terms(portfolio.positions, key)
        new_pos = held + side * qty
        abs_new = np.abs(new_pos)
        x = abs_new * price
        tot = o_sum + x
        with np.errstate(invalid="ignore", divide="ignore"):
            hhi = np.where(tot > 0.0, (o_sq + x * x) / (tot * tot), 0.0)
        comps = np.empty((n, 6))
        comps[:, 0] = market.thermal
        comps[:, 1] = batch.cognitive
        comps[:, 2] = min(1.0, market.vol / p.vol_scale)
        s = p.concentration_share
        comps[:, 3] = (1.0 - s) * np.maximum(0.0, side * rho) + s * hhi
        depth = np.where(side > 0, market.depth_ask, market.depth_bid)
        if np.isnan(depth).any():
            k = int(np.flatnonzero(np.isnan(depth))[0])
            raise RiskInputError(f"market {key} at {market.recv_ns}: order {k} takes a side whose depth was not measured")
        with np.errstate(invalid="ignore", divide="ignore"):
            size_part = np.where(depth > 0.0, np.minimum(1.0, qty / depth), 1.0)
        s = p.liquidity_spread_share
        comps[:, 4] = (1.0 - s) * size_part + s * min(1.0, market.spread_bps / p.spread_scale_bps)
        comps[:, 5] = batch.tension
        score = (
            w.thermal * comps[:, 0] + w.cognitive * comps[:, 1] + w.volatility * comps[:, 2]
            + w.correlation * comps[:, 3] + w.liquidity * comps[:, 4] + w.contradiction * comps[:, 5]
        )
        bad = np.flatnonzero(~((score >= -1e-9) & (score <= 1.0 + 1e-9)))
        if bad.size:
            k = int(bad[0])
            raise RiskInputError(f"risk score {score[k]!r} from components {comps[k].tolist()} for {key} order {k}")
        score = np.clip(score, 0.0, 1.0)
        notional = qty * price
        reducing = (abs_new < abs(held)) & (new_pos * held >= 0.0)
        exempt = reducing if lim.allow_reducing else np.zeros(n, bool)
        dd = (peak - eq) / peak if peak > 0.0 else 0.0
        pos_lim = lim.position_limit(key)
        values = {
            "max_position": abs_new,
            "max_notional": notional,
            "max_daily_loss": np.full(n, -pnl),
            "max_drawdown": np.full(n, dd),
            "min_confidence": batch.confidence,
            "max_contradiction": comps[:, 5],
            "max_risk_score": score,
        }
        br = {
            "max_position": abs_new > pos_lim,
            "max_notional": notional > lim.max_notional,
            "max_daily_loss": (-pnl > lim.max_daily_loss) & ~exempt,
            "max_drawdown": (dd > lim.max_drawdown) & ~exempt,
            "min_confidence": batch.confidence < lim.min_confidence,
            "max_contradiction": comps[:, 5] > lim.max_contradiction,
            "max_risk_score": score > lim.max_risk_score,
        }
        others_ok = ~np.logical_or.reduce(list(br.values())) if n else np.zeros(0, bool)
        with self._lock:
            killed = self._killed is not None
            recent = self._recent(now_ns)
            # approvals earlier in this batch: every order passing the other limits is approved until the
            # window is full, so A_k = min(#others_ok before k, room) (0 when killed: nothing is approved)
            before = np.concatenate(([0], np.cumsum(others_ok)[:-1])) if n else np.zeros(0, np.int64)
            room = 0 if killed else max(0, lim.max_orders - recent)
            count = recent + np.minimum(before, room)
            rate = count >= lim.max_orders
            ok = others_ok & ~rate & (not killed)
            n_ok = int(ok.sum())
            self._approved_ns.extend([now_ns] * n_ok)
            self.assessed += n
            self.approved += n_ok
            br["kill_switch"] = np.full(n, killed)
            br["max_order_rate"] = rate
            for name in LIMITS:
                c = int(br[name].sum())
                if c:
                    self.blocked_by[name] += c
        values["kill_switch"] = np.ones(n)
        values["max_order_rate"] = (count + 1).astype(np.float64)
        bounds = {
            "kill_switch": 0.0, "max_position": pos_lim, "max_notional": lim.max_notional,
            "max_order_rate": float(lim.max_orders), "max_daily_loss": lim.max_daily_loss,
            "max_drawdown": lim.max_drawdown, "min_confidence": lim.min_confidence,
            "max_contradiction": lim.max_contradiction, "max_risk_score": lim.max_risk_score,
        }
        sq = self._batch_sizes(side, price, score, market.vol, held, depth, pos_lim, inst)
        return BatchVerdict(ok, score, comps, br, values, bounds, sq, rho, hhi, notional)

    def _batch_sizes(
        self, side: F64, price: F64, score: F64, vol: float, held: float, depth: F64, pos_lim: float,
        instrument: Instrument,
    ) -> npt.NDArray[np.int64]:
        """`sizing.suggested_quantity` over columns."""
        p, lim = self.config.params, self.config.limits
        vol_factor = min(1.0, p.target_vol / vol) if vol > 0.0 else 1.0
        q = p.risk_budget * np.maximum(0.0, 1.0 - score) * vol_factor / price
        q = np.minimum.reduce([q, np.maximum(0.0, pos_lim - side * held), lim.max_notional / price, depth])
        q = np.where(np.isfinite(q) & (q > 0.0), q, 0.0)
        lot = instrument.lot_size
        out: npt.NDArray[np.int64] = (q * instrument.size_scale).astype(np.int64) // lot * lot
        return out
