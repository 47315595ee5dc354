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

import dataclasses
import hashlib
import math

from node.artwork.bundle import Bundle
from node.artwork.errors import VerificationError
from node.artwork.manifest import MAX_MANIFEST_BYTES, verify_manifest
from node.artwork.takedown import Takedown, verify_takedown
from node.protocol import frames as fr
from node.protocol.coding import bits, chunk_int, coded_indices
from node.protocol.config import EngineStatus, LinkStatus
from node.protocol.core import REACTION_MEMORY, REJECTED_MEMORY, EngineCore
from node.protocol.events import (
    Event,
    ManifestReceived,
    PeerStatus,
    RxInfo,
    WorkCompleted,
)
from node.protocol.outbox import PRIO_ADVERT, PRIO_MANIFEST, PRIO_REQUEST, PRIO_STATUS, PRIO_TAKEDOWN
from node.protocol.peers import beacon_signature_ok
from node.protocol.transfers import manifest_piece
from node.store.base import StoreError


class GossipEngine(EngineCore):
    """One node's share of the network: what it holds, wants, owes and may still send."""

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
        # Takedowns have their own bucket: a neighbour busy fetching works must not starve them.
        limiter = self._takedown_limiter if isinstance(frame, fr.TakedownFrame) else self._limiters[link]
        if isinstance(frame, (fr.Advert, fr.Request, fr.TakedownFrame, fr.StatusBeacon)) \
                and not limiter.allow(neighbour, now):
            self._drop("rate-limited", link)
            return
        if isinstance(frame, fr.DataChunk):
            self._on_data(frame, link, now)
        elif isinstance(frame, fr.CodedChunk):
            self._on_coded(frame, link, now)
        elif isinstance(frame, fr.ManifestPiece):
            self._on_manifest_piece(frame, link, neighbour, now)
        elif isinstance(frame, fr.Request):
            self._on_request(frame, link, neighbour, now)
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
            data = self._render(ready[0], link)
            if data is None:
                outbox.consume(ready[0])
                continue
            if outbox.budget_time(len(data), now) > now:
                return None
            if ready[0].coded:
                short, seed, mask = self._coded_choice.pop(link)
                outbox.charge_answer(short, mask, now)
                outbox.sent_coded(short, mask, seed)
            else:
                if ready[0].frame is None and ready[0].priority != PRIO_MANIFEST:
                    outbox.charge_answer(ready[0].short_id, 1 << ready[0].index, now)
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
            outbox.serve_chunks(frame.short_id, "(refused)", 1 << frame.index, 1, now)
        elif isinstance(frame, fr.CodedChunk):
            work_id = self._short_index.get(frame.short_id)
            signed = self.store.get_manifest(work_id) if work_id is not None else None
            if signed is not None:
                mask = coded_indices(frame.short_id, frame.seed, signed.manifest.chunk_count)
                outbox.serve_chunks(frame.short_id, "(refused)", mask, 1, now, can_code=True, seed=frame.seed)
        elif isinstance(frame, fr.ManifestPiece):
            outbox.serve_pieces(frame.short_id, [frame.index], now)
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

    def set_link_preset(self, link: str, preset: str, now: float) -> None:
        """The radio on LoRa link ``link`` now runs ``preset``: frames are costed at it from now on.

        The rolling hour's ledger keeps the seconds already spent (they were spent at the old
        preset); only new frames, jitters and slots follow the new one. Raises for an unknown link
        or preset (local misuse).
        """
        self._now = now
        old = self._links[link]
        if old.kind != "lora" or old.preset == preset:
            return
        new = dataclasses.replace(old, preset=preset)
        self._links[link] = new
        self._outboxes[link].link = new
        self._stats[link].airtime_limit_s = new.airtime_limit_s

    def note_channel_load(self, link: str, channel_utilization: float | None, air_util_tx: float | None,
                          now: float) -> None:
        """The radio's own measurements (percent): channel busy-ness heard, and its own TX share."""
        self._now = now
        stats = self._stats[link]
        stats.channel_utilization = channel_utilization
        stats.air_util_tx = air_util_tx

    def status(self, now: float) -> EngineStatus:
        """Counters: per-link traffic and airtime, drops by reason, peers, works."""
        self._now = now
        summaries = self.store.summaries()
        links = {}
        for name, stats in self._stats.items():
            outbox = self._outboxes[name]
            stats.airtime_last_hour_s = outbox.airtime_used(now)
            stats.queued = outbox.pending_items()
            stats.preset = self._links[name].preset if stats.kind == "lora" else None
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
        self._outboxes[link].heard(short, chunks=1 << frame.index, holdoff_until=now + self._holdoff(link, short),
                                    now=now)
        self._transfer_heard(short, link, now)
        if not self._store_chunks(work_id, [(frame.index, frame.data)], link, now):
            self._drop("duplicate", link)

    def _on_coded(self, frame: fr.CodedChunk, link: str, now: float) -> None:
        short = frame.short_id
        work_id = self._short_index.get(short)
        signed = self.store.get_manifest(work_id) if work_id is not None else None
        if work_id is None or signed is None:
            self._drop("taken-down" if short in self._takedowns else "unknown-work", link)
            return
        mask = coded_indices(short, frame.seed, signed.manifest.chunk_count)
        if not mask:
            self._drop("malformed", link)
            return
        self._outboxes[link].heard(short, chunks=mask, coded=True, holdoff_until=now + self._holdoff(link, short),
                                    now=now)
        self._transfer_heard(short, link, now)
        have = self.store.have_chunks(work_id)
        payload = chunk_int(frame.data)
        unknown = 0
        for index in bits(mask):
            if index in have:
                payload ^= chunk_int(self.store.get_chunk(work_id, index) or b"")
            else:
                unknown |= 1 << index
        if not unknown:
            self._drop("duplicate", link)
            return
        decoded = self._decoders.get_or_create(short).add(unknown, payload)
        if decoded is None:
            self._drop("coded-buffer-full", link)
        elif not decoded:
            self._count("coded-buffered")
            self._progress(short, link, now)
        else:
            self._store_decoded(work_id, decoded, link, now)

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
        if short in self._rejected:  # already assembled once and failed verification: no second check
            self._drop("rejected", link)
            return
        if frame.total_len > MAX_MANIFEST_BYTES:
            self._drop("oversize", link)
            return
        assembly = self._assemblies.get_or_create(short, frame.total_len, neighbour)
        if not assembly.add(frame.index, frame.data):
            self._drop("duplicate", link)
            return
        if self._wants.get(short) is None and self._limiters[link].allow(neighbour, now):
            # overheard a manifest whose advert we missed: fetch the rest now, while its data flows
            want = self._wants.add(short, neighbour, now, per_neighbour=self._want_cap(neighbour))
            if want is not None:
                want.links[link] = now
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
            timer.reset(now)

    def _on_request(self, req: fr.Request, link: str, neighbour: str, now: float) -> None:
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
            outbox.serve_pieces(short, asked, now + jitter)
        else:
            have = self.store.have_chunks(work_id)
            count = signed.manifest.chunk_count
            asked = range(count) if req.wants_all else req.indices()
            mask = 0
            for i in asked:
                if i in have:
                    mask |= 1 << i
            if not outbox.serve_chunks(short, neighbour, mask, mask.bit_count(), now + jitter, chunk_count=count,
                                       can_code=self.store.is_complete(work_id), seed=self._rng.getrandbits(16)):
                self._drop("answer-credit", link)  # this requester had its passes over the work lately

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
            if self._suspicion(neighbour):
                pass  # its adverts name works nobody serves: no reason to advertise back at once
            elif pair not in memory or now - memory[pair] > timer.imax:
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
            want = self._wants.add(short, neighbour, now, verified_id=work_id, per_neighbour=self._want_cap(neighbour))
            if want is None:
                self._count("wants-full")
                return
            if not want.verified:
                want.next_request = now + self._first_request_delay(neighbour, link)
        elif not want.verified and want.neighbour != neighbour and \
                self._advertisers.score(neighbour) < self._advertisers.score(want.neighbour):
            # a better-reputed neighbour advertises it too: charge it to them and ask soon
            want.neighbour = neighbour
            want.next_request = min(want.next_request, now + self._request_delay(link))
        want.links[link] = now
        if math.isinf(want.next_request) or want.attempts > 0:
            want.next_request = min(want.next_request, now + self._first_request_delay(want.neighbour, link))

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
