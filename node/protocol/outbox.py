"""What one link still has to send, in priority order, under its transmit budget.

Control frames (takedowns, requests, adverts, status) are kept as ready bytes, one per tag, so
a newer advert replaces an older one. Answers to requests are kept as *serve jobs*: sets of
manifest-piece and chunk indices per work, rendered only at the moment the link may transmit.
That keeps memory small and lets an overheard copy cancel a queued answer (Deluge-style).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from node.protocol.config import LinkConfig
from node.protocol.fairness import AnswerCredits
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


MAX_REQUESTERS_PER_JOB = 32


@dataclass
class Owed:
    """What one requester still lacks from this holder: a chunk mask and how many frames it needs."""

    mask: int
    need: int


@dataclass
class ServeJob:
    """Pieces and chunks of one work this node has promised to broadcast on a link.

    Chunks are owed per requester (its hole mask and the number of frames it still needs), so
    the job can send the union of holes plainly, or XOR combinations when that is fewer frames.
    """

    short_id: bytes
    not_before: float
    seq: int
    pieces: set[int] = field(default_factory=set)
    owed: dict[str, Owed] = field(default_factory=dict)
    can_code: bool = False  # the holder has every chunk
    next_seed: int = 0
    chunk_count: int = 0
    cursor: int = 0  # plain chunks go out in a round from here, so a repeated request cannot restart at 0

    def next_index(self) -> int:
        """The owed chunk to send next: the first at or after the cursor, else the first of all."""
        union = self.union()
        ahead = union >> self.cursor << self.cursor
        pick = ahead or union
        return (pick & -pick).bit_length() - 1

    def __bool__(self) -> bool:
        return bool(self.pieces or self.owed)

    def union(self) -> int:
        """Every chunk some requester lacks, as a mask."""
        out = 0
        for owed in self.owed.values():
            out |= owed.mask
        return out

    def wants_coded(self) -> bool:
        """True when XOR combinations need fewer frames than sending the union of holes."""
        if not self.can_code or len(self.owed) < 2:
            return False
        return max(o.need for o in self.owed.values()) < self.union().bit_count()

    def served(self, mask: int, coded: bool) -> None:
        """A frame covering ``mask`` went out (ours or a neighbour's): update what is owed."""
        for key in list(self.owed):
            owed = self.owed[key]
            if owed.mask & mask:
                owed.need -= 1
                if not coded:
                    owed.mask &= ~mask
                if owed.need <= 0 or not owed.mask:
                    del self.owed[key]


@dataclass(frozen=True)
class Candidate:
    """The next thing a link could send: a ready frame, or one piece/chunk of a serve job."""

    priority: int
    not_before: float
    seq: int
    frame: QueuedFrame | None = None
    short_id: bytes = b""
    index: int = -1
    coded: bool = False


class LinkOutbox:
    """Queue and budget of one link."""

    def __init__(self, link: LinkConfig, max_control: int, now: float,
                 credits: AnswerCredits | None = None) -> None:
        self.link = link
        self.max_control = max_control
        self.credits = credits if credits is not None else AnswerCredits(3.0, 3600.0, 256)
        self._controls: dict[Hashable, QueuedFrame] = {}
        self._jobs: dict[bytes, ServeJob] = {}
        self._seq = 0
        self.blocked_until = -math.inf
        self._ledger: AirtimeLedger | None = None
        self._bucket: TokenBucket | None = None
        if link.kind == "lora":
            self._ledger = AirtimeLedger(link.airtime_limit_s)
        else:
            rate = link.rate_bytes_per_s
            self._bucket = TokenBucket(rate, max(2 * rate, 4 * MAX_FRAME), now)

    def _next_seq(self) -> int:
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
        self._controls[tag] = QueuedFrame(tag, data, priority, not_before, self._next_seq())

    def cancel(self, tag: Hashable) -> bool:
        """Remove a queued control frame; True if there was one."""
        return self._controls.pop(tag, None) is not None

    def has(self, tag: Hashable) -> bool:
        """True when a control frame with ``tag`` is queued."""
        return tag in self._controls

    # -- serve jobs -----------------------------------------------------------------------

    def _job(self, short_id: bytes, not_before: float) -> ServeJob:
        job = self._jobs.get(short_id)
        if job is None or not job:
            job = ServeJob(short_id, not_before, self._next_seq())
            self._jobs[short_id] = job
        return job

    def serve_pieces(self, short_id: bytes, pieces: Iterable[int], not_before: float) -> None:
        """Promise manifest pieces; a job already waiting keeps its start time."""
        job = self._job(short_id, not_before)
        job.pieces.update(pieces)
        if not job:
            del self._jobs[short_id]

    def serve_chunks(self, short_id: bytes, requester: str, mask: int, need: int, not_before: float, *,
                     chunk_count: int = 0, can_code: bool = False, seed: int = 0) -> bool:
        """Owe ``requester`` the chunks in ``mask`` (``need`` frames); replaces its older entry.

        With ``chunk_count`` given, the requester's answer credit for the work is checked first:
        False (nothing owed) when it has had its share of passes over this work lately.
        """
        if chunk_count and not self.credits.allows(requester, short_id, chunk_count, not_before):
            job = self._jobs.get(short_id)
            if job is not None:
                job.owed.pop(requester, None)
                if not job:
                    del self._jobs[short_id]
            return False
        job = self._job(short_id, not_before)
        if not job.owed:
            job.next_seed = seed
        job.can_code = can_code
        job.chunk_count = max(job.chunk_count, chunk_count)
        job.owed.pop(requester, None)
        if mask and need > 0:
            job.owed[requester] = Owed(mask, need)
            while len(job.owed) > MAX_REQUESTERS_PER_JOB:
                del job.owed[next(iter(job.owed))]
        if not job:
            del self._jobs[short_id]
        return True

    def charge_answer(self, short_id: bytes, mask: int, now: float) -> None:
        """Our frame covering ``mask`` is going out: charge the requesters it serves (1/k each)."""
        job = self._jobs.get(short_id)
        if job is None or not job.chunk_count:
            return
        served = [r for r, owed in job.owed.items() if owed.mask & mask]
        for requester in self.credits.charge(served, short_id, job.chunk_count, now):
            del job.owed[requester]  # had its share: serve the others
        if not job:
            del self._jobs[short_id]

    def heard(self, short_id: bytes, *, piece: int | None = None, chunks: int = 0, coded: bool = False,
              holdoff_until: float = -math.inf, now: float | None = None) -> None:
        """Another node sent this piece, chunk or combination: do not repeat it; let that sender go on.

        With ``now`` given, the requesters it served are charged as if we had sent it: the channel
        served them, so several holders in earshot share one budget per requester.
        """
        if chunks and now is not None:
            self.charge_answer(short_id, chunks, now)
        job = self._jobs.get(short_id)
        if job is None:
            return
        if piece is not None:
            job.pieces.discard(piece)
        if chunks:
            job.served(chunks, coded)
        if not job:
            del self._jobs[short_id]
        else:
            job.not_before = max(job.not_before, holdoff_until)

    def sent_coded(self, short_id: bytes, mask: int, seed: int) -> None:
        """Our combination ``seed`` covering ``mask`` went out."""
        job = self._jobs.get(short_id)
        if job is None:
            return
        job.served(mask, coded=True)
        job.next_seed = (seed + 1) & 0xFFFF
        if not job:
            del self._jobs[short_id]

    def job(self, short_id: bytes) -> ServeJob | None:
        """The serve job of a work on this link."""
        return self._jobs.get(short_id)

    def drop_work(self, short_id: bytes) -> None:
        """Forget everything queued for one work (taken down)."""
        self._jobs.pop(short_id, None)
        for tag in [t for t, f in self._controls.items() if isinstance(t, tuple) and short_id in t]:
            del self._controls[tag]

    def pending_items(self) -> int:
        """Frames waiting (control frames plus promised pieces and chunks)."""
        return len(self._controls) + sum(len(j.pieces) + j.union().bit_count() for j in self._jobs.values())

    def serving(self, short_id: bytes) -> bool:
        """True while a serve job for the work has something left."""
        return short_id in self._jobs

    # -- choosing and budgeting -----------------------------------------------------------

    def candidates(self) -> list[Candidate]:
        """Everything that could go next, most important first (ignoring time and budget)."""
        out = [Candidate(f.priority, f.not_before, f.seq, frame=f) for f in self._controls.values()]
        for job in self._jobs.values():
            if job.pieces:
                out.append(Candidate(PRIO_MANIFEST, job.not_before, job.seq, short_id=job.short_id,
                                     index=min(job.pieces)))
            elif job.wants_coded():
                out.append(Candidate(PRIO_DATA, job.not_before, job.seq, short_id=job.short_id, coded=True))
            else:
                out.append(Candidate(PRIO_DATA, job.not_before, job.seq, short_id=job.short_id,
                                     index=job.next_index()))
        out.sort(key=lambda c: (c.priority, c.not_before, c.seq))
        return out

    def consume(self, cand: Candidate) -> None:
        """The candidate was sent (or turned out impossible): take it off the queue."""
        if cand.frame is not None:
            self._controls.pop(cand.frame.tag, None)
            return
        job = self._jobs.get(cand.short_id)
        if job is None:
            return
        if cand.priority == PRIO_MANIFEST:
            job.pieces.discard(cand.index)
        elif cand.coded:
            job.owed.clear()  # nothing could be rendered: drop what was owed
        else:
            job.served(1 << cand.index, coded=False)
            job.cursor = cand.index + 1
        if not job:
            del self._jobs[cand.short_id]

    def budget_time(self, size: int, now: float) -> float:
        """Earliest time >= ``now`` the budget allows a ``size``-byte frame."""
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
