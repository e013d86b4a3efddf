"""Orders and their state machine: new -> accepted -> partially filled -> filled / cancelled / rejected / expired.

Every transition is checked against `TRANSITIONS` (an illegal one raises `IllegalTransition`) and becomes an
`OrderEvent`; fills are `Fill` events. Money (fees) is float quote currency; prices and sizes stay fixed-point.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from kimera.model import Instrument, Side


class OrderError(ValueError):
    """An order that cannot exist: non-positive size, a limit order without a price, an unknown id."""


class IllegalTransition(RuntimeError):
    """A state change the order state machine forbids (e.g. filled -> cancelled)."""


class OrderKind(StrEnum):
    """How the order executes."""

    MARKET = "market"  # walks the book; any unfilled rest expires
    LIMIT = "limit"  # marketable part takes, the rest rests (GTC)
    IOC = "ioc"  # limit price, immediate or cancel: the rest expires
    FOK = "fok"  # limit price, all or nothing
    POST_ONLY = "post_only"  # rests only; rejected if it would take


class OrderStatus(StrEnum):
    """Where the order is in its life."""

    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        """True once the order can change no more."""
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
_LIVE_NEXT = frozenset({OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED})

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.ACCEPTED, OrderStatus.REJECTED}),
    OrderStatus.ACCEPTED: _LIVE_NEXT,
    OrderStatus.PARTIALLY_FILLED: _LIVE_NEXT,
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}


class OrderEvent(msgspec.Struct, frozen=True, gc=False):
    """One state transition of one order (published on the bus, journaled first)."""

    client_id: str
    instrument: str
    prev: OrderStatus
    status: OrderStatus
    filled: int
    leaves: int
    ts_ns: int
    reason: str = ""


class Fill(msgspec.Struct, frozen=True, gc=False):
    """An execution: `size` at `price` (fixed-point) with `fee` in quote currency."""

    fill_id: int
    client_id: str
    venue: str
    symbol: str
    side: Side
    price: int
    size: int
    fee: float
    liquidity: str  # "maker" | "taker"
    ts_ns: int

    @property
    def key(self) -> str:
        """`VENUE:SYMBOL`."""
        return f"{self.venue}:{self.symbol}"


class Order:
    """A mutable order; only `transition` and `add_fill` change it, and both check the state machine."""

    __slots__ = ("client_id", "created_ns", "fees", "filled", "instrument", "kind", "notional", "price",
                 "quantity", "side", "status", "strategy_id")

    def __init__(self, client_id: str, instrument: Instrument, side: Side, kind: OrderKind, quantity: int,
                 price: int | None, created_ns: int, strategy_id: str = "") -> None:
        if not client_id:
            raise OrderError("client_id must be non-empty")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise OrderError(f"{client_id}: quantity must be a positive fixed-point int, got {quantity!r}")
        if quantity % instrument.lot_size:
            raise OrderError(f"{client_id}: quantity {quantity} is not a multiple of lot {instrument.lot_size}")
        if kind is OrderKind.MARKET:
            if price is not None:
                raise OrderError(f"{client_id}: a market order has no price")
        elif price is None or isinstance(price, bool) or not isinstance(price, int) or price <= 0:
            raise OrderError(f"{client_id}: a {kind.value} order needs a positive fixed-point price, got {price!r}")
        elif price % instrument.tick_size:
            raise OrderError(f"{client_id}: price {price} is not a multiple of tick {instrument.tick_size}")
        self.client_id = client_id
        self.instrument = instrument
        self.side = side
        self.kind = kind
        self.quantity = quantity
        self.price = price
        self.created_ns = created_ns
        self.strategy_id = strategy_id
        self.status = OrderStatus.NEW
        self.filled = 0
        self.notional = 0  # sum price*size of fills (exact)
        self.fees = 0.0

    @property
    def leaves(self) -> int:
        """Size still open."""
        return self.quantity - self.filled

    def avg_price(self) -> float | None:
        """Average fill price (float), None before the first fill."""
        if not self.filled:
            return None
        return self.notional / self.filled / self.instrument.price_scale

    def transition(self, status: OrderStatus, ts_ns: int, reason: str = "") -> OrderEvent:
        """Move to `status` if the state machine allows it; returns the event describing the change."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"{self.client_id}: {self.status.value} -> {status.value} is not allowed")
        prev, self.status = self.status, status
        return OrderEvent(self.client_id, self.instrument.key, prev, status, self.filled, self.leaves, ts_ns, reason)

    def add_fill(self, price: int, size: int, fee: float, ts_ns: int) -> OrderEvent:
        """Book a fill and move to partially filled / filled."""
        if size <= 0 or size > self.leaves:
            raise OrderError(f"{self.client_id}: fill of {size} with {self.leaves} open")
        if self.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            raise IllegalTransition(f"{self.client_id}: fill while {self.status.value}")
        self.filled += size
        self.notional += price * size
        self.fees += fee
        return self.transition(OrderStatus.FILLED if self.leaves == 0 else OrderStatus.PARTIALLY_FILLED, ts_ns)


class ClientIdGenerator:
    """Unique, deterministic client order ids: `<prefix>-<n>`; a duplicate is refused, never reused."""

    def __init__(self, prefix: str = "k") -> None:
        if not prefix or not prefix.replace("_", "").isalnum():
            raise OrderError(f"client id prefix must be alphanumeric, got {prefix!r}")
        self.prefix = prefix
        self.n = 0
        self.seen: set[str] = set()

    def next(self) -> str:
        """A fresh id."""
        self.n += 1
        cid = f"{self.prefix}-{self.n}"
        self.claim(cid)
        return cid

    def claim(self, cid: str) -> None:
        """Register an id (e.g. rebuilt from the journal); raise if it was already used."""
        if cid in self.seen:
            raise OrderError(f"duplicate client order id {cid!r}")
        self.seen.add(cid)
