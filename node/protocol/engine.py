"""The sans-IO gossip engine: bytes and ``now`` in; frames, one timer deadline and events out.

Rule 1: no I/O, no clock, no module-level randomness. Time arrives as ``now`` on every call,
randomness from the injected ``random.Random``; iteration is over dicts or sorted lists only,
so one seed gives one trace whatever PYTHONHASHSEED is.
Rule 2: nothing a neighbour sends can raise out of :meth:`GossipEngine.receive_frame`. Every
rejected frame becomes a ``FrameDropped`` event and a ``status().drops`` counter, its reason a
:class:`~node.protocol.drops.DropReason`; local misuse raises (``node.protocol.errors``).
Rule 3: nothing unverified is stored or sent on. Manifests are verified against the curator
trust anchors after reassembly; chunks against the stored manifest, before storing.

The engine is composed of components that own their state, as aioquic's connection composes
its loss recovery and streams: per work a :class:`~node.protocol.transfer.WorkTransfer` in the
:class:`~node.protocol.transfer.TransferTable`; the :class:`~node.protocol.fetching.Fetcher`
(wants, requests, chunk intake), the :class:`~node.protocol.serving.Server` (answers and
answer credits), :class:`~node.protocol.adverts.Adverts` (Trickle),
:class:`~node.protocol.takedowns.CuratorOrders` (takedowns and revocations),
:class:`~node.protocol.keypolicy.KeyPolicy` (revoked keys, expired endorsements at trusted time),
:class:`~node.protocol.variants.PieceVariants` (manifest pieces by content) and
:class:`~node.protocol.beacons.Beacons`;
per link a :class:`~node.protocol.outbox.LinkOutbox` (control queue and budget). The engine
dispatches frames to them and picks each link's next frame.

After every call that changes state, a driver calls ``poll_frame``/``frames_to_send``,
``next_event`` until None, and re-arms its single timer at ``get_timer()``.
The dissemination rules are described in docs/PROTOCOL.md.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from node.artwork.bundle import Bundle
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.keys import SecretKey
from node.artwork.manifest import MAX_MANIFEST_BYTES, SignedManifest, verify_manifest
from node.artwork.revocation import Revocation, verify_revocation
from node.artwork.takedown import Takedown, verify_takedown
from node.protocol import frames as fr
from node.protocol.adverts import Adverts
from node.protocol.beacons import Beacons
from node.protocol.coding import bits, chunk_int, coded_indices
from node.protocol.config import EngineConfig, EngineStatus, LinkConfig, LinkStatus
from node.protocol.congestion import ChannelLoad
from node.protocol.drops import DropReason
from node.protocol.errors import ShortIdCollisionError, UnknownLinkError
from node.protocol.events import (
    Event,
    FrameDropped,
    ManifestReceived,
    PeerStatus,
    RxInfo,
    WorkCompleted,
    WorkTakenDown,
)
from node.protocol.fetching import Fetcher
from node.protocol.keypolicy import KeyPolicy
from node.protocol.outbox import (
    PRIO_ADVERT,
    PRIO_DATA,
    PRIO_MANIFEST,
    PRIO_REQUEST,
    PRIO_STATUS,
    Candidate,
    LinkOutbox,
    Source,
)
from node.protocol.peers import NeighbourLimiter
from node.protocol.serving import Answer, Server
from node.protocol.takedowns import revocations, takedowns
from node.protocol.transfer import TransferTable, WorkTransfer
from node.protocol.variants import PieceVariants
from node.store.base import StoreError, WorkStore

MAX_QUEUED_EVENTS = 4096


@dataclass(frozen=True)
class HeldWork:
    """A work whose verified manifest is stored here."""

    work_id: bytes
    rank: tuple[int, bytes]  # publishing order: (the manifest's creation time, work id), the same on every node


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
        self._links: dict[str, LinkConfig] = {link.name: link for link in config.links}
        self._outboxes = {n: LinkOutbox(lc, config.max_control_queue, now) for n, lc in self._links.items()}
        self._stats = {n: LinkStatus(kind=lc.kind, airtime_limit_s=lc.airtime_limit_s)
                       for n, lc in self._links.items()}
        self._loads = {n: ChannelLoad(config.congestion_target, config.congestion_tau_s, now)
                       for n, lc in self._links.items() if lc.kind == "lora"}
        self._drops: dict[DropReason, int] = {}
        self._events: deque[Event] = deque(maxlen=MAX_QUEUED_EVENTS)
        # IP links carry far more than a radio can, so their neighbours get a larger control budget.
        self._limiters = {
            link.name: NeighbourLimiter(
                round(config.neighbour_control_burst * (config.ip_control_factor if link.kind == "ip" else 1)),
                config.neighbour_control_per_min * (config.ip_control_factor if link.kind == "ip" else 1),
                config.max_neighbours)
            for link in config.links}
        # Takedowns have their own bucket: a neighbour busy fetching works must not starve them.
        self._takedown_limiter = NeighbourLimiter(config.neighbour_takedown_burst,
                                                  config.neighbour_takedown_per_min, config.max_neighbours)
        self._held: dict[bytes, HeldWork] = {}  # by short id: every stored work
        self._transfers = TransferTable(
            max_wanted=config.max_wanted, max_wanted_per_neighbour=config.max_wanted_per_neighbour,
            max_assemblies=config.max_assemblies, max_assemblies_per_neighbour=max(1, config.max_assemblies // 2),
            max_decoders=config.max_coded_works, max_decoder_rows=config.max_coded_rows,
            max_early_bytes=config.max_early_chunk_bytes)
        self._variants = PieceVariants()
        self._beacons = Beacons(config, identity, store, rng, now)
        self._adverts = Adverts(config, store, rng, now)
        self._takedowns = takedowns(config, self._links, self._outboxes, rng, store.takedowns())
        self._revocations = revocations(config, self._links, self._outboxes, rng, store.revocations())
        self._keys = KeyPolicy(store)
        self._fetcher = Fetcher(config, self._links, self._outboxes, self._transfers, store, rng,
                                self._events.append, self._drop, self._count, self._rank, self._data_rate)
        self._server = Server(config, self._links, self._outboxes, self._transfers, store, rng, self._rank)
        for work_id in store.work_ids():
            signed = store.get_manifest(work_id)
            self._hold(work_id, signed.manifest.created if signed is not None else 0)
            if not store.is_complete(work_id):
                self._fetcher.want_verified(work_id, "local", None, now)

    # ------------------------------------------------------------------ public API

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Take one frame heard on ``link``. Never raises for bad input; counts it instead."""
        self._now = now
        self._stats[self._check_link(link)].frames_in += 1
        load = self._loads.get(link)
        if load is not None:
            load.note_airtime(self._links[link].frame_cost(min(len(data), fr.MAX_FRAME)), now)
        self._dispatch(data, link, rx_info, now)

    def _dispatch(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        try:
            frame = fr.decode(data)
        except fr.FrameError as exc:
            self._drop(DropReason.of(exc.reason), link)
            return
        neighbour = rx_info.sender or "?"
        margin = self._links[link].snr_margin_db(rx_info.snr)
        match frame:
            case fr.Batch():
                for inner in frame.frames:  # each counts against the sender's limits on its own
                    self._dispatch(inner, link, rx_info, now)
            case fr.DataChunk():
                self._on_data(frame, link, neighbour, now, margin)
            case fr.CodedChunk():
                self._on_coded(frame, link, neighbour, now, margin)
            case fr.ManifestPiece():
                self._on_manifest_piece(frame, link, neighbour, now, margin)
            case fr.Request():
                if self._admitted(self._limiters[link], link, neighbour, now):
                    self._on_request(frame, link, neighbour, now, margin)
            case fr.Advert():
                if self._admitted(self._limiters[link], link, neighbour, now):
                    self._on_advert(frame, link, neighbour, now)
            case fr.TakedownFrame():
                if self._admitted(self._takedown_limiter, link, neighbour, now):
                    self._on_takedown(frame, link, now)
            case fr.RevocationFrame():
                if self._admitted(self._takedown_limiter, link, neighbour, now):
                    self._on_revocation(frame, link, now)
            case fr.StatusBeacon():
                if self._admitted(self._limiters[link], link, neighbour, now):
                    self._on_status(frame, link, rx_info, now)

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """The frame ``link`` should transmit now, or None (nothing ready, or no budget)."""
        self._now = now
        outbox = self._outboxes[self._check_link(link)]
        while True:
            ready = [c for c in self._candidates(link) if c.not_before <= now]
            if not ready:
                return None
            cand = ready[0]
            answer = self._render(link, cand)
            if answer is None:
                self._discard(link, cand)
                continue
            batch = self._coalesce(link, [(cand, answer)], ready[1:])
            data = answer.data if len(batch) == 1 else fr.encode(fr.Batch(tuple(a.data for _, a in batch)))
            if len(batch) > 1 and outbox.budget_time(len(data), now) > now:
                batch, data = batch[:1], answer.data  # the budget has room for the first alone (get_timer's promise)
            size = len(data)
            if outbox.budget_time(size, now) > now:
                return None
            for sent, rendered in batch:
                self._sent(link, sent, rendered, now)
            outbox.charge(size, now)
            load = self._loads.get(link)
            if load is not None:
                airtime = self._links[link].frame_cost(size)
                load.note_airtime(airtime, now, own=True)
                if cand.priority == PRIO_DATA:
                    load.data_sent(airtime, now)
            stats = self._stats[link]
            stats.frames_out += 1
            stats.bytes_out += size
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
        self._requeue(link, data, now)

    def _requeue(self, link: str, data: bytes, now: float) -> None:
        """Owe a refused frame again, or queue it again."""
        outbox = self._outboxes[link]
        try:
            frame = fr.decode(data)
        except fr.FrameError:
            return
        match frame:
            case fr.Batch():
                for inner in frame.frames:
                    self._requeue(link, inner, now)
            case fr.DataChunk() | fr.CodedChunk() | fr.ManifestPiece():
                signed = self._manifest(frame.short_id)
                if signed is not None:
                    transfer = self._transfers.get_or_create(frame.short_id, signed.work_id)
                    self._server.requeue(transfer, signed, link, frame, now)
            case fr.Request(target=fr.TARGET_TAKEDOWN):
                self._takedowns.requeue_request(data, frame.short_id, link, now)
            case fr.Request(target=fr.TARGET_REVOCATION):
                self._revocations.requeue_request(data, frame.short_id, link, now)
            case fr.Request():
                fetching = self._transfers.get(frame.short_id)
                if fetching is not None and fetching.fetch is not None:
                    self._fetcher.requeue(fetching, link, data, now)
            case fr.TakedownFrame():
                self._takedowns.requeue(data, link, now)
            case fr.RevocationFrame():
                self._revocations.requeue(data, link, now)
            case fr.Advert():
                outbox.put(("advert",), data, PRIO_ADVERT, now)
            case fr.StatusBeacon():
                outbox.put(("status",), data, PRIO_STATUS, now)

    def note_channel_load(self, link: str, utilisation: float, now: float) -> None:
        """The radio on ``link`` measured this busy fraction (0..1) of its channel
        (Meshtastic ``channel_utilization`` or ``air_util_tx``, divided by 100)."""
        self._now = now
        load = self._loads.get(self._check_link(link))
        if load is not None:
            load.note_radio(utilisation, now)

    def set_link_preset(self, link: str, preset: str, now: float) -> None:
        """The radio on LoRa link ``link`` now runs ``preset``: frames are costed at it from now on.

        The rolling hour's ledger keeps the seconds already spent (they were spent at the old
        preset); only new frames, jitters and slots follow the new one. Raises for an unknown link
        or preset (local misuse).
        """
        self._now = now
        old = self._links[self._check_link(link)]
        if old.kind != "lora" or old.preset == preset:
            return
        new = replace(old, preset=preset)
        new.lora_preset  # noqa: B018 - raises ValueError for an unknown preset before anything changes
        self._links[link] = new
        self._outboxes[link].link = new
        self._stats[link].airtime_limit_s = new.airtime_limit_s
        self._stats[link].preset = preset

    def note_radio_metrics(self, link: str, channel_utilization: float | None, air_util_tx: float | None,
                           now: float) -> None:
        """The radio's own device metrics (percent, Meshtastic ``channel_utilization`` and ``air_util_tx``):
        shown in the status, and the channel utilisation feeds congestion control."""
        stats = self._stats[self._check_link(link)]
        stats.channel_utilization = channel_utilization
        stats.air_util_tx = air_util_tx
        if channel_utilization is not None:
            self.note_channel_load(link, min(max(channel_utilization / 100.0, 0.0), 1.0), now)
        else:
            self._now = now

    def note_foreign_frame(self, link: str, airtime_s: float, now: float) -> None:
        """The transport saw ``airtime_s`` of traffic on ``link`` that is not ours to decode."""
        self._now = now
        load = self._loads.get(self._check_link(link))
        if load is not None:
            load.note_airtime(airtime_s, now)

    def get_timer(self) -> float | None:
        """The earliest time :meth:`handle_timer` or :meth:`poll_frame` has work (a pure query)."""
        deadlines = [self._beacons.next_at, self._adverts.deadline(), *self._fetcher.deadlines()]
        deadlines += [self._link_ready_at(link) for link in self._links]
        soonest = min(deadlines)
        return None if math.isinf(soonest) else soonest

    def handle_timer(self, now: float) -> None:
        """Run whatever is due: adverts, requests, the status beacon."""
        self._now = now
        for link in self._adverts.due(now):
            self._outboxes[link].put(("advert",), self._adverts.next_advert(link), PRIO_ADVERT, now)
        self._fetcher.fire_due(now)
        if now >= self._beacons.next_at:
            self._send_beacon(now)

    def next_event(self) -> Event | None:
        """The oldest undelivered event, or None."""
        return self._events.popleft() if self._events else None

    def ingest_bundle(self, bundle: Bundle, now: float) -> bytes:
        """Store a local bundle and advertise it; its work id.

        Raises VerificationError (not verifiable against our trust anchors), StoreError, or
        :class:`~node.protocol.errors.ShortIdCollisionError`.
        """
        self._now = now
        signed = verify_manifest(bundle.signed.raw, self.trust)
        refused = self._keys.refuses(signed, now)
        if refused is not None:
            raise VerificationError(refused.value, "the artist key is revoked, or its endorsement expired")
        work_id = signed.work_id
        short = work_id[:4]
        other = self._held.get(short)
        if other is not None and other.work_id != work_id:
            raise ShortIdCollisionError("another stored work has the same short id")
        self.store.ingest_bundle(bundle)
        self._hold(work_id, signed.manifest.created)
        transfer = self._transfers.get(short)
        if transfer is not None:
            transfer.work_id = work_id
            transfer.decoder = None
            self._transfers.take_early(transfer)
            self._transfers.stop_fetching(transfer)
        self._events.append(ManifestReceived(work_id, None))
        self._events.append(WorkCompleted(work_id, None))
        self._adverts.inventory_changed(now)
        return work_id

    def apply_takedown(self, takedown: Takedown, now: float) -> None:
        """Apply a local curator takedown (re-verified; raises VerificationError) and spread it."""
        self._now = now
        takedown.verify(self.trust)
        self._apply_takedown(takedown, now)

    def apply_revocation(self, revocation: Revocation, now: float) -> None:
        """Apply a local curator revocation (re-verified; raises VerificationError) and spread it:
        an artist key's works are removed here and refused from now on."""
        self._now = now
        revocation.verify(self.trust)
        if self._revocations.get(revocation.short_id) != revocation:  # the CLI may have stored it already
            self._apply_revocation(revocation, now)

    def set_trusted_time(self, wall_s: float | None, now: float) -> None:
        """The driver's clock is trustworthy (NTP-synchronised or GPS): ``wall_s`` is the Unix
        time at ``now``. From then on, works first seen after their endorsement expired (with
        :data:`~node.protocol.keypolicy.ENDORSEMENT_MARGIN_S` to spare) are refused. None: the
        clock is not trustworthy any more."""
        self._now = now
        self._keys.set_trusted_time(wall_s, now)

    def status(self, now: float) -> EngineStatus:
        """Counters: per-link traffic and airtime, drops by reason, peers, works."""
        self._now = now
        summaries = self.store.summaries()
        links = {}
        for name, stats in self._stats.items():
            stats.airtime_last_hour_s = self._outboxes[name].airtime_used(now)
            stats.queued = self._outboxes[name].pending_controls() + self._transfers.queued(name)
            stats.preset = self._links[name].preset if stats.kind == "lora" else None
            load = self._loads.get(name)
            if load is not None:
                stats.channel_load = round(load.estimate(now), 4)
                stats.data_rate = load.rate
            links[name] = LinkStatus(**stats.__dict__)
        return EngineStatus(
            node_key=self._beacons.node_key, uptime_s=now - self._start, links=links,
            drops={str(k): v for k, v in sorted(self._drops.items())}, peers=len(self._beacons.peers),
            works_complete=sum(1 for s in summaries if s.complete),
            works_partial=sum(1 for s in summaries if not s.complete),
            works_wanted=self._transfers.wanted(), takedowns=len(self._takedowns),
            assemblies=self._transfers.assemblies(),
        )

    # ------------------------------------------------------------------ the next frame of a link

    def _candidates(self, link: str) -> list[Candidate]:
        """Everything ``link`` could send next, most important first (ignoring time and budget)."""
        out = self._outboxes[link].control_candidates()
        load = self._loads.get(link)
        data_at = load.data_allowed_at() if load is not None else -math.inf
        for transfer in self._transfers:
            request = transfer.requests.get(link)
            if request is not None:
                out.append(Candidate(PRIO_REQUEST, request.not_before, request.seq, len(request.data),
                                     Source.REQUEST, short_id=transfer.short_id))
            answer = self._server.candidate(transfer, link, self._now)
            if answer is not None:
                if answer.priority == PRIO_DATA and answer.not_before < data_at:
                    answer = replace(answer, not_before=data_at)  # congestion control paces bulk data
                out.append(answer)
        out.sort(key=Candidate.order)
        return out

    def _coalesce(self, link: str, batch: list[tuple[Candidate, Answer]],
                  others: list[Candidate]) -> list[tuple[Candidate, Answer]]:
        """Control frames that go out with the first one, as one batch frame (``coalesce_control``)."""
        if not self._links[link].coalesce_control or batch[0][0].priority >= PRIO_MANIFEST:
            return batch
        for cand in others:
            if cand.priority >= PRIO_MANIFEST:
                break  # candidates are sorted: only answers follow
            if fr.Batch.size([a.data for _, a in batch]) + 1 + cand.size > fr.MAX_FRAME:
                continue
            answer = self._render(link, cand)
            if answer is not None and answer.data[0] & 0x0F != fr.KIND_BATCH:
                batch.append((cand, answer))
        return batch

    def _link_ready_at(self, link: str) -> float:
        """When poll_frame(link) will next have a frame within budget (consistent with its choice)."""
        cands = self._candidates(link)
        if not cands:
            return math.inf
        start = max(self._now, min(c.not_before for c in cands))
        top = next(c for c in cands if c.not_before <= start)
        return self._outboxes[link].budget_time(top.size, start)

    def _render(self, link: str, cand: Candidate) -> Answer | None:
        match cand.source:
            case Source.CONTROL:
                queued = self._outboxes[link].control(cand.tag)
                return Answer(queued.data) if queued is not None else None
            case Source.REQUEST:
                transfer = self._transfers.get(cand.short_id)
                request = transfer.requests.get(link) if transfer is not None else None
                return Answer(request.data) if request is not None else None
        transfer = self._transfers.get(cand.short_id)
        return self._server.render(transfer, link, cand) if transfer is not None else None

    def _sent(self, link: str, cand: Candidate, answer: Answer, now: float) -> None:
        self._settle(link, cand, lambda transfer: self._server.sent(transfer, link, cand, answer, now))

    def _discard(self, link: str, cand: Candidate) -> None:
        self._settle(link, cand, lambda transfer: self._server.unrenderable(transfer, link, cand))

    def _settle(self, link: str, cand: Candidate, served: Callable[[WorkTransfer], None]) -> None:
        """A candidate left the link (sent or unrenderable): clear it; ``served`` settles a serve job."""
        transfer = self._transfers.get(cand.short_id)
        match cand.source:
            case Source.CONTROL:
                self._outboxes[link].cancel(cand.tag)
            case Source.REQUEST if transfer is not None:
                transfer.requests.pop(link, None)
                self._transfers.tidy(transfer)
            case Source.PIECE | Source.CHUNK | Source.CODED if transfer is not None:
                served(transfer)

    # ------------------------------------------------------------------ receive handlers

    def _on_data(self, frame: fr.DataChunk, link: str, neighbour: str, now: float,
                 margin: float | None = None) -> None:
        short = frame.short_id
        signed = self._manifest(short)
        if signed is None:
            transfer = self._transfers.get(short)
            if self._takedowns.get(short) is not None:
                self._drop(DropReason.TAKEN_DOWN, link)
            elif transfer is None or transfer.fetch is None:
                self._drop(DropReason.UNKNOWN_WORK, link)
            elif not self._transfers.keep_early(transfer, frame.index, frame.data):
                self._drop(DropReason.DUPLICATE, link)
            return
        if not signed.manifest.verify_chunk(frame.index, frame.data):
            self._drop(DropReason.BAD_CHUNK, link)
            return
        transfer = self._transfers.get_or_create(short, signed.work_id)
        self._server.heard(transfer, link, chunks=1 << frame.index, holdoff_until=now + self._holdoff(link, short),
                           charge_at=now)
        self._fetcher.transfer_heard(short, link, now)
        if frame.index not in self.store.have_chunks(signed.work_id):
            self._fetcher.source_heard(short, link, margin, now)
        new, completed = self._fetcher.store_chunks(transfer, [(frame.index, frame.data)], link, now)
        self._transfers.tidy(transfer)
        if completed:
            self._adverts.inventory_changed(now)
        if new:
            self._adverts.proven(neighbour, now)
        else:
            self._drop(DropReason.DUPLICATE, link)

    def _on_coded(self, frame: fr.CodedChunk, link: str, neighbour: str, now: float,
                  margin: float | None = None) -> None:
        short = frame.short_id
        signed = self._manifest(short)
        if signed is None:
            taken_down = self._takedowns.get(short) is not None
            self._drop(DropReason.TAKEN_DOWN if taken_down else DropReason.UNKNOWN_WORK, link)
            return
        work_id = signed.work_id
        mask = coded_indices(short, frame.seed, signed.manifest.chunk_count)
        if not mask:
            self._drop(DropReason.MALFORMED, link)
            return
        have = self.store.have_chunks(work_id)
        payload = chunk_int(frame.data)
        unknown = 0
        for index in bits(mask):
            if index in have:
                payload ^= chunk_int(self.store.get_chunk(work_id, index) or b"")
            else:
                unknown |= 1 << index
        transfer = self._transfers.get_or_create(short, work_id)
        if not unknown:
            # we hold every chunk it names: an exact check. Only a verified frame, or one from a
            # neighbour proven to serve, counts as served or as data flowing: anyone can make a
            # junk CODED frame from a public short id.
            if payload:
                self._transfers.tidy(transfer)
                self._drop(DropReason.BAD_CODED, link)
                return
            self._server.heard(transfer, link, chunks=mask, coded=True,
                               holdoff_until=now + self._holdoff(link, short), charge_at=now)
            self._fetcher.transfer_heard(short, link, now)
            self._transfers.tidy(transfer)
            self._drop(DropReason.DUPLICATE, link)
            return
        trusted = self._adverts.is_proven(neighbour, now)
        if trusted:  # unverifiable here, but its sender has served verified data lately
            self._server.heard(transfer, link, chunks=mask, coded=True,
                               holdoff_until=now + self._holdoff(link, short), charge_at=now)
            self._fetcher.transfer_heard(short, link, now)
        if not trusted and unknown.bit_count() > 1:
            # an equation nobody vouches for would sit in the decoder, and one junk row spoils
            # every chunk decoded with it: only neighbours that served us feed the decoder (a frame
            # naming one chunk we lack decodes at once and is checked against its hash)
            self._transfers.tidy(transfer)
            self._drop(DropReason.UNTRUSTED_CODED, link)
            return
        decoded = self._transfers.decoder(transfer).add(unknown, payload)
        if decoded is None:
            self._drop(DropReason.CODED_BUFFER_FULL, link)
        elif not decoded:
            self._count(DropReason.CODED_BUFFERED)
            if trusted:
                self._fetcher.progress(short, link, now)
        else:
            self._adverts.proven(neighbour, now)
            self._fetcher.source_heard(short, link, margin, now)
            if self._fetcher.store_decoded(transfer, decoded, link, now):
                self._adverts.inventory_changed(now)
        self._transfers.tidy(transfer)

    def _on_manifest_piece(self, frame: fr.ManifestPiece, link: str, neighbour: str, now: float,
                           margin: float | None = None) -> None:
        short = frame.short_id
        if short in self._held:
            signed = self._manifest(short)
            if signed is not None and fr.manifest_piece(signed.raw, short, frame.index) == frame:
                transfer = self._transfers.get(short)
                if transfer is not None:
                    self._server.heard(transfer, link, piece=frame.index, holdoff_until=now + self._holdoff(link),
                                       charge_at=now)
                self._drop(DropReason.DUPLICATE, link)
            else:
                self._drop(DropReason.BAD_MANIFEST_PIECE, link)
            return
        if self._takedowns.get(short) is not None:
            self._drop(DropReason.TAKEN_DOWN, link)
            return
        if frame.total_len > MAX_MANIFEST_BYTES:
            self._drop(DropReason.OVERSIZE, link)
            return
        assembly = self._transfers.assembly(short, frame.total_len, neighbour)
        added = assembly.add(frame.index, frame.data)
        if not self._variants.note(short, frame.total_len, frame.index, frame.data, neighbour) and not added:
            self._drop(DropReason.DUPLICATE, link)
            return
        transfer = self._transfers.get_or_create(short)
        if not self._variants.suspect(neighbour):
            if transfer.fetch is None and self._limiters[link].allow(neighbour, now):
                # overheard a manifest whose advert we missed: fetch the rest now, while its data flows
                self._fetcher.want_overheard(short, link, neighbour, now)
            self._fetcher.progress(short, link, now)
            self._fetcher.source_heard(short, link, margin, now)
        # assembled from every distinct piece heard, not the first per index: a forged piece
        # sent before the genuine one (or forged lengths evicting the assembly) cannot poison it
        asked = transfer.fetch.neighbour if transfer.fetch is not None else None
        raw = self._variants.resolve(short, frame.total_len, lambda r: self._fits(short, r), prefer=asked)
        direct = assembly.assembled()
        if raw is None and direct is not None:  # every index is in, and no combination is the work
            known_bad = self._fetcher.rejected(hashlib.sha256(direct).digest())
            # keep the pieces suppliers agree on: the next request asks only for the rest
            keep = self._variants.failed(short, frame.total_len, assembly.pieces, now)
            assembly.pieces = {} if known_bad or len(keep) == assembly.piece_count else keep
            if not assembly.pieces:
                transfer.assemblies.clear()
                self._transfers.tidy(transfer)
            self._drop(DropReason.REJECTED if known_bad else DropReason.MANIFEST_ID_MISMATCH, link)
        elif raw is not None:
            supplier = assembly.neighbour
            for honest in self._variants.assembled(short, raw, now):
                self._adverts.proven(honest, now)
            transfer.assemblies.clear()
            self._accept_manifest(transfer, raw, link, supplier, now)

    def _fits(self, short: bytes, raw: bytes) -> bool:
        """True when ``raw`` hashes to ``short`` and did not fail verification before."""
        digest = hashlib.sha256(raw).digest()
        return digest[:4] == short and not self._fetcher.rejected(digest)

    def _accept_manifest(self, transfer: WorkTransfer, raw: bytes, link: str, neighbour: str, now: float) -> None:
        short = transfer.short_id
        digest = hashlib.sha256(raw).digest()
        if digest[:4] != short:
            self._transfers.tidy(transfer)
            self._drop(DropReason.MANIFEST_ID_MISMATCH, link)
            return
        if self._fetcher.rejected(digest):  # this very manifest failed once: no second check
            self._transfers.tidy(transfer)
            self._drop(DropReason.REJECTED, link)
            return
        try:
            signed = verify_manifest(raw, self.trust)
        except VerificationError as exc:
            self._drop(DropReason.of(exc.reason), link)
            self._fetcher.reject(short, digest, neighbour, now)
            return
        if self.store.is_taken_down(signed.work_id):
            self._transfers.tidy(transfer)
            self._drop(DropReason.TAKEN_DOWN, link)
            return
        refused = self._keys.refuses(signed, now)
        if refused is not None:  # a revoked key, or an endorsement expired at trusted time
            self._drop(refused, link)
            self._fetcher.reject(short, digest, neighbour, now)
            return
        try:
            self.store.put_manifest(signed)
        except StoreError as exc:
            self._drop(DropReason.of(exc.reason), link)
            self._transfers.stop_fetching(transfer)
            return
        self._hold(signed.work_id, signed.manifest.created)
        self._variants.forget(short)
        transfer = self._transfers.get_or_create(short, signed.work_id)
        self._events.append(ManifestReceived(signed.work_id, link))
        for index, data in self._transfers.take_early(transfer):
            self._on_data(fr.DataChunk(short, index, data), link, neighbour, now)
        self._fetcher.want_verified(signed.work_id, neighbour, link, now)
        self._adverts.reset(now)  # relays advertise a new partial work at once (pipelining)

    def _on_request(self, req: fr.Request, link: str, neighbour: str, now: float, margin: float | None) -> None:
        short = req.short_id
        if req.target == fr.TARGET_TAKEDOWN:
            takedown = self._takedowns.get(short)
            if takedown is not None:
                self._takedowns.offer(takedown, link, now)
            return
        if req.target == fr.TARGET_REVOCATION:
            revocation = self._revocations.get(short)
            if revocation is not None:
                self._revocations.offer(revocation, link, now)
            return
        transfer = self._transfers.get(short)
        if transfer is not None and transfer.fetch is not None:
            self._fetcher.overheard_request(transfer, req, link, neighbour, now)
        signed = self._manifest(short)
        if signed is None:
            return
        transfer = self._transfers.get_or_create(short, signed.work_id)
        if not self._server.on_request(transfer, signed, req, link, neighbour, now, margin):
            self._drop(DropReason.ANSWER_CREDIT, link)  # this requester used its share of our airtime lately
        self._transfers.tidy(transfer)

    def _on_advert(self, advert: fr.Advert, link: str, neighbour: str, now: float) -> None:
        self._adverts.heard(advert, link, neighbour, suspect=self._fetcher.suspicion(neighbour) > 0, now=now)
        for entry in advert.entries:
            self._on_advert_entry(entry, link, neighbour, now)

    def _on_advert_entry(self, entry: fr.AdvertEntry, link: str, neighbour: str, now: float) -> None:
        short = entry.short_id
        takedown = self._takedowns.get(short)
        if takedown is not None:
            if entry.state != fr.STATE_TAKEN_DOWN:
                self._takedowns.offer(takedown, link, now)  # an old copy is being offered: refuse, tell
            return
        if entry.state == fr.STATE_TAKEN_DOWN:
            self._takedowns.ask(short, link, now)
            return
        if entry.state == fr.STATE_REVOKED:
            if self._revocations.get(short) is None:
                self._revocations.ask(short, link, now)
            return
        held = self._held.get(short)
        work_id = held.work_id if held is not None else None
        if work_id is not None:
            self._server.advertised(link, neighbour, short, now)  # it verified the manifest we may have sent
        if work_id is not None and (self.store.is_complete(work_id) or entry.state == 0):
            return  # we hold it, or they hold the manifest only: nothing we lack
        helps = work_id is None or entry.state == fr.STATE_COMPLETE or \
            entry.state > len(self.store.have_chunks(work_id))
        self._fetcher.want_advertised(short, work_id, link, neighbour, now, helps=helps)

    def _on_takedown(self, frame: fr.TakedownFrame, link: str, now: float) -> None:
        try:
            takedown = verify_takedown(frame.raw, self.trust)
        except VerificationError as exc:
            self._drop(DropReason.of(exc.reason), link)
            return
        short = takedown.work_id[:4]
        if self._takedowns.get(short) is not None:
            self._takedowns.heard_again(short, link)  # someone else said it
            self._drop(DropReason.DUPLICATE, link)
            return
        self._apply_takedown(takedown, now)

    def _on_revocation(self, frame: fr.RevocationFrame, link: str, now: float) -> None:
        try:
            revocation = verify_revocation(frame.raw, self.trust)
        except VerificationError as exc:
            self._drop(DropReason.of(exc.reason), link)
            return
        if self.store.is_revoked(revocation.key):
            self._revocations.heard_again(revocation.short_id, link)
            self._drop(DropReason.DUPLICATE, link)
            return
        self._apply_revocation(revocation, now)

    def _on_status(self, beacon: fr.StatusBeacon, link: str, rx_info: RxInfo, now: float) -> None:
        reason = self._beacons.accept(beacon, link, now)
        if reason is not None:
            self._drop(reason, link)
            return
        if rx_info.sender is not None:
            self._server.bind(rx_info.sender, beacon.node_key, now)  # budgets follow the signed key
        self._events.append(PeerStatus(
            node_key=beacon.node_key, venue=beacon.venue, lat=beacon.lat, lon=beacon.lon,
            version=beacon.version, uptime_s=beacon.uptime_s, airtime_permille=beacon.airtime_permille,
            works_held=beacon.works_held, link=link, snr=rx_info.snr, rssi=rx_info.rssi))

    # ------------------------------------------------------------------ local changes and helpers

    def _apply_takedown(self, takedown: Takedown, now: float) -> None:
        short = takedown.work_id[:4]
        self.store.apply_takedown(takedown)
        self._forget_work(short)
        self._takedowns.spread(takedown, now, cancel=lambda tag: isinstance(tag, tuple) and short in tag)
        self._events.append(WorkTakenDown(takedown.work_id))
        self._adverts.inventory_changed(now)

    def _apply_revocation(self, revocation: Revocation, now: float) -> None:
        self.store.apply_revocation(revocation)
        for short, held in list(self._held.items()):  # gone now, or earlier (recorded by the CLI)
            if self.store.get_manifest(held.work_id) is None:
                self._forget_work(short)
                self._events.append(WorkTakenDown(held.work_id))
        self._revocations.spread(revocation, now)
        self._adverts.inventory_changed(now)

    def _forget_work(self, short: bytes) -> None:
        """Every trace of a work goes: its transfer, its answer credits, its place in the index."""
        self._transfers.forget(short)
        self._variants.forget(short)
        self._server.forget(short)
        self._held.pop(short, None)

    def _send_beacon(self, now: float) -> None:
        used = max((ob.airtime_used(now) for ob in self._outboxes.values()), default=0.0)
        works = sum(1 for s in self.store.summaries() if s.complete)
        data = self._beacons.make(now, used, works)
        for name, outbox in self._outboxes.items():
            outbox.put(("status",), data, PRIO_STATUS, now + self._rng.uniform(0, 2) * self._links[name].slot_s)

    def _hold(self, work_id: bytes, created: int) -> None:
        short = work_id[:4]
        if short not in self._held:
            self._held[short] = HeldWork(work_id, (created, work_id))

    def _rank(self, short: bytes) -> tuple[int, bytes]:
        """Where a work stands in publishing order (earlier works are served first)."""
        held = self._held.get(short)
        return held.rank if held is not None else (0, b"")

    def _data_rate(self, link: str) -> float:
        """The share of its bulk-data rate congestion control allows on ``link`` (1 on IP links)."""
        load = self._loads.get(link)
        return load.rate if load is not None else 1.0

    def _manifest(self, short: bytes) -> SignedManifest | None:
        """The stored manifest of a short id."""
        held = self._held.get(short)
        return self.store.get_manifest(held.work_id) if held is not None else None

    def _holdoff(self, link: str, short: bytes | None = None) -> float:
        """How long to hold a serve job back after hearing another sender; partial holders defer longer."""
        slots = self.config.serve_holdoff_slots
        held = self._held.get(short) if short is not None else None
        if held is not None and not self.store.is_complete(held.work_id):
            slots *= self.config.partial_holdoff_factor
        return slots * self._links[link].slot_s

    def _check_link(self, link: str) -> str:
        if link not in self._links:
            raise UnknownLinkError(f"unknown link {link!r}; configured: {', '.join(self._links)}")
        return link

    def _admitted(self, limiter: NeighbourLimiter, link: str, neighbour: str, now: float) -> bool:
        if limiter.allow(neighbour, now):
            return True
        self._drop(DropReason.RATE_LIMITED, link)
        return False

    def _count(self, reason: DropReason) -> None:
        self._drops[reason] = self._drops.get(reason, 0) + 1

    def _drop(self, reason: DropReason, link: str) -> None:
        self._count(reason)
        self._events.append(FrameDropped(reason, link))
