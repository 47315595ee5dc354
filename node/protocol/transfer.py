"""One work's transfer, and the bounded table of them.

A :class:`WorkTransfer` is everything this node keeps about one work it is fetching or serving,
keyed by the short id the frames carry: the want (:class:`Fetch`), manifests being reassembled,
the coded-repair decoder, chunks overheard before the manifest verified, the request queued per
link, and per link what this node owes requesters (:class:`ServeJob`). Forgetting a work is one
call, :meth:`TransferTable.forget`.

Short ids are heard on the air, i.e. chosen by anyone, so the table caps each kind of state
globally (and unverified wants and assemblies per neighbour too) and evicts the least recently
used first. Iteration is over insertion-ordered dicts, never sets.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from node.artwork.chunks import expected_chunk_len
from node.protocol.coding import Decoder
from node.protocol.frames import DATA_MAX, MANIFEST_PIECE_MAX, MAX_FRAME, ManifestPiece

DATA_HEADER = MAX_FRAME - DATA_MAX
MANIFEST_HEADER = MAX_FRAME - MANIFEST_PIECE_MAX
MAX_REQUESTERS_PER_JOB = 32
MAX_LENGTHS_PER_WORK = 2  # manifest lengths assembled at once for one short id


@dataclass
class Fetch:
    """This node lacks the work (fully or partly) and is asking for it."""

    neighbour: str  # who first made us want it; unverified wants count against them
    created: float
    next_request: float = math.inf
    attempts: int = 0
    links: dict[str, float] = field(default_factory=dict)  # link -> last time a source was heard
    last_progress: float = -math.inf  # when something new of the work last arrived
    source_margin: float = -math.inf  # dB above the floor of the best recent source of new data
    source_at: float = -math.inf  # when that source last brought something new
    suppressed_by: str | None = None  # the neighbour whose overheard request made us hold ours back
    suppressed_at: float = -math.inf  # since when (no progress since)


@dataclass
class Assembly:
    """A manifest arriving piece by piece."""

    total_len: int
    neighbour: str
    used: int
    pieces: dict[int, bytes] = field(default_factory=dict)

    @property
    def piece_count(self) -> int:
        """How many pieces the manifest has."""
        return ManifestPiece.piece_count(self.total_len)

    def missing(self) -> list[int]:
        """Indices of pieces not yet received."""
        return [i for i in range(self.piece_count) if i not in self.pieces]

    def add(self, index: int, data: bytes) -> bool:
        """Store a piece; True if it was new."""
        if index in self.pieces:
            return False
        self.pieces[index] = data
        return True

    def assembled(self) -> bytes | None:
        """The whole manifest once every piece is in."""
        if len(self.pieces) < self.piece_count:
            return None
        return b"".join(self.pieces[i] for i in range(self.piece_count))


@dataclass
class PendingRequest:
    """A REQUEST frame queued on one link."""

    data: bytes
    not_before: float
    seq: int


@dataclass
class Owed:
    """What one requester still lacks from this holder: a chunk mask and how many frames it needs."""

    mask: int
    need: int
    identity: str | None = None  # the requester's beacon key (hex) where bound


@dataclass
class ServeJob:
    """Pieces and chunks of one work this node has promised to broadcast on one link.

    Chunks are owed per requester (its hole mask and the number of frames it still needs), so
    the job can send the union of holes plainly, or XOR combinations when that is fewer frames.
    The job knows the work's sizes, so the size of its next frame needs no store read.
    """

    not_before: float
    seq: int
    manifest_len: int
    content_size: int
    chunk_count: int
    pieces: set[int] = field(default_factory=set)
    piece_requesters: dict[str, str | None] = field(default_factory=dict)  # requester -> identity
    owed: dict[str, Owed] = field(default_factory=dict)
    can_code: bool = False  # the holder has every chunk
    next_seed: int = 0
    cursor: int = 0  # plain chunks go out in a round from here, so a repeated request cannot restart at 0

    def __bool__(self) -> bool:
        return bool(self.pieces or self.owed)

    def union(self) -> int:
        """Every chunk some requester lacks, as a mask."""
        out = 0
        for owed in self.owed.values():
            out |= owed.mask
        return out

    def next_index(self) -> int:
        """The owed chunk to send next: the first at or after the cursor, else the first of all."""
        union = self.union()
        ahead = union >> self.cursor << self.cursor
        pick = ahead or union
        return (pick & -pick).bit_length() - 1

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

    def owe(self, requester: str, mask: int, need: int, identity: str | None = None) -> None:
        """``requester`` lacks ``mask`` (``need`` frames); replaces its older entry."""
        self.owed.pop(requester, None)
        if mask and need > 0:
            self.owed[requester] = Owed(mask, need, identity)
            while len(self.owed) > MAX_REQUESTERS_PER_JOB:
                del self.owed[next(iter(self.owed))]

    def piece_size(self, index: int) -> int:
        """Bytes of the MANIFEST frame carrying piece ``index``."""
        return MANIFEST_HEADER + min(MANIFEST_PIECE_MAX, self.manifest_len - index * MANIFEST_PIECE_MAX)

    def chunk_size(self, index: int) -> int:
        """Bytes of the DATA frame carrying chunk ``index``."""
        return DATA_HEADER + expected_chunk_len(index, self.content_size)


@dataclass
class WorkTransfer:
    """Everything this node keeps about one work in flight, fetching or serving."""

    short_id: bytes
    work_id: bytes | None = None  # set once the manifest is verified and stored
    fetch: Fetch | None = None
    assemblies: dict[int, Assembly] = field(default_factory=dict)  # by manifest length
    decoder: Decoder | None = None
    decoder_used: int = 0
    early: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # index -> (arrival tick, chunk)
    requests: dict[str, PendingRequest] = field(default_factory=dict)  # link -> queued request
    serving: dict[str, ServeJob] = field(default_factory=dict)  # link -> what we owe requesters there

    @property
    def verified(self) -> bool:
        """True once the manifest has been verified and stored."""
        return self.work_id is not None

    def idle(self) -> bool:
        """Nothing left to remember."""
        return not (self.fetch or self.assemblies or self.decoder or self.early or self.requests
                    or self.serving)

    def latest_assembly(self) -> Assembly | None:
        """The most recently used manifest assembly."""
        return max(self.assemblies.values(), key=lambda a: a.used, default=None)

    def early_bytes(self) -> int:
        """Bytes of overheard chunks held."""
        return sum(len(data) for _, data in self.early.values())


class TransferTable:
    """The works in flight, with caps on wants, assemblies, decoders and early chunk bytes."""

    def __init__(self, *, max_wanted: int, max_wanted_per_neighbour: int, max_assemblies: int,
                 max_assemblies_per_neighbour: int, max_decoders: int, max_decoder_rows: int,
                 max_early_bytes: int) -> None:
        self.max_wanted = max_wanted
        self.max_wanted_per_neighbour = max_wanted_per_neighbour
        self.max_assemblies = max_assemblies
        self.max_assemblies_per_neighbour = max_assemblies_per_neighbour
        self.max_decoders = max_decoders
        self.max_decoder_rows = max_decoder_rows
        self.max_early_bytes = max_early_bytes
        self._items: dict[bytes, WorkTransfer] = {}
        self._tick = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[WorkTransfer]:
        return iter(list(self._items.values()))

    def _next_tick(self) -> int:
        self._tick += 1
        return self._tick

    def get(self, short_id: bytes) -> WorkTransfer | None:
        """The transfer of ``short_id``, if any."""
        return self._items.get(short_id)

    def get_or_create(self, short_id: bytes, work_id: bytes | None = None) -> WorkTransfer:
        """The transfer of ``short_id``, created empty if needed."""
        transfer = self._items.get(short_id)
        if transfer is None:
            transfer = self._items[short_id] = WorkTransfer(short_id, work_id)
        elif work_id is not None:
            transfer.work_id = work_id
        return transfer

    def forget(self, short_id: bytes) -> None:
        """Drop every trace of a work: want, assemblies, decoder, early chunks, requests, serve jobs."""
        self._items.pop(short_id, None)

    def tidy(self, transfer: WorkTransfer) -> None:
        """Remove a transfer that has nothing left."""
        if transfer.idle() and self._items.get(transfer.short_id) is transfer:
            del self._items[transfer.short_id]

    # -- wants ------------------------------------------------------------------------------

    def fetches(self) -> list[WorkTransfer]:
        """Transfers with a want, in creation order."""
        return [t for t in self._items.values() if t.fetch is not None]

    def queued(self, link: str) -> int:
        """Requests, promised pieces and chunks waiting on ``link``."""
        count = 0
        for transfer in self._items.values():
            count += link in transfer.requests
            job = transfer.serving.get(link)
            if job is not None:
                count += len(job.pieces) + job.union().bit_count()
        return count

    def wanted(self) -> int:
        """How many works are wanted."""
        return sum(1 for t in self._items.values() if t.fetch is not None)

    def want(self, short_id: bytes, neighbour: str, now: float, *, work_id: bytes | None = None,
             per_neighbour: int | None = None) -> WorkTransfer | None:
        """The transfer of a wanted work, its want created if needed; None when the caps refuse.

        An unverified want counts against ``neighbour``, whose cap ``per_neighbour`` may lower
        (a suspect advertiser); to make room, the oldest unverified want of the neighbour holding
        the most is forgotten.
        """
        existing = self._items.get(short_id)
        if existing is not None and existing.fetch is not None:
            return existing
        verified = work_id is not None or (existing is not None and existing.verified)
        if not verified:
            mine = sum(1 for t in self._items.values()
                       if t.fetch is not None and not t.verified and t.fetch.neighbour == neighbour)
            cap = self.max_wanted_per_neighbour if per_neighbour is None else min(
                per_neighbour, self.max_wanted_per_neighbour)
            if mine >= cap:
                return None
        if self.wanted() >= self.max_wanted and not self._evict_unverified(protect=neighbour):
            return None
        transfer = self.get_or_create(short_id, work_id)
        transfer.fetch = Fetch(neighbour, now)
        return transfer

    def _evict_unverified(self, protect: str) -> bool:
        counts: dict[str, int] = {}
        for t in self._items.values():
            if t.fetch is not None and not t.verified:
                counts[t.fetch.neighbour] = counts.get(t.fetch.neighbour, 0) + 1
        if not counts:
            return False
        heaviest = max(sorted(counts), key=lambda n: counts[n])
        if heaviest == protect and counts[heaviest] <= 1:
            return False
        victim = next(t for t in self._items.values()
                      if t.fetch is not None and not t.verified and t.fetch.neighbour == heaviest)
        self.forget(victim.short_id)
        return True

    def stop_fetching(self, transfer: WorkTransfer) -> None:
        """Stop wanting a work: its want, queued requests and manifest assemblies go."""
        transfer.fetch = None
        transfer.requests.clear()
        transfer.assemblies.clear()
        self.tidy(transfer)

    # -- manifest assemblies ----------------------------------------------------------------

    def assemblies(self) -> int:
        """Manifests being reassembled, over all works."""
        return sum(len(t.assemblies) for t in self._items.values())

    def assembly(self, short_id: bytes, total_len: int, neighbour: str) -> Assembly:
        """The assembly of (short id, length), created (evicting others to make room) if needed."""
        transfer = self.get_or_create(short_id)
        item = transfer.assemblies.get(total_len)
        if item is not None:
            item.used = self._next_tick()
            return item
        theirs = [(a.used, t, n) for t in self._items.values() for n, a in t.assemblies.items()
                  if a.neighbour == neighbour]
        if len(theirs) >= self.max_assemblies_per_neighbour:
            self._drop_assembly(*min(theirs, key=lambda x: x[0])[1:])
        if len(transfer.assemblies) >= MAX_LENGTHS_PER_WORK:
            oldest = min(transfer.assemblies.values(), key=lambda a: a.used)
            self._drop_assembly(transfer, oldest.total_len)
        while self.assemblies() >= self.max_assemblies:
            _, t, n = min(((a.used, t, n) for t in self._items.values() for n, a in t.assemblies.items()),
                          key=lambda x: x[0])
            self._drop_assembly(t, n)
        item = transfer.assemblies[total_len] = Assembly(total_len, neighbour, self._next_tick())
        self._items.setdefault(short_id, transfer)
        return item

    def _drop_assembly(self, transfer: WorkTransfer, total_len: int) -> None:
        transfer.assemblies.pop(total_len, None)
        self.tidy(transfer)

    # -- coded-repair decoders --------------------------------------------------------------

    def decoder(self, transfer: WorkTransfer) -> Decoder:
        """The work's decoder, created (evicting the least recently used) if needed."""
        if transfer.decoder is None:
            holders = [t for t in self._items.values() if t.decoder is not None]
            while len(holders) >= self.max_decoders:
                victim = min(holders, key=lambda t: t.decoder_used)
                victim.decoder = None
                holders.remove(victim)
                self.tidy(victim)
            transfer.decoder = Decoder(self.max_decoder_rows)
            self._items.setdefault(transfer.short_id, transfer)
        transfer.decoder_used = self._next_tick()
        return transfer.decoder

    def decoder_rows(self) -> int:
        """Equations held over all works."""
        return sum(len(t.decoder) for t in self._items.values() if t.decoder is not None)

    # -- early chunks -----------------------------------------------------------------------

    def early_bytes(self) -> int:
        """Bytes of chunks held before their manifest verified, over all works."""
        return sum(t.early_bytes() for t in self._items.values())

    def keep_early(self, transfer: WorkTransfer, index: int, data: bytes) -> bool:
        """Keep an overheard chunk (the oldest give way); False if already held or too big."""
        if index in transfer.early or len(data) > self.max_early_bytes:
            return False
        total = self.early_bytes()
        while total + len(data) > self.max_early_bytes:
            holder = min((t for t in self._items.values() if t.early),
                         key=lambda t: next(iter(t.early.values()))[0])
            first = next(iter(holder.early))
            total -= len(holder.early.pop(first)[1])
            self.tidy(holder)
        transfer.early[index] = (self._next_tick(), data)
        self._items.setdefault(transfer.short_id, transfer)
        return True

    def take_early(self, transfer: WorkTransfer) -> list[tuple[int, bytes]]:
        """Remove and return a work's overheard chunks, by index."""
        out = [(index, transfer.early[index][1]) for index in sorted(transfer.early)]
        transfer.early.clear()
        return out
