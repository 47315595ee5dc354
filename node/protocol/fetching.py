"""Fetching: wanting works, asking for what is missing, and storing what verifies.

The :class:`Fetcher` owns the rules of wanting and asking, and the memory about neighbours that
goes with them (advertisers whose works nobody serves, manifests that failed verification); the
per-work state it acts on is the work's :class:`~node.protocol.transfer.WorkTransfer`.

Rules: the first request waits a random 1-4 slots; after each, the next waits
``request_quiet_slots`` doubling per unanswered attempt (up to ``request_retry_max_s``); every
new piece or chunk heard pushes it past the latest arrival, so a node never asks while data
flows. An overheard request that asks for at least what ours would cancels ours. A want nobody
answers is parked after ``PARK_AFTER_ATTEMPTS``; an unverified one is dropped after
``unverified_attempts`` and counts against the neighbour that advertised it.

Catalogue first: chunk requests wait while a manifest is still being fetched (its first asks).
Works in flight: chunk requests for a work wait while an earlier work (publishing order, the
same on every node) is still arriving, so a neighbourhood finishes one pipeline before the next
instead of every work crawling; manifest requests never wait (the catalogue goes first).
Congestion: every request back-off is stretched by the inverse of the link's allowed data rate
(node.protocol.congestion), so a saturated neighbourhood asks less often.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from node.artwork.chunks import expected_chunk_len
from node.protocol import frames as fr
from node.protocol.bounded import LruMap
from node.protocol.coding import chunk_int, int_chunk
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.drops import DropReason
from node.protocol.events import ChunkReceived, Event, WorkCompleted
from node.protocol.fairness import AdvertiserScores
from node.protocol.outbox import LinkOutbox
from node.protocol.transfer import PendingRequest, TransferTable, WorkTransfer
from node.store.base import StoreError, WorkStore

PARK_AFTER_ATTEMPTS = 12
CATALOGUE_ASKS = 2  # chunk requests wait for a manifest only this many asks into its fetch
FLOWING_QUIET_PERIODS = 3  # an earlier work counts as arriving for this many quiet periods after its last chunk
REJECTED_MEMORY = 256  # manifests (by full hash) that failed verification
SUPPRESSOR_STRIKES = 1  # a neighbour whose held-back-for request went unanswered this often no longer suppresses
SUSPECT_STEP = 2  # every this many unserved adverts halve a neighbour's wants and double their delay

Emit = Callable[[Event], None]
Drop = Callable[[DropReason, str], None]


class Fetcher:
    """Wants, requests and chunk intake over the transfer table."""

    def __init__(self, config: EngineConfig, links: dict[str, LinkConfig], outboxes: dict[str, LinkOutbox],
                 transfers: TransferTable, store: WorkStore, rng: random.Random, emit: Emit, drop: Drop,
                 count: Callable[[DropReason], None], rank_of: Callable[[bytes], tuple[int, bytes]],
                 data_rate: Callable[[str], float]) -> None:
        self._config = config
        self._links = links
        self._outboxes = outboxes
        self._transfers = transfers
        self._store = store
        self._rng = rng
        self._emit = emit
        self._drop = drop
        self._count = count
        self._rank_of = rank_of
        self._data_rate = data_rate
        self.advertisers = AdvertiserScores(config.max_neighbours)
        self._rejected: LruMap[bytes, float] = LruMap(REJECTED_MEMORY)  # SHA-256 of unverifiable manifests
        # neighbours whose requests we held ours back for and nothing came: they cannot suppress ours
        self._strikes: LruMap[str, int] = LruMap(config.max_neighbours)

    # -- timing ---------------------------------------------------------------------------

    def request_delay(self, link: str) -> float:
        """The random back-off before a first request on ``link``."""
        return self._rng.uniform(*self._config.request_delay_slots) * self._links[link].slot_s

    def quiet(self, link: str) -> float:
        """How long a transfer must be silent on ``link`` before we ask again (longer when congested)."""
        base = self._config.request_quiet_slots * self._links[link].slot_s / self._data_rate(link)
        return min(base, self._config.request_retry_max_s) * self._rng.uniform(1.0, 1.25)

    def _catalogue_pending(self) -> bool:
        """True while a manifest a trusted-so-far neighbour advertised is still being fetched.

        Bounded: only the first ``CATALOGUE_ASKS`` asks of a manifest hold chunk requests back, and
        never for a suspect advertiser, so made-up works cannot starve real ones.
        """
        return any(t.fetch is not None and not t.verified and t.fetch.attempts < CATALOGUE_ASKS
                   and not self.suspicion(t.fetch.neighbour) for t in self._transfers.fetches())

    def _earlier_work_arriving(self, transfer: WorkTransfer, now: float) -> bool:
        """True while a verified work before this one in publishing order is still arriving."""
        rank = self._rank_of(transfer.short_id)
        for other in self._transfers.fetches():
            fetch = other.fetch
            if other is transfer or fetch is None or not other.verified or self._rank_of(other.short_id) >= rank:
                continue
            window = max((FLOWING_QUIET_PERIODS * self._config.request_quiet_slots * self._links[n].slot_s
                          / self._data_rate(n)) for n in fetch.links) if fetch.links else 0.0
            if now - fetch.last_progress < window:
                return True
        return False

    def deadlines(self) -> list[float]:
        """When each want next asks."""
        return [t.fetch.next_request for t in self._transfers.fetches() if t.fetch is not None]

    # -- suspect advertisers --------------------------------------------------------------

    def suspicion(self, neighbour: str) -> int:
        """0 for a neighbour whose adverts were served; +1 per ``SUSPECT_STEP`` unserved ones."""
        return self.advertisers.score(neighbour) // SUSPECT_STEP

    def unverified_attempts(self, neighbour: str) -> int:
        """How often to ask for a manifest only ``neighbour`` advertised."""
        return max(1, self._config.unverified_attempts - self.suspicion(neighbour))

    def want_cap(self, neighbour: str) -> int:
        """How many unverified wants ``neighbour`` may hold."""
        return max(1, self._config.max_wanted_per_neighbour >> self.suspicion(neighbour))

    def _first_request_delay(self, neighbour: str, link: str) -> float:
        """Back-off before the first request for a work ``neighbour`` advertised; a suspect waits
        longer, doubling per step, up to ``request_retry_max_s``."""
        level = self.suspicion(neighbour)
        delay = self.request_delay(link)
        if level:
            quiet = self._config.request_quiet_slots * self._links[link].slot_s
            delay += min(quiet * 2**level, self._config.request_retry_max_s)
        return delay

    # -- rejected manifests ---------------------------------------------------------------

    def rejected(self, manifest_hash: bytes) -> bool:
        """True when the manifest with this full SHA-256 was assembled and failed verification."""
        return manifest_hash in self._rejected

    def reject(self, short_id: bytes, manifest_hash: bytes, supplier: str, now: float) -> None:
        """Remember a manifest that failed verification by its full hash, blame the neighbour that
        supplied it, and forget the transfer. The short id itself is not poisoned: a genuine work
        with the same 4 bytes is still fetched when someone advertises it."""
        self._rejected.put(manifest_hash, now)
        self.advertisers.unserved(supplier)
        self._transfers.forget(short_id)

    # -- wanting --------------------------------------------------------------------------

    def want_verified(self, work_id: bytes, neighbour: str, link: str | None, now: float) -> None:
        """Fetch the chunks of a work whose manifest is stored."""
        transfer = self._transfers.want(work_id[:4], neighbour, now, work_id=work_id)
        if transfer is None or transfer.fetch is None:
            return
        fetch = transfer.fetch
        if not transfer.verified:
            self.advertisers.served(fetch.neighbour)  # what it advertised was real
        transfer.work_id = work_id
        fetch.attempts = 0
        delay_link = link or next(iter(self._links))
        if link is not None:
            fetch.links[link] = now
        fetch.next_request = now + self.request_delay(delay_link)

    def want_advertised(self, short: bytes, work_id: bytes | None, link: str, neighbour: str, now: float,
                        *, helps: bool = True) -> None:
        """A neighbour advertises a work we lack: want it (within its caps) and ask soon.

        ``helps`` is False when the advert shows no more of the work than we hold: it keeps the
        want alive but does not bring our next request forward.
        """
        transfer = self._transfers.get(short)
        if transfer is None or transfer.fetch is None:
            transfer = self._transfers.want(short, neighbour, now, work_id=work_id,
                                            per_neighbour=self.want_cap(neighbour))
            if transfer is None or transfer.fetch is None:
                self._count(DropReason.WANTS_FULL)
                return
            if not transfer.verified:
                transfer.fetch.next_request = now + self._first_request_delay(neighbour, link)
        elif not transfer.verified and transfer.fetch.neighbour != neighbour and \
                self.advertisers.score(neighbour) < self.advertisers.score(transfer.fetch.neighbour):
            # a better-reputed neighbour advertises it too: charge it to them and ask soon
            transfer.fetch.neighbour = neighbour
            transfer.fetch.next_request = min(transfer.fetch.next_request, now + self.request_delay(link))
        fetch = transfer.fetch
        fetch.links[link] = now
        if helps and (math.isinf(fetch.next_request) or fetch.attempts > 0):
            fetch.next_request = min(fetch.next_request, now + self._first_request_delay(fetch.neighbour, link))

    def want_overheard(self, short: bytes, link: str, neighbour: str, now: float) -> None:
        """A manifest piece of a work we did not know: fetch the rest now, while its data flows."""
        transfer = self._transfers.get(short)
        if transfer is not None and transfer.fetch is not None:
            return
        transfer = self._transfers.want(short, neighbour, now, per_neighbour=self.want_cap(neighbour))
        if transfer is not None and transfer.fetch is not None:
            transfer.fetch.links[link] = now

    # -- asking ---------------------------------------------------------------------------

    def _request_links(self, transfer: WorkTransfer) -> list[str]:
        assert transfer.fetch is not None
        known = [n for n in sorted(transfer.fetch.links) if n in self._links] or sorted(self._links)
        return sorted(known, key=lambda n: self._links[n].kind != "ip")  # IP first: no duty cycle

    def source_heard(self, short: bytes, link: str, margin: float | None, now: float) -> None:
        """New data of a wanted work arrived from a source heard ``margin`` dB above the floor."""
        transfer = self._transfers.get(short)
        fetch = transfer.fetch if transfer is not None else None
        if fetch is None or margin is None:
            return
        if margin >= fetch.source_margin or now - fetch.source_at > self._source_memory(link):
            fetch.source_margin = margin
        fetch.source_at = now

    def _source_memory(self, link: str) -> float:
        return self._config.source_memory_slots * self._links[link].slot_s / self._data_rate(link)

    def _source_margin(self, transfer: WorkTransfer, link: str, now: float) -> int:
        """The margin byte of our next request: the best recent source, or unknown."""
        fetch = transfer.fetch
        if fetch is None or now - fetch.source_at > self._source_memory(link):
            return fr.MARGIN_UNKNOWN
        return min(max(round(fetch.source_margin), 0), fr.MARGIN_UNKNOWN - 1)

    def _build_request(self, transfer: WorkTransfer, link: str, now: float) -> fr.Request | None:
        short = transfer.short_id
        margin = self._source_margin(transfer, link, now)
        if transfer.work_id is None:
            assembly = transfer.latest_assembly()
            missing = assembly.missing() if assembly is not None else []
            return fr.Request.for_indices(short, fr.TARGET_MANIFEST, missing, margin)
        signed = self._store.get_manifest(transfer.work_id)
        if signed is None:
            return None
        have = self._store.have_chunks(transfer.work_id)
        solvable = set(transfer.decoder.pivots()) if transfer.decoder is not None else set()  # follow from the rest
        missing = [i for i in range(signed.manifest.chunk_count) if i not in have and i not in solvable]
        if not missing:
            return None
        return fr.Request.for_indices(short, fr.TARGET_CHUNKS, missing, margin)

    def _queue(self, transfer: WorkTransfer, link: str, request: fr.Request, now: float) -> None:
        transfer.requests[link] = PendingRequest(fr.encode(request), now, self._outboxes[link].next_seq())

    def fire_due(self, now: float) -> None:
        """Queue every request whose time has come."""
        for transfer in self._transfers.fetches():
            if transfer.fetch is not None and transfer.fetch.next_request <= now:
                self._fire(transfer, now)

    def _fire(self, transfer: WorkTransfer, now: float) -> None:
        fetch = transfer.fetch
        assert fetch is not None
        if not transfer.verified and fetch.attempts >= self.unverified_attempts(fetch.neighbour):
            self._transfers.forget(transfer.short_id)  # nobody answers: probably junk, let it go
            self.advertisers.unserved(fetch.neighbour)
            return
        if fetch.suppressed_by is not None:  # we held back for its request and nothing came
            self._strikes.put(fetch.suppressed_by, (self._strikes.get(fetch.suppressed_by) or 0) + 1)
            fetch.suppressed_by = None
        links = self._request_links(transfer)
        link = links[fetch.attempts % len(links)]
        if transfer.verified and (self._catalogue_pending() or self._earlier_work_arriving(transfer, now)):
            fetch.next_request = now + self.quiet(link)  # the catalogue first, then one pipeline at a time
            return
        request = self._build_request(transfer, link, now)
        if request is None:
            self._transfers.stop_fetching(transfer)
            return
        self._queue(transfer, link, request, now)
        fetch.attempts += 1
        if fetch.attempts >= PARK_AFTER_ATTEMPTS:
            fetch.next_request = math.inf  # until a source advertises it again
            return
        quiet = self._config.request_quiet_slots * self._links[link].slot_s / self._data_rate(link)
        backoff = min(quiet * 2 ** (fetch.attempts - 1), self._config.request_retry_max_s)
        fetch.next_request = now + backoff * self._rng.uniform(1.0, 1.25)

    def requeue(self, transfer: WorkTransfer, link: str, data: bytes, now: float) -> None:
        """The radio refused our request: queue it again."""
        transfer.requests[link] = PendingRequest(data, now, self._outboxes[link].next_seq())

    def suppresses(self, neighbour: str) -> bool:
        """True while ``neighbour``'s requests may hold ours back: holders answered the last ones we
        waited for. Request suppression cannot be bought by a requester the holders ignore."""
        return (self._strikes.get(neighbour) or 0) < SUPPRESSOR_STRIKES

    def overheard_request(self, transfer: WorkTransfer, req: fr.Request, link: str, neighbour: str,
                          now: float) -> None:
        """Another node asked: drop our request if theirs covers it, else ask only for the rest."""
        fetch = transfer.fetch
        if fetch is None or not self.suppresses(neighbour):
            return
        ours = self._build_request(transfer, link, now)
        if ours is None or ours.target != req.target:
            return
        if req.wants_all or (not ours.wants_all and set(ours.indices()) <= set(req.indices())):
            transfer.requests.pop(link, None)
            if fetch.suppressed_by is None:
                fetch.suppressed_by, fetch.suppressed_at = neighbour, now
            # held back one quiet time from the first request we deferred to, not from every repeat
            fetch.next_request = max(fetch.next_request, fetch.suppressed_at + self.quiet(link))
        elif link in transfer.requests and not ours.wants_all:
            rest = sorted(set(ours.indices()) - set(req.indices()))
            self._queue(transfer, link, fr.Request.for_indices(transfer.short_id, ours.target, rest,
                                                               ours.source_margin), now)

    def progress(self, short: bytes, link: str, now: float) -> None:
        """Something new of the work arrived on ``link``: wait for the flow to stop before asking."""
        transfer = self._transfers.get(short)
        if transfer is not None and transfer.fetch is not None:
            suppressor = transfer.fetch.suppressed_by
            if suppressor is not None:  # its request was answered: it may suppress ours again
                self._strikes.pop(suppressor)
                transfer.fetch.suppressed_by = None
            transfer.fetch.attempts = 0
            transfer.fetch.links[link] = now
            transfer.fetch.last_progress = now
            transfer.fetch.next_request = now + self.quiet(link)

    def transfer_heard(self, short: bytes, link: str, now: float) -> None:
        """Data of a wanted work is on the air: do not ask while it flows, even if it is not new."""
        transfer = self._transfers.get(short)
        if transfer is not None and transfer.fetch is not None and not math.isinf(transfer.fetch.next_request):
            transfer.fetch.next_request = max(transfer.fetch.next_request, now + self.quiet(link))

    # -- storing --------------------------------------------------------------------------

    def store_decoded(self, transfer: WorkTransfer, decoded: list[tuple[int, int]], link: str,
                      now: float) -> bool:
        """Verify decoded chunks against the manifest and store them; True if the work completed.

        One bad chunk discards every equation: a forged or corrupt frame is in there.
        """
        assert transfer.work_id is not None
        signed = self._store.get_manifest(transfer.work_id)
        assert signed is not None
        verified = []
        for index, value in decoded:
            data = int_chunk(value)
            size = expected_chunk_len(index, signed.manifest.size)
            if any(data[size:]) or not signed.manifest.verify_chunk(index, data[:size]):
                transfer.decoder = None
                self._drop(DropReason.BAD_CODED, link)
                return False
            verified.append((index, data[:size]))
        return self.store_chunks(transfer, verified, link, now)[1]

    def store_chunks(self, transfer: WorkTransfer, chunks: list[tuple[int, bytes]], link: str,
                     now: float) -> tuple[bool, bool]:
        """Store verified chunks and what they decode: (any was new, the work completed)."""
        work_id = transfer.work_id
        assert work_id is not None
        signed = self._store.get_manifest(work_id)
        assert signed is not None
        any_new = False
        while chunks:
            index, data = chunks.pop(0)
            try:
                new = self._store.put_chunk(work_id, index, data)
            except StoreError as exc:
                self._drop(DropReason.of(exc.reason), link)
                return any_new, False
            if not new:
                continue
            any_new = True
            self._emit(ChunkReceived(work_id, index, len(self._store.have_chunks(work_id)),
                                     signed.manifest.chunk_count, link))
            if transfer.decoder is not None:
                for got, value in transfer.decoder.learn(index, chunk_int(data)):
                    size = expected_chunk_len(got, signed.manifest.size)
                    raw = int_chunk(value)
                    if any(raw[size:]) or not signed.manifest.verify_chunk(got, raw[:size]):
                        transfer.decoder = None
                        self._drop(DropReason.BAD_CODED, link)
                        break
                    chunks.append((got, raw[:size]))
        if not any_new:
            return False, False
        self.progress(transfer.short_id, link, now)
        if not self._store.is_complete(work_id):
            return True, False
        transfer.decoder = None
        self._transfers.stop_fetching(transfer)
        self._emit(WorkCompleted(work_id, link))
        return True, True
