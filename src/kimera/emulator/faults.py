"""Fault injection for the emulator: what happens to the n-th book message on its way to each client.

Faults are keyed by the emulator's global book-message sequence number (0 = the first book update it
publishes), so a plan is deterministic, fires once, and does not repeat after a client reconnects.
Every fault that fires is recorded (`Injected`) so tests can check that each one was detected.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum


class FaultKind(Enum):
    """What the emulator does to one outgoing book message."""

    DROP = "drop"  # never sent
    DUPLICATE = "duplicate"  # sent twice
    REORDER = "reorder"  # held back and sent after the next book message
    CORRUPT_CHECKSUM = "corrupt_checksum"  # sent with a wrong checksum (venues that send one)
    CLOSE = "close"  # the connection is closed instead of sending it
    STALL = "stall"  # nothing is sent on the connection for `duration_s` (messages meanwhile are lost)


@dataclass(frozen=True)
class Fault:
    """One planned fault at book message `at`."""

    kind: FaultKind
    at: int
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.at < 0:
            raise ValueError(f"fault position must be >= 0, got {self.at}")
        if self.kind is FaultKind.STALL and self.duration_s <= 0:
            raise ValueError("a STALL fault needs duration_s > 0")


@dataclass(frozen=True)
class Injected:
    """A fault that actually fired: which connection, which message, which venue update id."""

    kind: FaultKind
    at: int
    connection: int
    update_id: int


@dataclass
class FaultPlan:
    """Planned faults by book-message number, and the log of the ones that fired. A fault planned at a
    message that reaches no subscriber fires at the next one that does (`Hub.next_book_seq`)."""

    faults: dict[int, Fault] = field(default_factory=dict)
    injected: list[Injected] = field(default_factory=list)

    @classmethod
    def of(cls, *faults: Fault) -> FaultPlan:
        """A plan from explicit faults (one per position)."""
        plan = cls()
        for f in faults:
            if f.at in plan.faults:
                raise ValueError(f"two faults planned at book message {f.at}")
            plan.faults[f.at] = f
        return plan

    @classmethod
    def random(cls, kinds: list[FaultKind], count: int, first: int, last: int, seed: int = 1,
               stall_s: float = 1.0, min_gap: int = 50) -> FaultPlan:
        """`count` faults of the given kinds at distinct positions in [first, last], at least `min_gap` apart."""
        if not kinds or count <= 0:
            return cls()
        if (last - first) // max(min_gap, 1) < count:
            raise ValueError(f"cannot place {count} faults {min_gap} apart in [{first}, {last}]")
        rng = random.Random(seed)
        slots = sorted(rng.sample(range((last - first) // min_gap), count))
        faults = [Fault(kinds[i % len(kinds)], first + s * min_gap + rng.randrange(min_gap // 2 + 1),
                        stall_s if kinds[i % len(kinds)] is FaultKind.STALL else 0.0)
                  for i, s in enumerate(slots)]
        return cls.of(*faults)

    def at(self, seq: int) -> Fault | None:
        """The fault planned for book message `seq`, if any."""
        return self.faults.get(seq)

    def defer(self, seq: int, to: int) -> None:
        """Move the fault planned at book message `seq` (if any) to the first free position >= `to` (it keeps
        its planned `at`, which the log of fired faults reports)."""
        fault = self.faults.pop(seq, None)
        if fault is None:
            return
        while to in self.faults:
            to += 1
        self.faults[to] = fault

    def record(self, fault: Fault, connection: int, update_id: int) -> None:
        """Log a fault that fired."""
        self.injected.append(Injected(fault.kind, fault.at, connection, update_id))

    def fired(self, kind: FaultKind | None = None) -> list[Injected]:
        """Faults that fired (optionally of one kind)."""
        return [i for i in self.injected if kind is None or i.kind is kind]
