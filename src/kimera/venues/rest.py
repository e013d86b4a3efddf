"""REST snapshots and instrument metadata through ccxt (async), with the base URL overridable (the emulator).

Snapshots use ccxt's raw endpoint methods (`publicGetDepth`, `fapiPublicGetDepth`), not `fetch_order_book`:
the raw body keeps the venue's decimal strings (exact, parsed by our adapter) and `lastUpdateId`, while
`fetch_order_book` turns every price into a float. Metadata uses `load_markets` (ccxt's own parsing of
exchangeInfo / AssetPairs): tick and lot sizes and fees, converted exactly into the instrument's units.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async

from kimera.model import BookSnapshot, Instrument
from kimera.venues import binance, kraken

VENUES = ("binance", "binance-usdm", "kraken")


class RestError(RuntimeError):
    """A REST call failed (network, HTTP error, or an unexpected body); says which venue and call."""


def _exchange(venue: str, base_url: str | None, timeout_ms: int) -> Any:
    cfg: dict[str, Any] = {"timeout": timeout_ms, "enableRateLimit": False}
    if venue == "binance":
        ex = ccxt_async.binance({**cfg, "options": {"fetchMarkets": {"types": ["spot"]}}})
        if base_url:
            ex.urls["api"]["public"] = f"{base_url}/api/v3"
    elif venue == "binance-usdm":
        ex = ccxt_async.binance({**cfg, "options": {"fetchMarkets": {"types": ["linear"]}, "defaultType": "future"}})
        if base_url:
            ex.urls["api"]["fapiPublic"] = f"{base_url}/fapi/v1"
    elif venue == "kraken":
        ex = ccxt_async.kraken(cfg)
        if base_url:
            ex.urls["api"]["public"] = base_url
    else:
        raise ValueError(f"no REST client for venue {venue!r}; known: {', '.join(VENUES)}")
    return ex


def _units(value: Any, decimals: int, what: str) -> int:
    """A ccxt number (tick, lot) as an exact integer count of 10**-decimals."""
    d = Decimal(str(value)) * (Decimal(10) ** decimals)
    if d != d.to_integral_value() or d <= 0:
        raise RestError(f"{what} {value!r} is not a positive multiple of 1e-{decimals}")
    return int(d)


class RestClient:
    """One ccxt exchange object for a venue; `close()` it (or use `async with`)."""

    def __init__(self, venue: str, base_url: str | None = None, timeout_ms: int = 10_000) -> None:
        self.venue = venue
        self.exchange = _exchange(venue, base_url.rstrip("/") if base_url else None, timeout_ms)
        self.calls = 0

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Release ccxt's HTTP session."""
        await self.exchange.close()

    async def depth_snapshot(self, symbol: str, limit: int = 5000) -> BookSnapshot:
        """The venue's REST order book for `symbol` (exact strings through our adapter)."""
        self.calls += 1
        try:
            if self.venue == "kraken":
                body = await self.exchange.publicGetDepth({"pair": symbol.replace("/", ""), "count": min(limit, 500)})
                return kraken.KrakenAdapter().rest_snapshot(body, symbol, time.time_ns())
            market = "spot" if self.venue == "binance" else "usdm"
            call = self.exchange.publicGetDepth if market == "spot" else self.exchange.fapiPublicGetDepth
            body = await call({"symbol": symbol, "limit": limit})
        except Exception as exc:  # ccxt raises its own hierarchy (NetworkError, ExchangeError, ...)
            raise RestError(f"{self.venue} depth snapshot of {symbol}: {type(exc).__name__}: {exc}") from exc
        return binance.BinanceAdapter(market, symbol).snapshot(body, time.time_ns())

    async def instrument(self, symbol: str, base: Instrument) -> Instrument:
        """`base` (our precision for the venue's strings) with tick, lot and fees from ccxt's `load_markets`."""
        self.calls += 1
        try:
            markets = await self.exchange.load_markets()
        except Exception as exc:
            raise RestError(f"{self.venue} load_markets: {type(exc).__name__}: {exc}") from exc
        found = [m for m in markets.values() if symbol in (m.get("id"), m.get("info", {}).get("wsname"))]
        if not found:
            raise RestError(f"{self.venue}: symbol {symbol!r} not in the exchange's markets")
        m = found[0]
        tick = _units(m["precision"]["price"], base.price_decimals, f"{symbol} tick size")
        lot = _units(m["precision"]["amount"], base.size_decimals, f"{symbol} lot size")
        taker = float(m["taker"]) if m.get("taker") is not None else base.taker_fee
        maker = float(m["maker"]) if m.get("maker") is not None else base.maker_fee
        return Instrument(base.venue, base.symbol, base.price_decimals, base.size_decimals, tick, lot, taker, maker)
