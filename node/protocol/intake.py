"""Intake: a work's data frames heard on a link (chunks, coded chunks, manifest pieces).

The :class:`Intake` checks every chunk against the stored manifest before it is stored, solves
coded frames against the chunks held (feeding the decoder only from proven neighbours),
assembles manifest pieces from every distinct variant heard, and verifies and accepts (or
rejects) an assembled manifest, or a local bundle's: signature chain, takedowns, revoked keys, expired
endorsements. It owns no state of its own: the pieces belong to the work's transfer and to
:class:`~node.protocol.variants.PieceVariants`, the chunks to the store, and what it learns
goes to the fetcher, the server and the adverts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from node.artwork.bundle import Bundle
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.manifest import MAX_MANIFEST_BYTES, verify_manifest
from node.artwork.takedown import Takedown
from node.protocol import frames as fr
from node.protocol.adverts import Adverts
from node.protocol.coding import bits, chunk_int, coded_indices
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.drops import DropReason
from node.protocol.errors import ShortIdCollisionError
from node.protocol.events import Event, ManifestReceived, WorkCompleted
from node.protocol.fetching import Fetcher
from node.protocol.held import HeldWorks
from node.protocol.keypolicy import KeyPolicy
from node.protocol.peers import NeighbourLimiter
from node.protocol.serving import Server
from node.protocol.takedowns import CuratorOrders
from node.protocol.transfer import TransferTable, WorkTransfer
from node.protocol.variants import PieceVariants
from node.store.base import StoreError, WorkStore


class Intake:
    """Receives chunks, coded chunks and manifest pieces; verifies and accepts manifests."""

    def __init__(self, config: EngineConfig, links: dict[str, LinkConfig], trust: TrustAnchors,
                 store: WorkStore, held: HeldWorks, transfers: TransferTable, variants: PieceVariants,
                 keys: KeyPolicy, fetcher: Fetcher, server: Server, adverts: Adverts,
                 takedowns: CuratorOrders[Takedown], limiters: dict[str, NeighbourLimiter],
                 emit: Callable[[Event], None], drop: Callable[[DropReason, str], None],
                 count: Callable[[DropReason], None]) -> None:
        self._config = config
        self._links = links
        self._trust = trust
        self._store = store
        self._held = held
        self._transfers = transfers
        self._variants = variants
        self._keys = keys
        self._fetcher = fetcher
        self._server = server
        self._adverts = adverts
        self._takedowns = takedowns
        self._limiters = limiters
        self._emit = emit
        self._drop = drop
        self._count = count

    def ingest_bundle(self, bundle: Bundle, now: float) -> bytes:
        """Store a local bundle and advertise it; its work id.

        Raises VerificationError (not verifiable against our trust anchors), StoreError, or
        :class:`~node.protocol.errors.ShortIdCollisionError`.
        """
        signed = verify_manifest(bundle.signed.raw, self._trust)
        refused = self._keys.refuses(signed, now)
        if refused is not None:
            raise VerificationError(refused.value, "the artist key is revoked, or its endorsement expired")
        work_id = signed.work_id
        short = work_id[:4]
        other = self._held.get(short)
        if other is not None and other.work_id != work_id:
            raise ShortIdCollisionError("another stored work has the same short id")
        self._store.ingest_bundle(bundle)
        self._held.hold(work_id, signed.manifest.created)
        transfer = self._transfers.get(short)
        if transfer is not None:
            transfer.work_id = work_id
            transfer.decoder = None
            self._transfers.take_early(transfer)
            self._transfers.stop_fetching(transfer)
        self._emit(ManifestReceived(work_id, None))
        self._emit(WorkCompleted(work_id, None))
        self._adverts.inventory_changed(now)
        return work_id

    def on_data(self, frame: fr.DataChunk, link: str, neighbour: str, now: float,
                 margin: float | None = None) -> None:
        """A plain chunk: checked against the stored manifest, stored, or kept early while the manifest comes."""
        short = frame.short_id
        signed = self._held.manifest(short)
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
        if frame.index not in self._store.have_chunks(signed.work_id):
            self._fetcher.source_heard(short, link, margin, now)
        new, completed = self._fetcher.store_chunks(transfer, [(frame.index, frame.data)], link, now)
        self._transfers.tidy(transfer)
        if completed:
            self._adverts.inventory_changed(now)
        if new:
            self._adverts.proven(neighbour, now)
        else:
            self._drop(DropReason.DUPLICATE, link)

    def on_coded(self, frame: fr.CodedChunk, link: str, neighbour: str, now: float,
                  margin: float | None = None) -> None:
        """A coded frame: checked exactly when we hold every chunk it names, else fed to the decoder
        (only from a proven sender, unless it names a single chunk we lack)."""
        short = frame.short_id
        signed = self._held.manifest(short)
        if signed is None:
            taken_down = self._takedowns.get(short) is not None
            self._drop(DropReason.TAKEN_DOWN if taken_down else DropReason.UNKNOWN_WORK, link)
            return
        work_id = signed.work_id
        mask = coded_indices(short, frame.seed, signed.manifest.chunk_count)
        if not mask:
            self._drop(DropReason.MALFORMED, link)
            return
        have = self._store.have_chunks(work_id)
        payload = chunk_int(frame.data)
        unknown = 0
        for index in bits(mask):
            if index in have:
                payload ^= chunk_int(self._store.get_chunk(work_id, index) or b"")
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

    def on_manifest_piece(self, frame: fr.ManifestPiece, link: str, neighbour: str, now: float,
                           margin: float | None = None) -> None:
        """A manifest piece: assembled with every variant heard; a complete manifest is verified and accepted."""
        short = frame.short_id
        if short in self._held:
            signed = self._held.manifest(short)
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
            signed = verify_manifest(raw, self._trust)
        except VerificationError as exc:
            self._drop(DropReason.of(exc.reason), link)
            self._fetcher.reject(short, digest, neighbour, now)
            return
        if self._store.is_taken_down(signed.work_id):
            self._transfers.tidy(transfer)
            self._drop(DropReason.TAKEN_DOWN, link)
            return
        refused = self._keys.refuses(signed, now)
        if refused is not None:  # a revoked key, or an endorsement expired at trusted time
            self._drop(refused, link)
            self._fetcher.reject(short, digest, neighbour, now)
            return
        try:
            self._store.put_manifest(signed)
        except StoreError as exc:
            self._drop(DropReason.of(exc.reason), link)
            self._transfers.stop_fetching(transfer)
            return
        self._held.hold(signed.work_id, signed.manifest.created)
        self._variants.forget(short)
        transfer = self._transfers.get_or_create(short, signed.work_id)
        self._emit(ManifestReceived(signed.work_id, link))
        for index, data in self._transfers.take_early(transfer):
            self.on_data(fr.DataChunk(short, index, data), link, neighbour, now)
        self._fetcher.want_verified(signed.work_id, neighbour, link, now)
        self._adverts.reset(now)  # relays advertise a new partial work at once (pipelining)

    def _holdoff(self, link: str, short: bytes | None = None) -> float:
        """How long to hold a serve job back after hearing another sender; partial holders defer longer."""
        slots = self._config.serve_holdoff_slots
        held = self._held.get(short) if short is not None else None
        if held is not None and not self._store.is_complete(held.work_id):
            slots *= self._config.partial_holdoff_factor
        return slots * self._links[link].slot_s
