"""Fault plans describe what a client sees: a fault planned at a book message nobody receives moves on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from aiohttp import web

from kimera.emulator import Fault, FaultKind, FaultPlan
from kimera.emulator.hub import Connection, Hub


@dataclass
class _Recording(Connection):
    """A connection that keeps what it was sent instead of writing to a socket."""

    got: list[str] = field(default_factory=list)

    def send(self, text: str) -> None:
        self.got.append(text)


def _conn() -> _Recording:
    return _Recording(cast(web.WebSocketResponse, None))


def test_a_fault_no_subscriber_received_fires_at_the_next_delivered_book_message() -> None:
    hub = Hub(FaultPlan.of(Fault(FaultKind.DROP, 1), Fault(FaultKind.DUPLICATE, 3)))
    for _ in range(3):  # messages 0, 1, 2 published while nobody is connected
        hub.next_book_seq()
    assert sorted(hub.faults.faults) == [2, 3]  # the DROP planned at 1 moved on to 2
    conn = _conn()
    seq = hub.next_book_seq()  # 3: message 2 reached nobody either; the DROP waits behind the DUPLICATE at 3
    assert seq == 3 and sorted(hub.faults.faults) == [3, 4]
    hub.deliver(conn, "m3", seq, update_id=103)
    seq = hub.next_book_seq()
    hub.deliver(conn, "m4", seq, update_id=104)
    fired = [(f.kind, f.at, f.update_id) for f in hub.faults.injected]
    assert fired == [(FaultKind.DUPLICATE, 3, 103), (FaultKind.DROP, 1, 104)]
    assert conn.got == ["m3", "m3"]  # duplicated, then the deferred DROP swallowed m4


def test_a_delivered_message_keeps_its_fault_in_place() -> None:
    hub = Hub(FaultPlan.of(Fault(FaultKind.DROP, 1)))
    conn = _conn()
    for k in range(3):
        hub.deliver(conn, f"m{k}", hub.next_book_seq(), update_id=k)
    assert conn.got == ["m0", "m2"] and [f.update_id for f in hub.faults.injected] == [1]
