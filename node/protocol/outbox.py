"""One link's control-frame queue and transmit budget.

Control frames that belong to no work transfer (takedowns, adverts, status beacons) are kept
as ready bytes, one per tag, so a newer advert replaces an older one. Requests and answers live
with their work (:mod:`node.protocol.transfer`); the engine merges all of them into one
priority order per link (:class:`Candidate`). The budget is the rolling-hour airtime ledger of
a LoRa link or the byte token bucket of an IP link.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum

from node.protocol.config import LinkConfig
from node.protocol.frames import MAX_FRAME
from node.protocol.ledger import AirtimeLedger, TokenBucket

PRIO_TAKEDOWN = 0
PRIO_REQUEST = 1
PRIO_ADVERT = 2
PRIO_STATUS = 3
PRIO_MANIFEST = 4
PRIO_DATA = 5


@dataclass
class QueuedFrame:
    """A ready control frame."""

    tag: Hashable
    data: bytes
    priority: int
    not_before: float
    seq: int


class Source(Enum):
    """Where a candidate frame comes from."""

    CONTROL = "control"  # a queued control frame (``tag``)
    REQUEST = "request"  # a work's queued request
    PIECE = "piece"  # a manifest piece of a serve job (``index``)
    CHUNK = "chunk"  # a plain chunk of a serve job (``index``)
    CODED = "coded"  # an XOR combination of a serve job


@dataclass(frozen=True)
class Candidate:
    """The next thing a link could send, with the size it will have on the wire."""

    priority: int
    not_before: float
    seq: int
    size: int
    source: Source
    tag: Hashable = None
    short_id: bytes = b""
    index: int = -1
    rank: tuple[int, bytes] = (0, b"")  # a work's place in publishing order
    fair: int = 0  # answers: how much of its budget the least-served requester has used, in quanta

    def order(self) -> tuple[int, int, int, tuple[int, bytes], float, int]:
        """The sort key: control frames by priority; answers round-robin (the least-served
        requester first), then manifests before data, publishing order, start time, first come."""
        return min(self.priority, PRIO_MANIFEST), self.fair, self.priority, self.rank, self.not_before, self.seq


class LinkOutbox:
    """Control queue and budget of one link."""

    def __init__(self, link: LinkConfig, max_control: int, now: float) -> None:
        self.link = link
        self.max_control = max_control
        self._controls: dict[Hashable, QueuedFrame] = {}
        self._seq = 0
        self.blocked_until = -math.inf
        self._ledger: AirtimeLedger | None = None
        self._bucket: TokenBucket | None = None
        if link.kind == "lora":
            self._ledger = AirtimeLedger(link.airtime_limit_s)
        else:
            rate = link.rate_bytes_per_s
            self._bucket = TokenBucket(rate, max(2 * rate, 4 * MAX_FRAME), now)

    def next_seq(self) -> int:
        """A rising number that orders frames queued at the same time and priority."""
        self._seq += 1
        return self._seq

    # -- control frames -------------------------------------------------------------------

    def put(self, tag: Hashable, data: bytes, priority: int, not_before: float) -> None:
        """Queue a control frame, replacing any frame with the same tag."""
        self._controls.pop(tag, None)
        if len(self._controls) >= self.max_control:
            # full: the least important, latest frame gives way (adverts/status are regenerated)
            victim = max(self._controls.values(), key=lambda f: (f.priority, f.not_before, f.seq))
            if (victim.priority, victim.not_before) < (priority, not_before):
                return
            del self._controls[victim.tag]
        self._controls[tag] = QueuedFrame(tag, data, priority, not_before, self.next_seq())

    def cancel(self, tag: Hashable) -> bool:
        """Remove a queued control frame; True if there was one."""
        return self._controls.pop(tag, None) is not None

    def cancel_where(self, predicate: Callable[[Hashable], bool]) -> None:
        """Remove every queued control frame whose tag matches."""
        for tag in [t for t in self._controls if predicate(t)]:
            del self._controls[tag]

    def control(self, tag: Hashable) -> QueuedFrame | None:
        """The queued control frame with ``tag``."""
        return self._controls.get(tag)

    def control_candidates(self) -> list[Candidate]:
        """The queued control frames as candidates."""
        return [Candidate(f.priority, f.not_before, f.seq, len(f.data), Source.CONTROL, tag=f.tag)
                for f in self._controls.values()]

    def pending_controls(self) -> int:
        """Control frames waiting."""
        return len(self._controls)

    # -- budget ---------------------------------------------------------------------------

    def budget_time(self, size: int, now: float) -> float:
        """Earliest time >= ``now`` the budget allows a ``size``-byte frame (a pure query)."""
        start = max(now, self.blocked_until)
        if self._ledger is not None:
            return self._ledger.available_at(self.link.frame_cost(size), start)
        assert self._bucket is not None
        return self._bucket.available_at(size, start)

    def charge(self, size: int, now: float) -> None:
        """Book a frame that is being handed to the radio now."""
        if self._ledger is not None:
            self._ledger.record(self.link.frame_cost(size), now)
        elif self._bucket is not None:
            self._bucket.take(size, now)

    def refund(self, size: int, now: float) -> None:
        """Undo :meth:`charge` for a frame the radio refused."""
        if self._ledger is not None:
            self._ledger.refund(self.link.frame_cost(size), now)
        elif self._bucket is not None:
            self._bucket.give_back(size)

    def airtime_used(self, now: float) -> float:
        """Airtime on the ledger's books (0 for IP links)."""
        return self._ledger.used(now) if self._ledger is not None else 0.0

    @property
    def ledger(self) -> AirtimeLedger | None:
        """The airtime ledger of a LoRa link."""
        return self._ledger
