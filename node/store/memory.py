"""In-memory twin of the SQLite store, for the simulator and tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from node.artwork import chunks as chunking
from node.artwork.bundle import Bundle
from node.artwork.manifest import SignedManifest
from node.artwork.revocation import Revocation
from node.artwork.takedown import Takedown
from node.store.base import (
    BadChunk,
    BeaconGuard,
    QuotaExceeded,
    Quotas,
    Revoked,
    TakenDown,
    UnknownWork,
    WorkSummary,
)


class MemoryStore:
    """A :class:`~node.store.base.WorkStore` held in dictionaries."""

    def __init__(self, quotas: Quotas | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.quotas = quotas or Quotas()
        self._clock = clock  # wall clock (Unix seconds) for ``received_at``
        self._manifests: dict[bytes, SignedManifest] = {}
        self._received: dict[bytes, float] = {}
        self._chunks: dict[bytes, dict[int, bytes]] = {}
        self._complete: set[bytes] = set()
        self._takedowns: dict[bytes, Takedown] = {}
        self._revocations: dict[bytes, Revocation] = {}
        self._guards: dict[bytes, BeaconGuard] = {}

    def _work_bytes(self, signed: SignedManifest) -> int:
        return len(signed.raw) + signed.manifest.size

    def _artist_bytes(self, artist: bytes) -> int:
        return sum(self._work_bytes(s) for s in self._manifests.values() if s.manifest.artist == artist)

    def put_manifest(self, signed: SignedManifest) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        wid = signed.work_id
        if wid in self._takedowns:
            raise TakenDown(wid.hex())
        if signed.manifest.artist in self._revocations:
            raise Revoked(signed.manifest.artist.hex()[:16])
        if wid in self._manifests:
            return False
        need = self._work_bytes(signed)
        if self.used_bytes() + need > self.quotas.total_bytes:
            raise QuotaExceeded("store quota reached")
        if self._artist_bytes(signed.manifest.artist) + need > self.quotas.per_artist_bytes:
            raise QuotaExceeded("artist quota reached")
        self._manifests[wid] = signed
        self._received[wid] = self._clock()
        self._chunks[wid] = {}
        return True

    def get_manifest(self, work_id: bytes) -> SignedManifest | None:
        """See :class:`~node.store.base.WorkStore`."""
        return self._manifests.get(work_id)

    def put_chunk(self, work_id: bytes, index: int, data: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        signed = self._manifests.get(work_id)
        if signed is None:
            raise UnknownWork(work_id.hex())
        if not signed.manifest.verify_chunk(index, data):
            raise BadChunk(f"chunk {index} of {work_id.hex()[:8]}")
        held = self._chunks[work_id]
        if index in held:
            return False
        held[index] = bytes(data)
        if len(held) == signed.manifest.chunk_count:
            whole = b"".join(held[i] for i in range(len(held)))
            if chunking.content_hash(whole) == signed.manifest.content_hash:
                self._complete.add(work_id)
        return True

    def get_chunk(self, work_id: bytes, index: int) -> bytes | None:
        """See :class:`~node.store.base.WorkStore`."""
        return self._chunks.get(work_id, {}).get(index)

    def have_chunks(self, work_id: bytes) -> set[int]:
        """See :class:`~node.store.base.WorkStore`."""
        return set(self._chunks.get(work_id, {}))

    def is_complete(self, work_id: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        return work_id in self._complete

    def content(self, work_id: bytes) -> bytes | None:
        """See :class:`~node.store.base.WorkStore`."""
        if work_id not in self._complete:
            return None
        held = self._chunks[work_id]
        return b"".join(held[i] for i in range(len(held)))

    def ingest_bundle(self, bundle: Bundle) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        wid = bundle.work_id
        if wid in self._complete:
            return False
        pieces = bundle.chunks()
        for index, piece in enumerate(pieces):  # check first, so a bad bundle stores nothing
            if not bundle.signed.manifest.verify_chunk(index, piece):
                raise BadChunk(f"chunk {index} of {wid.hex()[:8]}")
        self.put_manifest(bundle.signed)
        for index, piece in enumerate(pieces):
            self.put_chunk(wid, index, piece)
        return True

    def apply_takedown(self, takedown: Takedown) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        if takedown.work_id in self._takedowns:
            return False
        self._takedowns[takedown.work_id] = takedown
        self.delete_work(takedown.work_id)
        return True

    def apply_revocation(self, revocation: Revocation) -> list[bytes]:
        """See :class:`~node.store.base.WorkStore`."""
        if revocation.key in self._revocations:
            return []
        self._revocations[revocation.key] = revocation
        if revocation.role != "artist":
            return []
        gone = sorted(w for w, s in self._manifests.items() if s.manifest.artist == revocation.key)
        for work_id in gone:
            self.delete_work(work_id)
        return gone

    def revocations(self) -> list[Revocation]:
        """See :class:`~node.store.base.WorkStore`."""
        return [self._revocations[k] for k in sorted(self._revocations)]

    def is_revoked(self, key: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        return key in self._revocations

    def beacon_guards(self) -> list[BeaconGuard]:
        """See :class:`~node.store.base.WorkStore`."""
        return [self._guards[k] for k in sorted(self._guards)]

    def put_beacon_guard(self, guard: BeaconGuard) -> None:
        """See :class:`~node.store.base.WorkStore`."""
        self._guards[guard.node_key] = guard

    def drop_beacon_guard(self, node_key: bytes) -> None:
        """See :class:`~node.store.base.WorkStore`."""
        self._guards.pop(node_key, None)

    def is_taken_down(self, work_id: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        return work_id in self._takedowns

    def takedowns(self) -> list[Takedown]:
        """See :class:`~node.store.base.WorkStore`."""
        return [self._takedowns[k] for k in sorted(self._takedowns)]

    def work_ids(self) -> list[bytes]:
        """See :class:`~node.store.base.WorkStore`."""
        return sorted(self._manifests)

    def summaries(self) -> list[WorkSummary]:
        """See :class:`~node.store.base.WorkStore`."""
        return [self._summary(wid) for wid in self.work_ids()]

    def summary(self, work_id: bytes) -> WorkSummary | None:
        """See :class:`~node.store.base.WorkStore`."""
        return self._summary(work_id) if work_id in self._manifests else None

    def _summary(self, wid: bytes) -> WorkSummary:
        return WorkSummary(
            work_id=wid,
            signed=self._manifests[wid],
            chunks_have=len(self._chunks[wid]),
            chunks_total=self._manifests[wid].manifest.chunk_count,
            complete=wid in self._complete,
            received_at=self._received[wid],
        )

    def delete_work(self, work_id: bytes) -> None:
        """See :class:`~node.store.base.WorkStore`."""
        self._manifests.pop(work_id, None)
        self._received.pop(work_id, None)
        self._chunks.pop(work_id, None)
        self._complete.discard(work_id)

    def used_bytes(self) -> int:
        """See :class:`~node.store.base.WorkStore`."""
        return sum(self._work_bytes(s) for s in self._manifests.values())

    def close(self) -> None:
        """Nothing to flush."""
