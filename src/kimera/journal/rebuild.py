"""Rebuild a run's trading state from its journal alone: orders, fills, positions and cash.

The fold is checked as it goes: a fill id seen twice, a transition from a state the order is not in, or
a position record that does not equal the previous position plus the fill is a `JournalError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kimera.journal.sqlite import Journal, JournalError


@dataclass
class RebuiltState:
    """Orders (status, filled), positions (signed fixed-point size), cash change, fees and fill ids."""

    orders: dict[str, tuple[str, int]] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    cash_delta: float = 0.0
    fees: float = 0.0
    fill_ids: list[int] = field(default_factory=list)
    fills: list[tuple[int, str, int, int, int]] = field(default_factory=list)  # fill_id, cid, side, price, size
    rejects: int = 0
    last_event_idx: int = -1
    unbooked_fills: list[int] = field(default_factory=list)  # journaled fills whose position change was not

    def open_orders(self) -> list[str]:
        """Client ids of orders not yet in a terminal state."""
        done = {"filled", "cancelled", "rejected", "expired"}
        return [cid for cid, (st, _) in self.orders.items() if st not in done]


def rebuild(source: str | Path | Journal) -> RebuiltState:
    """Fold every record of a journal (path or open `Journal`) into a `RebuiltState`."""
    j = source if isinstance(source, Journal) else Journal(source)
    st = RebuiltState()
    pending_fill: dict[int, tuple[str, int, int]] = {}
    try:
        for r in j.records():
            b = r.body
            st.last_event_idx = r.event_idx
            if r.kind == "order":
                if b["cid"] in st.orders:
                    raise JournalError(f"record {r.seq}: order {b['cid']} created twice")
                st.orders[b["cid"]] = ("new", 0)
            elif r.kind == "transition":
                cur = st.orders.get(b["cid"])
                if cur is None or cur[0] != b["prev"]:
                    raise JournalError(f"record {r.seq}: {b['cid']} moves from {b['prev']} but is {cur}")
                st.orders[b["cid"]] = (b["status"], b["filled"])
            elif r.kind == "fill":
                fid = b["fill_id"]
                if fid in pending_fill or fid in st.fill_ids:
                    raise JournalError(f"record {r.seq}: fill {fid} journaled twice")
                st.fill_ids.append(fid)
                st.fills.append((fid, b["cid"], b["side"], b["price"], b["size"]))
                pending_fill[fid] = (b["inst"], b["side"] * b["size"], 0)
            elif r.kind == "position":
                fid = b["fill_id"]
                if fid not in pending_fill:
                    raise JournalError(f"record {r.seq}: position change for unknown or already booked fill {fid}")
                inst, signed, _ = pending_fill.pop(fid)
                expected = st.positions.get(inst, 0) + signed
                if b["qty"] != expected or b["inst"] != inst:
                    raise JournalError(f"record {r.seq}: position {b['qty']} != {expected} after fill {fid}")
                st.positions[inst] = b["qty"]
                st.cash_delta += b["cash_delta"]
                st.fees += b["fee"]
            elif r.kind == "reject":
                st.rejects += 1
        st.unbooked_fills = sorted(pending_fill)
    finally:
        if not isinstance(source, Journal):
            j.close()
    return st
