"""The content-store interface shared by the SQLite store (daemon) and the memory store
(simulator and tests).

Callers hand the store only verified data: a manifest that passed ``verify_manifest``, a
chunk that ``Manifest.verify_chunk`` accepted, a takedown that verified. The store checks
chunk hashes again (defence in depth), enforces quotas and takedowns, and marks a work
complete only after the whole content matches the manifest's SHA-256, atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from node.artwork.bundle import Bundle
from node.artwork.manifest import SignedManifest
from node.artwork.revocation import Revocation
from node.artwork.takedown import Takedown


class StoreError(Exception):
    """Base class for refusals by the store (local misuse or policy)."""

    reason = "store-error"


class QuotaExceeded(StoreError):
    """The store or the artist has no room for this work."""

    reason = "quota"


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full: nothing new can be written."""

    reason = "disk-full"


class TakenDown(StoreError):
    """The work was taken down by a curator and may not come back."""

    reason = "taken-down"


class Revoked(StoreError):
    """The work's artist key was revoked by a curator: its works may not come (back)."""

    reason = "revoked-key"


class UnknownWork(StoreError):
    """No manifest is stored for this work id."""

    reason = "unknown-work"


class BadChunk(StoreError):
    """A chunk does not match its manifest hash."""

    reason = "hash-mismatch"


@dataclass(frozen=True)
class Quotas:
    """Storage limits in bytes of content (manifests count too)."""

    total_bytes: int = 512 * 1024 * 1024
    per_artist_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True)
class BeaconGuard:
    """The beacon replay guard of one node key, kept across reboots: the boot id and sequence
    of its newest accepted beacon, the boot ids before it, and how many beacons it had accepted."""

    node_key: bytes
    boot_id: int
    seq: int
    old_boots: tuple[int, ...] = ()
    beacons: int = 1


@dataclass(frozen=True)
class WorkSummary:
    """What a listing shows of one stored work."""

    work_id: bytes
    signed: SignedManifest
    chunks_have: int
    chunks_total: int
    complete: bool
    received_at: float  # Unix seconds, from the store's own wall clock when the manifest was stored

    @property
    def fraction(self) -> float:
        """Share of chunks held, 0..1."""
        return self.chunks_have / self.chunks_total if self.chunks_total else 1.0


class WorkStore(Protocol):
    """Operations every store offers. All methods are synchronous and quick."""

    def put_manifest(self, signed: SignedManifest) -> bool:
        """Store a verified manifest, stamped with the store's wall clock; False if already present.

        Raises TakenDown/QuotaExceeded.
        """
        ...

    def get_manifest(self, work_id: bytes) -> SignedManifest | None:
        """The manifest of ``work_id``, or None."""
        ...

    def put_chunk(self, work_id: bytes, index: int, data: bytes) -> bool:
        """Store one verified chunk; True if it was new. Marks the work complete when whole."""
        ...

    def get_chunk(self, work_id: bytes, index: int) -> bytes | None:
        """One stored chunk, or None."""
        ...

    def have_chunks(self, work_id: bytes) -> set[int]:
        """Indices of stored chunks."""
        ...

    def is_complete(self, work_id: bytes) -> bool:
        """True only when every chunk is stored and the whole content verified."""
        ...

    def content(self, work_id: bytes) -> bytes | None:
        """The whole content of a complete work, else None."""
        ...

    def ingest_bundle(self, bundle: Bundle) -> bool:
        """Store a verified bundle atomically; False if it was already complete."""
        ...

    def apply_takedown(self, takedown: Takedown) -> bool:
        """Record a verified takedown and delete the work; True if it was new."""
        ...

    def is_taken_down(self, work_id: bytes) -> bool:
        """True when a takedown for ``work_id`` is recorded."""
        ...

    def takedowns(self) -> list[Takedown]:
        """All recorded takedowns."""
        ...

    def apply_revocation(self, revocation: Revocation) -> list[bytes]:
        """Record a verified revocation; for an artist key, delete its works (their ids returned)."""
        ...

    def revocations(self) -> list[Revocation]:
        """All recorded revocations."""
        ...

    def is_revoked(self, key: bytes) -> bool:
        """True when a revocation of ``key`` is recorded."""
        ...

    def beacon_guards(self) -> list[BeaconGuard]:
        """Every stored beacon replay guard."""
        ...

    def put_beacon_guard(self, guard: BeaconGuard) -> None:
        """Store (or replace) the replay guard of ``guard.node_key``."""
        ...

    def drop_beacon_guard(self, node_key: bytes) -> None:
        """Forget the replay guard of ``node_key``."""
        ...

    def work_ids(self) -> list[bytes]:
        """Ids of all works with a stored manifest, in a stable order."""
        ...

    def summaries(self) -> list[WorkSummary]:
        """A summary of every stored work."""
        ...

    def summary(self, work_id: bytes) -> WorkSummary | None:
        """The summary of one stored work, or None."""
        ...

    def delete_work(self, work_id: bytes) -> None:
        """Remove a work's manifest and chunks."""
        ...

    def used_bytes(self) -> int:
        """Bytes counted against the total quota."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...
