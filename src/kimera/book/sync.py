"""Sequence-number sync: buffer diffs until a snapshot, drop stale ones, detect gaps, resync.

One state machine (`SyncedBook`) shared by every venue; each venue only declares its `SequenceRule`.
A broken chain or a checksum mismatch never passes silently: the book is marked untrusted, the gap is
counted, and diffs are buffered until the next snapshot, after which the buffer is replayed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from enum import Enum

from kimera.book.orderbook import OrderBook
from kimera.model import BookDelta, BookSnapshot, Instrument


class SyncStatus(Enum):
    """What happened to one delta."""

    APPLIED = "applied"
    BUFFERED = "buffered"  # no trusted snapshot yet: kept for replay after the next one
    STALE = "stale"  # older than the book: dropped, as the venue's rule says
    GAP = "gap"  # broken chain or bad checksum: book untrusted until resync


class SequenceRule:
    """How a venue chains diffs. Subclasses answer three questions about one delta."""

    name = "abstract"
    replay_buffered = True  # ids order buffered deltas against a snapshot, so they can be replayed after it

    def is_stale(self, snapshot_id: int, d: BookDelta) -> bool:
        """True if `d` is entirely covered by the snapshot (drop it)."""
        return d.last_update_id <= snapshot_id

    def first_ok(self, snapshot_id: int, d: BookDelta) -> bool:
        """True if `d` may be the first delta applied on top of the snapshot."""
        raise NotImplementedError

    def next_ok(self, prev_last_id: int, d: BookDelta) -> bool:
        """True if `d` follows directly after a delta whose last id was `prev_last_id`."""
        raise NotImplementedError


class BinanceSpotRule(SequenceRule):
    """Binance spot diff depth: first `U <= lastUpdateId+1 <= u`, then `U == previous u + 1`."""

    name = "binance-spot"

    def first_ok(self, snapshot_id: int, d: BookDelta) -> bool:
        return d.first_update_id <= snapshot_id + 1 <= d.last_update_id

    def next_ok(self, prev_last_id: int, d: BookDelta) -> bool:
        return d.first_update_id == prev_last_id + 1


class BinanceFuturesRule(SequenceRule):
    """Binance USD-M: drop `u < lastUpdateId`; first `U <= lastUpdateId <= u`; then `pu == previous u`."""

    name = "binance-usdm"

    def is_stale(self, snapshot_id: int, d: BookDelta) -> bool:
        return d.last_update_id < snapshot_id

    def first_ok(self, snapshot_id: int, d: BookDelta) -> bool:
        return d.first_update_id <= snapshot_id <= d.last_update_id

    def next_ok(self, prev_last_id: int, d: BookDelta) -> bool:
        return d.prev_update_id == prev_last_id


class ContiguousRule(SequenceRule):
    """Each message carries one id (`last_update_id`) that must grow by exactly one (e.g. Bybit `u`)."""

    name = "contiguous"

    def first_ok(self, snapshot_id: int, d: BookDelta) -> bool:
        return d.last_update_id == snapshot_id + 1

    def next_ok(self, prev_last_id: int, d: BookDelta) -> bool:
        return d.last_update_id == prev_last_id + 1


class PrevIdRule(SequenceRule):
    """Each message names its predecessor (`prev_update_id`, e.g. OKX prevSeqId == previous seqId)."""

    name = "prev-id"

    def first_ok(self, snapshot_id: int, d: BookDelta) -> bool:
        return d.prev_update_id == snapshot_id

    def next_ok(self, prev_last_id: int, d: BookDelta) -> bool:
        return d.prev_update_id == prev_last_id


class UnorderedRule(SequenceRule):
    """A venue with no sequence ids (e.g. Coinbase level2, Kraken book): every delta follows; checksums
    (where the venue sends them) are the integrity check."""

    name = "unordered"
    replay_buffered = False  # no ids: deltas received while untrusted cannot be placed against the next snapshot

    def is_stale(self, snapshot_id: int, d: BookDelta) -> bool:
        return False

    def first_ok(self, snapshot_id: int, d: BookDelta) -> bool:
        return True

    def next_ok(self, prev_last_id: int, d: BookDelta) -> bool:
        return True


ChecksumFn = Callable[[OrderBook], int]


class SyncedBook:
    """A book plus its sync state. Feed it snapshots and deltas in arrival order.

    `trusted` is True only between a snapshot (with a valid first delta, or none yet) and the next gap.
    """

    def __init__(
        self,
        instrument: Instrument,
        rule: SequenceRule,
        checksum: ChecksumFn | None = None,
        max_buffer: int = 100_000,
        max_depth: int | None = None,
    ) -> None:
        self.book = OrderBook(instrument)
        self.rule = rule
        self.checksum = checksum
        self.trusted = False
        self.snapshot_id = -1
        self._need_first = True  # the next applied delta is the first after the snapshot
        self._buffer: deque[BookDelta] = deque()
        self.max_buffer = max_buffer
        self.max_depth = max_depth  # venues that send no deletes beyond a subscribed depth (Kraken): truncate
        self.gaps = 0
        self.checksum_failures = 0
        self.resyncs = 0
        self.snapshots = 0
        self.deltas_applied = 0
        self.stale_dropped = 0
        self.buffer_overflow = 0
        self.last_gap: str | None = None

    @property
    def buffered(self) -> int:
        """Deltas waiting for a snapshot."""
        return len(self._buffer)

    def on_snapshot(self, snap: BookSnapshot) -> None:
        """Load a snapshot, then replay buffered deltas on top of it."""
        if self.snapshots and not self.trusted:
            self.resyncs += 1
        self.snapshots += 1
        self.book.apply_snapshot(snap)
        if self.max_depth is not None:
            self.book.truncate(self.max_depth)
        self.snapshot_id = snap.update_id
        self._need_first = True
        if snap.checksum is not None and self.checksum is not None:  # venues that checksum snapshots (OKX)
            mine = self.checksum(self.book)
            if mine != snap.checksum:
                self.checksum_failures += 1
                self.gaps += 1
                self.trusted = False
                self.last_gap = f"checksum mismatch on snapshot {snap.update_id}: ours {mine}, venue {snap.checksum}"
                return
        self.trusted = True
        pending, self._buffer = self._buffer, deque()
        for d in pending:
            if self.on_delta(d) is SyncStatus.GAP:
                # a gap inside the buffered range: keep buffering what remains for the next snapshot
                continue

    def on_delta(self, d: BookDelta) -> SyncStatus:
        """Apply `d` if it continues the chain; otherwise buffer, drop or flag a gap."""
        if not self.trusted:
            if not self.rule.replay_buffered:
                self.stale_dropped += 1  # the next (in-band) snapshot supersedes it
                return SyncStatus.STALE
            if len(self._buffer) >= self.max_buffer:
                self._buffer.popleft()
                self.buffer_overflow += 1
            self._buffer.append(d)
            return SyncStatus.BUFFERED
        rule = self.rule
        if self._need_first:
            if rule.is_stale(self.snapshot_id, d):
                self.stale_dropped += 1
                return SyncStatus.STALE
            ok = rule.first_ok(self.snapshot_id, d)
        else:
            ok = rule.next_ok(self.book.last_update_id, d)
        if not ok:
            expected = self.snapshot_id if self._need_first else self.book.last_update_id
            return self._gap(
                d,
                f"{rule.name}: delta {d.first_update_id}..{d.last_update_id} (prev {d.prev_update_id}) "
                f"does not follow {expected}",
            )
        self.book.apply_delta(d)
        if self.max_depth is not None:
            self.book.truncate(self.max_depth)
        self._need_first = False
        self.deltas_applied += 1
        if d.checksum is not None and self.checksum is not None:
            mine = self.checksum(self.book)
            if mine != d.checksum:
                self.checksum_failures += 1
                return self._gap(d, f"checksum mismatch after update {d.last_update_id}: ours {mine}, venue {d.checksum}")
        return SyncStatus.APPLIED

    def invalidate(self, why: str) -> None:
        """Mark the book untrusted from outside (e.g. the stream broke): deltas wait for the next snapshot."""
        self.trusted = False
        self.last_gap = why

    def _gap(self, d: BookDelta, why: str) -> SyncStatus:
        self.gaps += 1
        self.trusted = False
        self.last_gap = why
        if self.rule.replay_buffered:
            self._buffer.append(d)
        return SyncStatus.GAP
