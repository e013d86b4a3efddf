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


def make_exchange(cfg: LiveConfig) -> Any:
    """A ccxt exchange with the keys, spot markets only, pointed at `api_url` when given."""
    import ccxt

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
