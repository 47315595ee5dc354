"""Engine state and the machinery behind the receive handlers: requests, adverts, takedowns,
beacons and the choice of the next frame per link. ``engine.GossipEngine`` adds the public API
and the per-frame-kind handlers on top; the rules are in engine.py's module docstring.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict, deque

from node.artwork.chunks import expected_chunk_len
from node.artwork.endorsement import TrustAnchors
from node.artwork.keys import SecretKey
from node.artwork.takedown import Takedown
from node.protocol import frames as fr
from node.protocol.coding import DecoderTable, chunk_int, coded_indices, int_chunk
from node.protocol.config import EngineConfig, LinkConfig, LinkStatus
from node.protocol.events import (
    ChunkReceived,
    Event,
    FrameDropped,
    WorkCompleted,
    WorkTakenDown,
)
from node.protocol.fairness import AdvertiserScores, AnswerCredits
from node.protocol.inventory import advert_page, inventory_digest, inventory_entries
from node.protocol.outbox import (
    PRIO_ADVERT,
    PRIO_MANIFEST,
    PRIO_REQUEST,
    PRIO_STATUS,
    PRIO_TAKEDOWN,
    Candidate,
    LinkOutbox,
)
from node.protocol.peers import NeighbourLimiter, PeerTable, sign_beacon
from node.protocol.transfers import AssemblyTable, EarlyChunks, Want, WantTable, manifest_piece
from node.protocol.trickle import TrickleTimer
from node.store.base import StoreError, WorkStore

MAX_QUEUED_EVENTS = 4096
SEED_CANDIDATES = 24  # combinations tried per coded frame
REACTION_MEMORY = 64
PARK_AFTER_ATTEMPTS = 12
TAKEDOWN_ASKS_PER_WINDOW = 4
REJECTED_MEMORY = 256
ANSWER_CREDIT_ENTRIES = 256  # (requester, work) budgets kept per link
SUSPECT_STEP = 2  # every this many unserved adverts halve a neighbour's wants and double their delay


class EngineCore:
    """State shared by the engine's handlers, and what they schedule."""

    def __init__(self, identity: SecretKey, trust: TrustAnchors, store: WorkStore,
                 rng: random.Random, config: EngineConfig, now: float) -> None:
        self.identity = identity
        self.trust = trust
        self.store = store
        self.config = config
        self._rng = rng
        self._start = now
        self._now = now
        self._node_key = identity.public.raw
        self._boot_id = rng.getrandbits(32)
        self._beacon_seq = 0
        self._next_beacon = now + rng.uniform(0.02, 0.1) * config.beacon_interval_s
        self._links: dict[str, LinkConfig] = {link.name: link for link in config.links}
        self._outboxes = {n: LinkOutbox(lc, config.max_control_queue, now, AnswerCredits(
            config.answer_credit_rounds, config.answer_credit_refill_s, ANSWER_CREDIT_ENTRIES))
            for n, lc in self._links.items()}
        self._trickle = {n: TrickleTimer(config.trickle_imin_s, config.trickle_doublings, config.trickle_k, rng, now)
                         for n in self._links}
        self._advert_page = dict.fromkeys(self._links, 0)
        self._reacted: dict[str, OrderedDict[tuple[bytes, bytes], float]] = {n: OrderedDict() for n in self._links}
        self._stats = {n: LinkStatus(kind=lc.kind, airtime_limit_s=lc.airtime_limit_s) for n, lc in self._links.items()}
        self._drops: dict[str, int] = {}
        self._events: deque[Event] = deque(maxlen=MAX_QUEUED_EVENTS)
        self._wants = WantTable(config.max_wanted, config.max_wanted_per_neighbour)
        self._assemblies = AssemblyTable(config.max_assemblies, max(1, config.max_assemblies // 2))
        self._early = EarlyChunks(config.max_early_chunk_bytes)
        self._decoders = DecoderTable(config.max_coded_works, config.max_coded_rows)
        self._peers = PeerTable(config.max_peers)
        # IP links carry far more than a radio can, so their neighbours get a larger control budget.
        self._limiters = {
            link.name: NeighbourLimiter(
                round(config.neighbour_control_burst * (config.ip_control_factor if link.kind == "ip" else 1)),
                config.neighbour_control_per_min * (config.ip_control_factor if link.kind == "ip" else 1),
                config.max_neighbours)
            for link in config.links}
        self._takedown_limiter = NeighbourLimiter(config.neighbour_takedown_burst,
                                                  config.neighbour_takedown_per_min, config.max_neighbours)
        self._short_index: dict[bytes, bytes] = {}
        self._takedowns: dict[bytes, Takedown] = {}
        self._takedown_offered: OrderedDict[tuple[bytes, str], float] = OrderedDict()
        self._takedown_asked: OrderedDict[bytes, float] = OrderedDict()
        self._rejected: OrderedDict[bytes, float] = OrderedDict()  # short ids of unverifiable manifests
        self._advertisers = AdvertiserScores(config.max_neighbours)
        self._digest: bytes | None = None
        self._coded_choice: dict[str, tuple[bytes, int, int]] = {}  # link -> last rendered combination
        for takedown in store.takedowns():
            self._takedowns[takedown.work_id[:4]] = takedown
        for work_id in store.work_ids():
            self._short_index[work_id[:4]] = work_id
            if not store.is_complete(work_id):
                self._want_verified(work_id, "local", None, now)

    # ------------------------------------------------------------------ requests

    def _want_verified(self, work_id: bytes, neighbour: str, link: str | None, now: float) -> None:
        short = work_id[:4]
        want = self._wants.get(short) or self._wants.add(short, neighbour, now, verified_id=work_id)
        if want is None:
            return
        if not want.verified:
            self._advertisers.served(want.neighbour)  # what it advertised was real
        want.work_id = work_id
        want.attempts = 0
        delay_link = link or next(iter(self._links))
        if link is not None:
            want.links[link] = now
        want.next_request = now + self._request_delay(delay_link)

    def _request_links(self, want: Want) -> list[str]:
        known = [n for n in sorted(want.links) if n in self._links] or sorted(self._links)
        return sorted(known, key=lambda n: self._links[n].kind != "ip")  # IP first: no duty cycle

    def _build_request(self, want: Want) -> fr.Request | None:
        if want.work_id is None:
            assembly = self._assemblies.find(want.short_id)
            missing = assembly.missing() if assembly is not None else []
            return fr.Request.for_indices(want.short_id, fr.TARGET_MANIFEST, missing)
        signed = self.store.get_manifest(want.work_id)
        if signed is None:
            return None
        have = self.store.have_chunks(want.work_id)
        decoder = self._decoders.get(want.short_id)
        solvable = set(decoder.pivots()) if decoder is not None else set()  # follow from the rest
        missing = [i for i in range(signed.manifest.chunk_count) if i not in have and i not in solvable]
        if not missing:
            return None
        return fr.Request.for_indices(want.short_id, fr.TARGET_CHUNKS, missing)

    def _fire_request(self, want: Want, now: float) -> None:
        if not want.verified and want.attempts >= self._unverified_attempts(want.neighbour):
            self._wants.remove(want.short_id)  # nobody answers: probably junk, let it go
            self._assemblies.discard(want.short_id)
            self._advertisers.unserved(want.neighbour)
            return
        request = self._build_request(want)
        if request is None:
            self._wants.remove(want.short_id)
            return
        links = self._request_links(want)
        link = links[want.attempts % len(links)]
        self._outboxes[link].put(("req", want.short_id), fr.encode(request), PRIO_REQUEST, now)
        want.attempts += 1
        if want.attempts >= PARK_AFTER_ATTEMPTS:
            want.next_request = math.inf  # until a source advertises it again
            return
        quiet = self.config.request_quiet_slots * self._links[link].slot_s
        backoff = min(quiet * 2 ** (want.attempts - 1), self.config.request_retry_max_s)
        want.next_request = now + backoff * self._rng.uniform(1.0, 1.25)

    # ------------------------------------------------------------------ suspect advertisers

    def _suspicion(self, neighbour: str) -> int:
        """0 for a neighbour whose adverts were served; +1 per ``SUSPECT_STEP`` unserved ones."""
        return self._advertisers.score(neighbour) // SUSPECT_STEP

    def _unverified_attempts(self, neighbour: str) -> int:
        """How often to ask for a manifest only ``neighbour`` advertised."""
        return max(1, self.config.unverified_attempts - self._suspicion(neighbour))

    def _want_cap(self, neighbour: str) -> int:
        """How many unverified wants ``neighbour`` may hold."""
        return max(1, self.config.max_wanted_per_neighbour >> self._suspicion(neighbour))

    def _first_request_delay(self, neighbour: str, link: str) -> float:
        """Back-off before the first request for a work ``neighbour`` advertised; a suspect waits
        longer, doubling per step, up to ``request_retry_max_s``."""
        level = self._suspicion(neighbour)
        delay = self._request_delay(link)
        if level:
            quiet = self.config.request_quiet_slots * self._links[link].slot_s
            delay += min(quiet * 2 ** level, self.config.request_retry_max_s)
        return delay

    def _maybe_suppress(self, want: Want, req: fr.Request, link: str, now: float) -> None:
        ours = self._build_request(want)
        if ours is None or ours.target != req.target:
            return
        outbox = self._outboxes[link]
        if req.wants_all or (not ours.wants_all and set(ours.indices()) <= set(req.indices())):
            outbox.cancel(("req", want.short_id))
            want.next_request = max(want.next_request, now + self._quiet(link))
        elif outbox.has(("req", want.short_id)) and not ours.wants_all:
            # still queued: ask only for what the overheard request left out
            rest = sorted(set(ours.indices()) - set(req.indices()))
            shrunk = fr.Request.for_indices(want.short_id, ours.target, rest)
            outbox.put(("req", want.short_id), fr.encode(shrunk), PRIO_REQUEST, now)

    def _progress(self, short: bytes, link: str, now: float) -> None:
        want = self._wants.get(short)
        if want is not None:
            want.attempts = 0
            want.links[link] = now
            want.next_request = now + self._quiet(link)

    # ------------------------------------------------------------------ adverts, takedowns, beacons

    def _queue_advert(self, link: str, now: float) -> None:
        advert = advert_page(inventory_entries(self.store), self._inventory_digest(), self._advert_page[link])
        self._advert_page[link] = advert.page + 1
        self._outboxes[link].put(("advert",), fr.encode(advert), PRIO_ADVERT, now)

    def _apply_takedown(self, takedown: Takedown, now: float) -> None:
        short = takedown.work_id[:4]
        self.store.apply_takedown(takedown)
        self._takedowns[short] = takedown
        self._short_index.pop(short, None)
        self._wants.remove(short)
        self._assemblies.discard(short)
        self._decoders.discard(short)
        data = fr.encode(fr.TakedownFrame(takedown.to_bytes()))
        for name, outbox in self._outboxes.items():
            outbox.drop_work(short)
            slot = self._links[name].slot_s
            for repeat in range(self.config.takedown_repeats):
                start = now + repeat * self.config.takedown_spacing_s
                outbox.put(("td", short, repeat), data, PRIO_TAKEDOWN,
                           start + self._rng.uniform(*self.config.serve_jitter_slots) * slot)
        self._events.append(WorkTakenDown(takedown.work_id))
        self._inventory_changed(now)

    def _offer_takedown(self, takedown: Takedown, link: str, now: float) -> None:
        key = (takedown.work_id[:4], link)
        last = self._takedown_offered.get(key)
        if last is not None and now - last < self.config.takedown_spacing_s:
            return
        self._takedown_offered[key] = now
        self._takedown_offered.move_to_end(key)
        while len(self._takedown_offered) > 256:
            self._takedown_offered.popitem(last=False)
        jitter = self._rng.uniform(*self.config.serve_jitter_slots) * self._links[link].slot_s
        self._outboxes[link].put(("td-offer", key[0]), fr.encode(fr.TakedownFrame(takedown.to_bytes())),
                                 PRIO_TAKEDOWN, now + jitter)

    def _ask_takedown(self, short: bytes, link: str, now: float) -> None:
        window = self.config.takedown_spacing_s
        recent = [t for t in self._takedown_asked.values() if now - t < window]
        last = self._takedown_asked.get(short)
        if (last is not None and now - last < window) or len(recent) >= TAKEDOWN_ASKS_PER_WINDOW:
            return
        self._takedown_asked[short] = now
        self._takedown_asked.move_to_end(short)
        while len(self._takedown_asked) > 64:
            self._takedown_asked.popitem(last=False)
        request = fr.Request(short, fr.TARGET_TAKEDOWN, 0, b"")
        self._outboxes[link].put(("td-req", short), fr.encode(request), PRIO_REQUEST,
                                 now + self._request_delay(link))

    def _send_beacon(self, now: float) -> None:
        self._beacon_seq += 1
        used = max((ob.airtime_used(now) for ob in self._outboxes.values()), default=0.0)
        beacon = sign_beacon(fr.StatusBeacon(
            node_key=self._node_key, boot_id=self._boot_id, seq=self._beacon_seq,
            uptime_s=int(now - self._start), airtime_permille=int(used / 3.6),
            works_held=sum(1 for s in self.store.summaries() if s.complete),
            lat=self.config.lat, lon=self.config.lon, version=self.config.software_version,
            venue=self.config.venue), self.identity)
        data = fr.encode(beacon)
        for name, outbox in self._outboxes.items():
            outbox.put(("status",), data, PRIO_STATUS, now + self._rng.uniform(0, 2) * self._links[name].slot_s)
        self._next_beacon = now + self.config.beacon_interval_s * self._rng.uniform(0.9, 1.1)

    # ------------------------------------------------------------------ storing chunks

    def _store_decoded(self, work_id: bytes, decoded: list[tuple[int, int]], link: str, now: float) -> None:
        """Verify decoded chunks against the manifest; one bad chunk discards every equation."""
        signed = self.store.get_manifest(work_id)
        assert signed is not None
        verified = []
        for index, value in decoded:
            data = int_chunk(value)
            size = expected_chunk_len(index, signed.manifest.size)
            if any(data[size:]) or not signed.manifest.verify_chunk(index, data[:size]):
                self._decoders.discard(work_id[:4])  # a forged or corrupt frame is in there
                self._drop("bad-coded", link)
                return
            verified.append((index, data[:size]))
        self._store_chunks(work_id, verified, link, now)

    def _store_chunks(self, work_id: bytes, chunks: list[tuple[int, bytes]], link: str, now: float) -> bool:
        """Store verified chunks and what they decode; True if any was new."""
        short = work_id[:4]
        signed = self.store.get_manifest(work_id)
        assert signed is not None
        any_new = False
        while chunks:
            index, data = chunks.pop(0)
            try:
                new = self.store.put_chunk(work_id, index, data)
            except StoreError as exc:
                self._drop(exc.reason, link)
                return any_new
            if not new:
                continue
            any_new = True
            self._events.append(ChunkReceived(work_id, index, len(self.store.have_chunks(work_id)),
                                              signed.manifest.chunk_count, link))
            decoder = self._decoders.get(short)
            if decoder is not None:
                for got, value in decoder.learn(index, chunk_int(data)):
                    size = expected_chunk_len(got, signed.manifest.size)
                    raw = int_chunk(value)
                    if any(raw[size:]) or not signed.manifest.verify_chunk(got, raw[:size]):
                        self._decoders.discard(short)
                        self._drop("bad-coded", link)
                        break
                    chunks.append((got, raw[:size]))
        if any_new:
            self._progress(short, link, now)
            if self.store.is_complete(work_id):
                self._wants.remove(short)
                self._decoders.discard(short)
                self._events.append(WorkCompleted(work_id, link))
                self._inventory_changed(now)
        return any_new

    # ------------------------------------------------------------------ helpers

    def _check_link(self, link: str) -> str:
        if link not in self._links:
            raise KeyError(f"unknown link {link!r}; configured: {', '.join(self._links)}")
        return link

    def _render(self, cand: Candidate, link: str) -> bytes | None:
        if cand.frame is not None:
            return cand.frame.data
        work_id = self._short_index.get(cand.short_id)
        if work_id is None:
            return None
        if cand.priority == PRIO_MANIFEST:
            signed = self.store.get_manifest(work_id)
            piece = manifest_piece(signed.raw, cand.short_id, cand.index) if signed is not None else None
            return fr.encode(piece) if piece is not None else None
        if cand.coded:
            return self._render_coded(cand.short_id, work_id, link)
        chunk = self.store.get_chunk(work_id, cand.index)
        return fr.encode(fr.DataChunk(cand.short_id, cand.index, chunk)) if chunk is not None else None

    def _render_coded(self, short: bytes, work_id: bytes, link: str) -> bytes | None:
        """The XOR combination that reaches the most requesters still owed something."""
        job = self._outboxes[link].job(short)
        signed = self.store.get_manifest(work_id)
        if job is None or signed is None or not self.store.is_complete(work_id):
            return None
        count = signed.manifest.chunk_count
        best_seed, best_mask, best_score = -1, 0, -1
        for step in range(SEED_CANDIDATES):
            seed = (job.next_seed + step) & 0xFFFF
            mask = coded_indices(short, seed, count)
            score = sum(1 for owed in job.owed.values() if owed.mask & mask)
            if score > best_score:
                best_seed, best_mask, best_score = seed, mask, score
            if score == len(job.owed):
                break
        payload = 0
        for index in range(count):
            if best_mask >> index & 1:
                chunk = self.store.get_chunk(work_id, index)
                if chunk is None:
                    return None
                payload ^= chunk_int(chunk)
        self._coded_choice[link] = (short, best_seed, best_mask)
        return fr.encode(fr.CodedChunk(short, best_seed, int_chunk(payload)))

    def _link_ready_at(self, link: str) -> float:
        """When poll_frame(link) will next return a frame (consistent with its choice rule)."""
        outbox = self._outboxes[link]
        while True:
            cands = outbox.candidates()
            if not cands:
                return math.inf
            start = max(self._now, min(c.not_before for c in cands))
            top = next(c for c in cands if c.not_before <= start)
            if top.coded:
                return outbox.budget_time(fr.MAX_FRAME, start)  # always a full frame; rendered when sent
            data = self._render(top, link)
            if data is None:
                outbox.consume(top)
                continue
            return outbox.budget_time(len(data), start)

    def _inventory_digest(self) -> bytes:
        if self._digest is None:
            complete = [s.work_id for s in self.store.summaries() if s.complete]
            self._digest = inventory_digest(complete, [t.work_id for t in self.store.takedowns()])
        return self._digest

    def _inventory_changed(self, now: float) -> None:
        self._digest = None
        for timer in self._trickle.values():
            timer.reset(now)

    def _request_delay(self, link: str) -> float:
        return self._rng.uniform(*self.config.request_delay_slots) * self._links[link].slot_s

    def _quiet(self, link: str) -> float:
        return self.config.request_quiet_slots * self._links[link].slot_s * self._rng.uniform(1.0, 1.25)

    def _holdoff(self, link: str, short: bytes | None = None) -> float:
        """How long to hold a serve job back after hearing another sender; partial holders defer longer."""
        slots = self.config.serve_holdoff_slots
        work_id = self._short_index.get(short) if short is not None else None
        if work_id is not None and not self.store.is_complete(work_id):
            slots *= self.config.partial_holdoff_factor
        return slots * self._links[link].slot_s

    def _transfer_heard(self, short: bytes, link: str, now: float) -> None:
        """Data of a wanted work is on the air: do not ask while it flows, even if it is not new."""
        want = self._wants.get(short)
        if want is not None and not math.isinf(want.next_request):
            want.next_request = max(want.next_request, now + self._quiet(link))

    def _count(self, reason: str) -> None:
        self._drops[reason] = self._drops.get(reason, 0) + 1

    def _drop(self, reason: str, link: str) -> None:
        self._count(reason)
        self._events.append(FrameDropped(reason, link))
