"""Live trading through ccxt: refuses to start without the explicit flag and keys from the environment.

Keys come only from KIMERA_API_KEY / KIMERA_API_SECRET; they are never logged, printed or journaled
(`LiveConfig.__repr__` masks them). `api_url` points ccxt at another REST base (the emulator in tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEY_ENV = "KIMERA_API_KEY"
SECRET_ENV = "KIMERA_API_SECRET"


class LiveRefused(RuntimeError):
    """Live mode will not start (no confirmation flag, or no keys in the environment)."""


@dataclass(frozen=True)
class LiveConfig:
    """Exchange, symbol, optional REST base override and the (masked) credentials."""

    exchange: str
    symbol: str
    api_url: str | None
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)

    @classmethod
    def from_env(cls, confirmed: bool, exchange: str, symbol: str, api_url: str | None,
                 env: Mapping[str, str]) -> LiveConfig:
        """Build the config, or refuse with the reason."""
        if not confirmed:
            raise LiveRefused("live mode sends real orders; pass --i-understand-this-trades-real-money to start")
        key, secret = env.get(KEY_ENV, ""), env.get(SECRET_ENV, "")
        if not key or not secret:
            raise LiveRefused(f"live mode needs {KEY_ENV} and {SECRET_ENV} in the environment")
        return cls(exchange, symbol, api_url, key, secret)


def make_exchange(cfg: LiveConfig, asynchronous: bool = False) -> Any:
    """A ccxt exchange (its async client with `asynchronous`) with the keys, spot markets only, pointed at
    `api_url` when given."""
    if asynchronous:
        import ccxt.async_support as ccxt
    else:
        import ccxt  # type: ignore[no-redef]

    try:
        klass = getattr(ccxt, cfg.exchange)
    except AttributeError:
        raise LiveRefused(f"unknown ccxt exchange {cfg.exchange!r}") from None
    ex = klass({"apiKey": cfg.api_key, "secret": cfg.api_secret, "enableRateLimit": False,
                "options": {"fetchMarkets": ["spot"], "fetchCurrencies": False, "fetchMargins": False,
                            "adjustForTimeDifference": False}})
    if cfg.api_url:  # every endpoint to the override's host, so nothing can reach the real venue
        from urllib.parse import urlsplit

        base = cfg.api_url.rstrip("/")
        api = ex.urls["api"]
        for k, v in list(api.items()):
            if isinstance(v, str):
                api[k] = base + urlsplit(v).path
    return ex


def live_session(cfg: LiveConfig, side: str | None, qty: str, price: str | None,
                 journal: Path | None = None) -> dict[str, Any]:
    """Connect, report balances and open orders; with `side`, send one order and cancel it if it rests."""
    from kimera.runners.live_broker import CcxtBroker

    broker = CcxtBroker(make_exchange(cfg), cfg.symbol, journal)
    try:
        out: dict[str, Any] = {"exchange": cfg.exchange, "symbol": cfg.symbol, "balance": broker.balances()}
        if side is not None:
            out["order"] = broker.place(side, qty, price)
            out["open_orders"] = broker.open_orders()
            if out["order"]["status"] == "open":
                out["cancelled"] = broker.cancel(out["order"]["id"])
        return out
    finally:
        broker.close()


@dataclass
class LiveStrategyOutcome:
    """A finished live strategy session: the pipeline (orders, fills, portfolio, record), its result, the
    venue (exchange ids, answer latencies, errors) and what was cancelled at the end."""

    pipeline: Any
    result: Any
    venue: Any
    book_updates: int
    cancelled_at_end: int


async def live_strategy_session(
    cfg: LiveConfig, strategy: str, seconds: float, quantity: str, max_position: str, venue: str = "binance",
    ws_url: str | None = None, rest_url: str | None = None, journal: Path | None = None, risk_engine: bool = True,
) -> LiveStrategyOutcome:
    """The backtest's strategies and risk gates on live market data (the connectivity layer's stream client),
    with every approved order sent to the exchange through ccxt (`CcxtVenue`) and journaled before it is
    sent; working orders are cancelled at the end."""
    import time

    from kimera.journal.sqlite import Journal
    from kimera.runners.backtest import build_strategies, risk_gate
    from kimera.runners.live_venue import CcxtVenue
    from kimera.runners.paper import feed_for
    from kimera.runners.pipeline import TradingPipeline
    from kimera.venues.registry import resolve_instrument
    from kimera.venues.stream import StreamClient

    feed = feed_for(venue, cfg.symbol.replace("/", "") if venue == "binance" else cfg.symbol)
    inst = feed.instrument
    ex = make_exchange(cfg, asynchronous=True)
    jr = Journal(journal) if journal is not None else None
    ccxt_venue: list[CcxtVenue] = []

    def factory(om: Any) -> CcxtVenue:
        ccxt_venue.append(CcxtVenue(om, ex, {inst.key: cfg.symbol}))
        return ccxt_venue[0]

    pipe = TradingPipeline(resolve_instrument, build_strategies(strategy, inst, inst.size(quantity)), journal=jr,
                           advance_on_events=True, id_prefix="L", venue_factory=factory)
    pipe.risk = risk_gate(pipe, inst, max_position, risk_engine)
    client = StreamClient(feed, ws_url, rest_url, bus=pipe.bus)
    pipe.external_books[inst.key] = client.book
    t0 = time.perf_counter()
    cv = ccxt_venue[0]
    try:
        await ex.load_markets()
        if cfg.symbol not in ex.markets:
            raise LiveRefused(f"{cfg.symbol!r} is not listed by {cfg.exchange}")
        await client.run(seconds)
        await cv.drain()
        cancelled = await cv.cancel_open()
    finally:
        await ex.close()
        if jr is not None:
            jr.close()
    pipe.portfolio.sample(time.time_ns(), force=True)
    res = pipe.result(client.health.messages, time.perf_counter() - t0)
    return LiveStrategyOutcome(pipe, res, cv, client.health.book_updates, cancelled)
