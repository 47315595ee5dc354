"""What a flooding node holds: verified works in its store, and pieces of works it cannot verify yet.

Pieces arrive keyed by a work's 4-byte short id. Until the manifest has been assembled and its
signature verified, they wait here, for at most ``MAX_UNVERIFIED`` works (the least recently
fed one is forgotten first) and ``MAX_EARLY_PIECES`` pieces per work. Once the manifest verifies,
the work is known by its full id: the store holds it, and waiting chunks move there.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from dataclasses import dataclass, field

from node.artwork import TrustAnchors
from node.artwork.bundle import Bundle
from node.artwork.errors import VerificationError
from node.artwork.manifest import verify_manifest
from node.store.base import StoreError, WorkStore
from simulator.flood.frames import (
    Kind,
    Piece,
    PieceKey,
    Section,
    chunk_piece,
    manifest_body,
    manifest_piece,
    manifest_piece_count,
)

MAX_UNVERIFIED = 32
MAX_EARLY_PIECES = 2048


@dataclass
class _Unverified:
    """Pieces of a work whose manifest has not verified yet."""

    count: int | None = None  # manifest pieces in all, once any manifest piece was heard
    manifest: dict[int, bytes] = field(default_factory=dict)
    chunks: dict[int, bytes] = field(default_factory=dict)


@dataclass
class FloodHoldings:
    """A node's works and waiting pieces; kept across reboots (the store is on disk)."""

    store: WorkStore
    trust: TrustAnchors
    verified: dict[bytes, bytes] = field(default_factory=dict)  # short id -> full work id
    unverified: OrderedDict[bytes, _Unverified] = field(default_factory=OrderedDict)
    rejected_manifests: int = 0

    def add_own(self, bundle: Bundle, now: float) -> None:
        """A work this node publishes: stored whole."""
        self.store.ingest_bundle(bundle)
        self.verified[bundle.signed.short_id] = bundle.work_id
        self.unverified.pop(bundle.signed.short_id, None)

    def take(self, piece: Piece, now: float) -> bool:
        """Keep ``piece``; True if it was new to this node."""
        work_id = self.verified.get(piece.short)
        if work_id is not None:
            if piece.kind is Kind.CHUNK:
                with contextlib.suppress(StoreError):
                    return self.store.put_chunk(work_id, piece.index, piece.body)
            return False
        waiting = self.unverified.get(piece.short)
        if waiting is None:
            waiting = self.unverified[piece.short] = _Unverified()
            if len(self.unverified) > MAX_UNVERIFIED:
                self.unverified.popitem(last=False)
        self.unverified.move_to_end(piece.short)
        if len(waiting.manifest) + len(waiting.chunks) >= MAX_EARLY_PIECES:
            return False
        if piece.kind is Kind.CHUNK:
            if piece.index in waiting.chunks:
                return False
            waiting.chunks[piece.index] = piece.body
            return True
        if waiting.count is not None and piece.count != waiting.count:
            return False  # pieces of another manifest under the same short id
        if piece.index in waiting.manifest:
            return False
        waiting.count = piece.count
        waiting.manifest[piece.index] = piece.body
        if len(waiting.manifest) == piece.count:
            self._verify(piece.short, waiting, now)
        return True

    def missing(self, short: bytes) -> tuple[Section, list[int]] | None:
        """What this node still lacks of the work ``short``, section by section; None if nothing (or unknown).

        An empty manifest list means the whole manifest (no piece of it was heard).
        """
        work_id = self.verified.get(short)
        if work_id is not None:
            signed = self.store.get_manifest(work_id)
            if signed is None:
                return None
            have = self.store.have_chunks(work_id)
            lacking = [i for i in range(signed.manifest.chunk_count) if i not in have]
            return (Section.CHUNKS, lacking) if lacking else None
        waiting = self.unverified.get(short)
        if waiting is None:
            return None
        if waiting.count is None:
            return (Section.MANIFEST, [])
        return (Section.MANIFEST, [i for i in range(waiting.count) if i not in waiting.manifest])

    def pieces_named(self, short: bytes, section: Section, indices: tuple[int, ...]) -> list[PieceKey]:
        """The pieces a missing list names; an empty manifest list names every manifest piece held."""
        kind = Kind.MANIFEST if section is Section.MANIFEST else Kind.CHUNK
        if section is Section.MANIFEST and not indices:
            count = self._manifest_count(short)
            indices = tuple(range(count)) if count is not None else ()
        return [(short, kind, i) for i in indices]

    def payload(self, key: PieceKey) -> bytes | None:
        """The payload that carries piece ``key``, if this node holds it."""
        short, kind, index = key
        work_id = self.verified.get(short)
        if work_id is not None:
            signed = self.store.get_manifest(work_id)
            if signed is None:
                return None
            if kind is Kind.MANIFEST:
                count = manifest_piece_count(signed.raw)
                return manifest_piece(short, index, count, manifest_body(signed.raw, index)) if index < count else None
            chunk = self.store.get_chunk(work_id, index)
            return None if chunk is None else chunk_piece(short, index, chunk)
        waiting = self.unverified.get(short)
        if waiting is None:
            return None
        if kind is Kind.MANIFEST:
            body = waiting.manifest.get(index)
            return None if body is None or waiting.count is None else manifest_piece(short, index, waiting.count, body)
        chunk = waiting.chunks.get(index)
        return None if chunk is None else chunk_piece(short, index, chunk)

    def known(self) -> list[bytes]:
        """Short ids of every work this node holds or has pieces of, sorted."""
        return sorted({*self.verified, *self.unverified})

    def _manifest_count(self, short: bytes) -> int | None:
        work_id = self.verified.get(short)
        if work_id is not None:
            signed = self.store.get_manifest(work_id)
            return None if signed is None else manifest_piece_count(signed.raw)
        waiting = self.unverified.get(short)
        return None if waiting is None else waiting.count

    def _verify(self, short: bytes, waiting: _Unverified, now: float) -> None:
        assert waiting.count is not None
        raw = b"".join(waiting.manifest[i] for i in range(waiting.count))
        try:
            signed = verify_manifest(raw, self.trust)
            self.store.put_manifest(signed)
        except (VerificationError, StoreError):
            self.rejected_manifests += 1
            waiting.manifest.clear()
            waiting.count = None
            return
        if signed.short_id != short:
            self.rejected_manifests += 1
            waiting.manifest.clear()
            waiting.count = None
            return
        del self.unverified[short]
        self.verified[short] = signed.work_id
        for index in sorted(waiting.chunks):
            with contextlib.suppress(StoreError):
                self.store.put_chunk(signed.work_id, index, waiting.chunks[index])
