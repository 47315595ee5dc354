"""The sans-IO gossip engine: bytes and ``now`` in; frames, one timer deadline and events out.

Rule 1: no I/O, no clock, no module-level randomness. Time arrives as ``now`` on every call,
randomness from the injected ``random.Random``; iteration is over dicts or sorted lists only,
so one seed gives one trace whatever PYTHONHASHSEED is.
Rule 2: nothing a neighbour sends can raise out of :meth:`GossipEngine.receive_frame`. Every
rejected frame becomes a ``FrameDropped`` event and a ``status().drops`` counter; local misuse
(an unknown link name, an unverifiable local bundle) raises.
Rule 3: nothing unverified is stored or sent on. Manifests are verified against the curator
trust anchors after reassembly; chunks against the stored manifest, before storing.

After every call that changes state, a driver calls ``poll_frame``/``frames_to_send``,
``next_event`` until None, and re-arms its single timer at ``get_timer()``.
The dissemination rules (Trickle adverts, suppressed requests, jittered broadcast answers)
are described in docs/PROTOCOL.md.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import OrderedDict, deque

from node.artwork.bundle import Bundle
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.keys import SecretKey
from node.artwork.manifest import MAX_MANIFEST_BYTES, verify_manifest
from node.artwork.takedown import Takedown, verify_takedown
from node.protocol import frames as fr
from node.protocol.config import EngineConfig, EngineStatus, LinkConfig, LinkStatus
from node.protocol.events import (
    ChunkReceived,
    Event,
    FrameDropped,
    ManifestReceived,
    PeerStatus,
    RxInfo,
    WorkCompleted,
    WorkTakenDown,
)
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
from node.protocol.peers import NeighbourLimiter, PeerTable, beacon_signature_ok, sign_beacon
from node.protocol.transfers import AssemblyTable, EarlyChunks, Want, WantTable, manifest_piece
from node.protocol.trickle import TrickleTimer
from node.store.base import StoreError, WorkStore

MAX_QUEUED_EVENTS = 4096
REACTION_MEMORY = 64
PARK_AFTER_ATTEMPTS = 12
TAKEDOWN_ASKS_PER_WINDOW = 4
REJECTED_MEMORY = 256


class GossipEngine:
    """One node's share of the network: what it holds, wants, owes and may still send."""

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
        self._outboxes = {n: LinkOutbox(lc, config.max_control_queue, now) for n, lc in self._links.items()}
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
        self._peers = PeerTable(config.max_peers)
        self._limiter = NeighbourLimiter(config.neighbour_control_burst, config.neighbour_control_per_min,
                                         config.max_neighbours)
        self._short_index: dict[bytes, bytes] = {}
        self._takedowns: dict[bytes, Takedown] = {}
        self._takedown_offered: OrderedDict[tuple[bytes, str], float] = OrderedDict()
        self._takedown_asked: OrderedDict[bytes, float] = OrderedDict()
        self._rejected: OrderedDict[bytes, float] = OrderedDict()  # short ids of unverifiable manifests
        self._digest: bytes | None = None
        for takedown in store.takedowns():
            self._takedowns[takedown.work_id[:4]] = takedown
        for work_id in store.work_ids():
            self._short_index[work_id[:4]] = work_id
            if not store.is_complete(work_id):
                self._want_verified(work_id, "local", None, now)

    # ------------------------------------------------------------------ public API

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Take one frame heard on ``link``. Never raises for bad input; counts it instead."""
        self._now = now
        self._stats[self._check_link(link)].frames_in += 1
        try:
            frame = fr.decode(data)
        except fr.FrameError as exc:
            self._drop(exc.reason, link)
            return
        neighbour = rx_info.sender or "?"
        if isinstance(frame, (fr.Advert, fr.Request, fr.TakedownFrame, fr.StatusBeacon)) \
                and not self._limiter.allow(neighbour, now):
            self._drop("rate-limited", link)
            return
        if isinstance(frame, fr.DataChunk):
            self._on_data(frame, link, now)
        elif isinstance(frame, fr.ManifestPiece):
            self._on_manifest_piece(frame, link, neighbour, now)
        elif isinstance(frame, fr.Request):
            self._on_request(frame, link, now)
        elif isinstance(frame, fr.Advert):
            self._on_advert(frame, link, neighbour, now)
        elif isinstance(frame, fr.TakedownFrame):
            self._on_takedown(frame, link, now)
        else:
            self._on_status(frame, link, rx_info, now)

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """The frame ``link`` should transmit now, or None (nothing ready, or no budget)."""
        self._now = now
        outbox = self._outboxes[self._check_link(link)]
        while True:
            ready = [c for c in outbox.candidates() if c.not_before <= now]
            if not ready:
                return None
            data = self._render(ready[0])
            if data is None:
                outbox.consume(ready[0])
                continue
            if outbox.budget_time(len(data), now) > now:
                return None
            outbox.consume(ready[0])
            outbox.charge(len(data), now)
            stats = self._stats[link]
            stats.frames_out += 1
            stats.bytes_out += len(data)
            return data

    def frames_to_send(self, now: float) -> list[tuple[str, bytes]]:
        """Drain every link of what it may send now, as (link, frame) pairs."""
        out: list[tuple[str, bytes]] = []
        for link in self._links:
            while (data := self.poll_frame(link, now)) is not None:
                out.append((link, data))
        return out

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """The radio refused ``data`` (duty-cycle NAK): refund it, requeue it, back off the link."""
        self._now = now
        outbox = self._outboxes[self._check_link(link)]
        outbox.refund(len(data), now)
        stats = self._stats[link]
        stats.refused += 1
        stats.frames_out -= 1
        stats.bytes_out -= len(data)
        outbox.blocked_until = now + self.config.refused_backoff_s
        try:
            frame = fr.decode(data)
        except fr.FrameError:
            return
        if isinstance(frame, fr.DataChunk):
            outbox.serve(frame.short_id, (), [frame.index], now)
        elif isinstance(frame, fr.ManifestPiece):
            outbox.serve(frame.short_id, [frame.index], (), now)
        elif isinstance(frame, fr.Request):
            outbox.put(("req", frame.short_id), data, PRIO_REQUEST, now)
        elif isinstance(frame, fr.TakedownFrame):
            outbox.put(("td-refused", data), data, PRIO_TAKEDOWN, now)
        elif isinstance(frame, fr.Advert):
            outbox.put(("advert",), data, PRIO_ADVERT, now)
        else:
            outbox.put(("status",), data, PRIO_STATUS, now)

    def get_timer(self) -> float | None:
        """The earliest time :meth:`handle_timer` or :meth:`poll_frame` has work."""
        deadlines = [self._next_beacon]
        deadlines += [t.deadline() for t in self._trickle.values()]
        deadlines += [w.next_request for w in self._wants.all()]
        deadlines += [self._link_ready_at(link) for link in self._links]
        soonest = min(deadlines)
        return None if math.isinf(soonest) else soonest

    def handle_timer(self, now: float) -> None:
        """Run whatever is due: adverts, requests, the status beacon."""
        self._now = now
        for link, timer in self._trickle.items():
            if timer.poll(now):
                self._queue_advert(link, now)
        for want in self._wants.all():
            if want.next_request <= now:
                self._fire_request(want, now)
        if now >= self._next_beacon:
            self._send_beacon(now)

    def next_event(self) -> Event | None:
        """The oldest undelivered event, or None."""
        return self._events.popleft() if self._events else None

    def ingest_bundle(self, bundle: Bundle, now: float) -> bytes:
        """Store a local bundle (re-verified; raises VerificationError/StoreError) and advertise it."""
        self._now = now
        signed = verify_manifest(bundle.signed.raw, self.trust)
        work_id = signed.work_id
        other = self._short_index.get(work_id[:4])
        if other is not None and other != work_id:
            raise ValueError("another stored work has the same short id")
        self.store.ingest_bundle(bundle, received_at=now)
        self._short_index[work_id[:4]] = work_id
        self._wants.remove(work_id[:4])
        self._assemblies.discard(work_id[:4])
        self._events.append(ManifestReceived(work_id, None))
        self._events.append(WorkCompleted(work_id, None))
        self._inventory_changed(now)
        return work_id

    def apply_takedown(self, takedown: Takedown, now: float) -> None:
        """Apply a local curator takedown (re-verified; raises VerificationError) and spread it."""
        self._now = now
        takedown.verify(self.trust)
        self._apply_takedown(takedown, now)

    def status(self, now: float) -> EngineStatus:
        """Counters: per-link traffic and airtime, drops by reason, peers, works."""
        self._now = now
        summaries = self.store.summaries()
        links = {}
        for name, stats in self._stats.items():
            outbox = self._outboxes[name]
            stats.airtime_last_hour_s = outbox.airtime_used(now)
            stats.queued = outbox.pending_items()
            links[name] = LinkStatus(**stats.__dict__)
        return EngineStatus(
            node_key=self._node_key, uptime_s=now - self._start, links=links,
            drops=dict(sorted(self._drops.items())), peers=len(self._peers),
            works_complete=sum(1 for s in summaries if s.complete),
            works_partial=sum(1 for s in summaries if not s.complete),
            works_wanted=len(self._wants), takedowns=len(self._takedowns), assemblies=len(self._assemblies),
        )

    # ------------------------------------------------------------------ receive handlers

    def _on_data(self, frame: fr.DataChunk, link: str, now: float) -> None:
        short = frame.short_id
        work_id = self._short_index.get(short)
        signed = self.store.get_manifest(work_id) if work_id is not None else None
        if work_id is None or signed is None:
            if short in self._takedowns:
                self._drop("taken-down", link)
            elif self._wants.get(short) is None:
                self._drop("unknown-work", link)
            elif not self._early.add(short, frame.index, frame.data):
                self._drop("duplicate", link)
            return
        if not signed.manifest.verify_chunk(frame.index, frame.data):
            self._drop("bad-chunk", link)
            return
        self._outboxes[link].heard(short, chunk=frame.index, holdoff_until=now + self._holdoff(link))
        try:
            new = self.store.put_chunk(work_id, frame.index, frame.data)
        except StoreError as exc:
            self._drop(exc.reason, link)
            return
        if not new:
            self._drop("duplicate", link)
            return
        self._progress(short, link, now)
        self._events.append(ChunkReceived(work_id, frame.index, len(self.store.have_chunks(work_id)),
                                          signed.manifest.chunk_count, link))
        if self.store.is_complete(work_id):
            self._wants.remove(short)
            self._events.append(WorkCompleted(work_id, link))
            self._inventory_changed(now)

    def _on_manifest_piece(self, frame: fr.ManifestPiece, link: str, neighbour: str, now: float) -> None:
        short = frame.short_id
        work_id = self._short_index.get(short)
        if work_id is not None:
            signed = self.store.get_manifest(work_id)
            if signed is not None and manifest_piece(signed.raw, short, frame.index) == frame:
                self._outboxes[link].heard(short, piece=frame.index, holdoff_until=now + self._holdoff(link))
                self._drop("duplicate", link)
            else:
                self._drop("bad-manifest-piece", link)
            return
        if short in self._takedowns:
            self._drop("taken-down", link)
            return
        if frame.total_len > MAX_MANIFEST_BYTES:
            self._drop("oversize", link)
            return
        assembly = self._assemblies.get_or_create(short, frame.total_len, neighbour)
        if not assembly.add(frame.index, frame.data):
            self._drop("duplicate", link)
            return
        self._progress(short, link, now)
        raw = assembly.assembled()
        if raw is not None:
            self._assemblies.discard(short)
            self._accept_manifest(raw, short, link, neighbour, now)

    def _accept_manifest(self, raw: bytes, short: bytes, link: str, neighbour: str, now: float) -> None:
        if hashlib.sha256(raw).digest()[:4] != short:
            self._drop("manifest-id-mismatch", link)
            return
        try:
            signed = verify_manifest(raw, self.trust)
        except VerificationError as exc:
            self._drop(exc.reason, link)
            self._wants.remove(short)
            self._rejected[short] = now  # its hash matches the advertised id: the work itself is bad
            self._rejected.move_to_end(short)
            while len(self._rejected) > REJECTED_MEMORY:
                self._rejected.popitem(last=False)
            return
        if self.store.is_taken_down(signed.work_id):
            self._drop("taken-down", link)
            return
        try:
            self.store.put_manifest(signed, received_at=now)
        except StoreError as exc:
            self._drop(exc.reason, link)
            self._wants.remove(short)
            return
        self._short_index[short] = signed.work_id
        self._events.append(ManifestReceived(signed.work_id, link))
        for index, data in self._early.take(short):
            self._on_data(fr.DataChunk(short, index, data), link, now)
        self._want_verified(signed.work_id, neighbour, link, now)
        for timer in self._trickle.values():  # relays advertise a new partial work at once (pipelining)
            timer.hear_inconsistent(now)

    def _on_request(self, req: fr.Request, link: str, now: float) -> None:
        short = req.short_id
        if req.target == fr.TARGET_TAKEDOWN:
            takedown = self._takedowns.get(short)
            if takedown is not None:
                self._offer_takedown(takedown, link, now)
            return
        want = self._wants.get(short)
        if want is not None:
            self._maybe_suppress(want, req, link, now)
        work_id = self._short_index.get(short)
        signed = self.store.get_manifest(work_id) if work_id is not None else None
        if work_id is None or signed is None:
            return
        slot = self._links[link].slot_s
        jitter = self._rng.uniform(*self.config.serve_jitter_slots) * slot
        if not self.store.is_complete(work_id):
            jitter += self.config.serve_holdoff_slots * slot  # complete holders answer first
        outbox = self._outboxes[link]
        if req.target == fr.TARGET_MANIFEST:
            count = fr.ManifestPiece.piece_count(len(signed.raw))
            asked = range(count) if req.wants_all else [i for i in req.indices() if i < count]
            outbox.serve(short, asked, (), now + jitter)
        else:
            have = self.store.have_chunks(work_id)
            count = signed.manifest.chunk_count
            asked = range(count) if req.wants_all else req.indices()
            outbox.serve(short, (), sorted(i for i in asked if i in have), now + jitter)

    def _on_advert(self, advert: fr.Advert, link: str, neighbour: str, now: float) -> None:
        timer = self._trickle[link]
        ours = self._inventory_digest()
        if advert.digest == ours:
            timer.hear_consistent()
        else:
            # react once per (their, our) state pair, so a neighbour that can never agree
            # (full store, junk) does not keep our adverts at Imin forever
            memory = self._reacted[link]
            pair = (advert.digest, ours)
            if pair not in memory or now - memory[pair] > timer.imax:
                timer.hear_inconsistent(now)
                memory[pair] = now
                memory.move_to_end(pair)
                while len(memory) > REACTION_MEMORY:
                    memory.popitem(last=False)
        for entry in advert.entries:
            self._on_advert_entry(entry, link, neighbour, now)

    def _on_advert_entry(self, entry: fr.AdvertEntry, link: str, neighbour: str, now: float) -> None:
        short = entry.short_id
        takedown = self._takedowns.get(short)
        if takedown is not None:
            if entry.state != fr.STATE_TAKEN_DOWN:
                self._offer_takedown(takedown, link, now)  # an old copy is being offered: refuse, tell
            return
        if entry.state == fr.STATE_TAKEN_DOWN:
            self._ask_takedown(short, link, now)
            return
        work_id = self._short_index.get(short)
        if work_id is not None and self.store.is_complete(work_id):
            return
        if work_id is not None and entry.state == 0:
            return  # they hold the manifest only; nothing we lack
        if short in self._rejected:
            return
        want = self._wants.get(short)
        if want is None:
            want = self._wants.add(short, neighbour, now, verified_id=work_id)
            if want is None:
                self._count("wants-full")
                return
        want.links[link] = now
        if math.isinf(want.next_request) or want.attempts > 0:
            want.next_request = min(want.next_request, now + self._request_delay(link))

    def _on_takedown(self, frame: fr.TakedownFrame, link: str, now: float) -> None:
        try:
            takedown = verify_takedown(frame.raw, self.trust)
        except VerificationError as exc:
            self._drop(exc.reason, link)
            return
        if takedown.work_id[:4] in self._takedowns:
            self._outboxes[link].cancel(("td-offer", takedown.work_id[:4]))  # someone else said it
            self._drop("duplicate", link)
            return
        self._apply_takedown(takedown, now)

    def _on_status(self, beacon: fr.StatusBeacon, link: str, rx_info: RxInfo, now: float) -> None:
        if beacon.node_key == self._node_key:
            self._drop("own-frame", link)
        elif not beacon_signature_ok(beacon):
            self._drop("bad-signature", link)
        elif not self._peers.accept(beacon, link, now):
            self._drop("replay", link)
        else:
            self._events.append(PeerStatus(
                node_key=beacon.node_key, venue=beacon.venue, lat=beacon.lat, lon=beacon.lon,
                version=beacon.version, uptime_s=beacon.uptime_s, airtime_permille=beacon.airtime_permille,
                works_held=beacon.works_held, link=link, snr=rx_info.snr, rssi=rx_info.rssi))

    # ------------------------------------------------------------------ requests

    def _want_verified(self, work_id: bytes, neighbour: str, link: str | None, now: float) -> None:
        short = work_id[:4]
        want = self._wants.get(short) or self._wants.add(short, neighbour, now, verified_id=work_id)
        if want is None:
            return
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
        missing = [i for i in range(signed.manifest.chunk_count) if i not in have]
        if not missing:
            return None
        return fr.Request.for_indices(want.short_id, fr.TARGET_CHUNKS, missing)

    def _fire_request(self, want: Want, now: float) -> None:
        if not want.verified and want.attempts >= self.config.unverified_attempts:
            self._wants.remove(want.short_id)  # nobody answers: probably junk, let it go
            self._assemblies.discard(want.short_id)
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
            outbox.put(("req", want.short_id), fr.encode(fr.Request.for_indices(want.short_id, ours.target, rest)),
                       PRIO_REQUEST, now)

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

    # ------------------------------------------------------------------ helpers

    def _check_link(self, link: str) -> str:
        if link not in self._links:
            raise KeyError(f"unknown link {link!r}; configured: {', '.join(self._links)}")
        return link

    def _render(self, cand: Candidate) -> bytes | None:
        if cand.frame is not None:
            return cand.frame.data
        work_id = self._short_index.get(cand.short_id)
        if work_id is None:
            return None
        if cand.priority == PRIO_MANIFEST:
            signed = self.store.get_manifest(work_id)
            piece = manifest_piece(signed.raw, cand.short_id, cand.index) if signed is not None else None
            return fr.encode(piece) if piece is not None else None
        chunk = self.store.get_chunk(work_id, cand.index)
        return fr.encode(fr.DataChunk(cand.short_id, cand.index, chunk)) if chunk is not None else None

    def _link_ready_at(self, link: str) -> float:
        """When poll_frame(link) will next return a frame (consistent with its choice rule)."""
        outbox = self._outboxes[link]
        while True:
            cands = outbox.candidates()
            if not cands:
                return math.inf
            start = max(self._now, min(c.not_before for c in cands))
            top = next(c for c in cands if c.not_before <= start)
            data = self._render(top)
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
            timer.hear_inconsistent(now)

    def _request_delay(self, link: str) -> float:
        return self._rng.uniform(*self.config.request_delay_slots) * self._links[link].slot_s

    def _quiet(self, link: str) -> float:
        return self.config.request_quiet_slots * self._links[link].slot_s * self._rng.uniform(1.0, 1.25)

    def _holdoff(self, link: str) -> float:
        return self.config.serve_holdoff_slots * self._links[link].slot_s

    def _count(self, reason: str) -> None:
        self._drops[reason] = self._drops.get(reason, 0) + 1

    def _drop(self, reason: str, link: str) -> None:
        self._count(reason)
        self._events.append(FrameDropped(reason, link))
