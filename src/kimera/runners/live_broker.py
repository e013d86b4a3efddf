"""`CcxtBroker`: places, lists and cancels real orders through a ccxt exchange, journaling each step first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kimera.journal.sqlite import Journal


class CcxtBroker:
    """A thin, journaled wrapper over a synchronous ccxt exchange for one symbol."""

    def __init__(self, exchange: Any, symbol: str, journal: Path | None = None) -> None:
        self.ex = exchange
        self.symbol = symbol
        self.journal = Journal(journal) if journal is not None else None
        self.ex.load_markets()
        if symbol not in self.ex.markets:
            raise ValueError(f"{symbol!r} is not listed by {self.ex.id}; known: {sorted(self.ex.markets)[:10]}")

    def balances(self) -> dict[str, float]:
        """Non-zero free balances."""
        b = self.ex.fetch_balance()
        return {k: float(v) for k, v in b.get("free", {}).items() if v}

    def place(self, side: str, qty: str, price: str | None) -> dict[str, Any]:
        """Send one order (journaled before sending, its venue status after); returns ccxt's order summary."""
        if side not in ("buy", "sell"):
            raise ValueError(f"side must be buy or sell, got {side!r}")
        kind = "market" if price is None else "limit"
        amount, px = float(qty), (None if price is None else float(price))
        if self.journal is not None:
            self.journal.write("order", 0, {"cid": f"live-{self.journal.next_seq}", "inst": self.symbol,
                                            "side": 1 if side == "buy" else -1, "kind": kind, "qty": qty,
                                            "price": price, "strategy": "live"})
        o = self.ex.create_order(self.symbol, kind, side, amount, px)
        out = {"id": o["id"], "status": o["status"], "filled": o.get("filled"), "average": o.get("average"),
               "fee": (o.get("fee") or {}).get("cost")}
        if self.journal is not None:
            self.journal.write("transition", 0,
                               {"cid": str(o["id"]), "prev": "new", "status": str(o["status"]),
                                "filled": o.get("filled"), "reason": ""})
        return out

    def open_orders(self) -> list[dict[str, Any]]:
        """Open orders of the symbol."""
        return [{"id": o["id"], "side": o["side"], "price": o["price"], "remaining": o["remaining"]}
                for o in self.ex.fetch_open_orders(self.symbol)]

    def cancel(self, order_id: str) -> str:
        """Cancel; returns the venue's status."""
        if self.journal is not None:
            self.journal.write("cancel_request", 0, {"id": order_id})
        return str(self.ex.cancel_order(order_id, self.symbol)["status"])

    def close(self) -> None:
        """Close the journal (ccxt's sync client holds no connection to close)."""
        if self.journal is not None:
            self.journal.close()
