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
(wants, requests, storing chunks), the :class:`~node.protocol.intake.Intake` (chunks, coded
chunks and manifest pieces heard; manifest assembly, verification and acceptance), the
:class:`~node.protocol.serving.Server` (answers and answer credits),
:class:`~node.protocol.scheduling.LinkScheduler` (each link's next frame, refused frames),
:class:`~node.protocol.held.HeldWorks` (stored works by short id),
:class:`~node.protocol.adverts.Adverts` (Trickle),
:class:`~node.protocol.takedowns.CuratorOrders` (takedowns and revocations),
:class:`~node.protocol.keypolicy.KeyPolicy` (revoked keys, expired endorsements at trusted time),
:class:`~node.protocol.variants.PieceVariants` (manifest pieces by content) and
:class:`~node.protocol.beacons.Beacons`;
per link a :class:`~node.protocol.outbox.LinkOutbox` (control queue and budget). The engine
dispatches frames to them and keeps the per-link counters and the event queue.

After every call that changes state, a driver calls ``poll_frame``/``frames_to_send``,
``next_event`` until None, and re-arms its single timer at ``get_timer()``.
The dissemination rules are described in docs/PROTOCOL.md.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import replace

from node.artwork.bundle import Bundle
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.keys import SecretKey
from node.artwork.revocation import Revocation, verify_revocation
from node.artwork.takedown import Takedown, verify_takedown
from node.protocol import frames as fr
from node.protocol.adverts import Adverts
from node.protocol.beacons import Beacons
from node.protocol.config import EngineConfig, EngineStatus, LinkConfig, LinkStatus
from node.protocol.congestion import ChannelLoad
from node.protocol.drops import DropReason
from node.protocol.errors import UnknownLinkError
from node.protocol.events import (
    Event,
    FrameDropped,
    PeerStatus,
    RxInfo,
    WorkTakenDown,
)
from node.protocol.fetching import Fetcher
from node.protocol.held import HeldWorks
from node.protocol.intake import Intake
from node.protocol.keypolicy import KeyPolicy
from node.protocol.outbox import (
    PRIO_ADVERT,
    PRIO_STATUS,
    LinkOutbox,
)
from node.protocol.peers import NeighbourLimiter
from node.protocol.scheduling import LinkScheduler
from node.protocol.serving import Server
from node.protocol.takedowns import revocations, takedowns
from node.protocol.transfer import TransferTable
from node.protocol.variants import PieceVariants
from node.store.base import WorkStore

MAX_QUEUED_EVENTS = 4096


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
        self._held = HeldWorks(store)  # by short id: every stored work
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
                                self._events.append, self._drop, self._count, self._held.rank, self._data_rate)
        self._server = Server(config, self._links, self._outboxes, self._transfers, store, rng, self._held.rank)
        self._intake = Intake(config, self._links, trust, store, self._held, self._transfers, self._variants,
                              self._keys, self._fetcher, self._server, self._adverts, self._takedowns,
                              self._limiters, self._events.append, self._drop, self._count)
        self._scheduler = LinkScheduler(config, self._links, self._outboxes, self._loads, self._held, self._transfers,
                                        self._fetcher, self._server, self._takedowns, self._revocations)
        for work_id in store.work_ids():
            signed = store.get_manifest(work_id)
            self._held.hold(work_id, signed.manifest.created if signed is not None else 0)
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
                self._intake.on_data(frame, link, neighbour, now, margin)
            case fr.CodedChunk():
                self._intake.on_coded(frame, link, neighbour, now, margin)
            case fr.ManifestPiece():
                self._intake.on_manifest_piece(frame, link, neighbour, now, margin)
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
        data = self._scheduler.poll(self._check_link(link), now)
        if data is not None:
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
        stats = self._stats[self._check_link(link)]
        stats.refused += 1
        stats.frames_out -= 1
        stats.bytes_out -= len(data)
        self._scheduler.refused(link, data, now)

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
        deadlines += [self._scheduler.ready_at(link, self._now) for link in self._links]
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
        return self._intake.ingest_bundle(bundle, now)

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

    # ------------------------------------------------------------------ control frames (data frames: Intake)

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
        signed = self._held.manifest(short)
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
        for short, held in self._held.items():  # gone now, or earlier (recorded by the CLI)
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
        self._held.forget(short)

    def _send_beacon(self, now: float) -> None:
        used = max((ob.airtime_used(now) for ob in self._outboxes.values()), default=0.0)
        works = sum(1 for s in self.store.summaries() if s.complete)
        data = self._beacons.make(now, used, works)
        for name, outbox in self._outboxes.items():
            outbox.put(("status",), data, PRIO_STATUS, now + self._rng.uniform(0, 2) * self._links[name].slot_s)

    def _data_rate(self, link: str) -> float:
        """The share of its bulk-data rate congestion control allows on ``link`` (1 on IP links)."""
        load = self._loads.get(link)
        return load.rate if load is not None else 1.0

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
