"""A node's inventory as adverts carry it: a digest and pages of (short id, state) entries.

The digest covers only what is final: the ids of complete works and of takedowns, and the
revoked keys. Two nodes
with the same digest are consistent (Trickle rule 3); partial progress does not change it, so
an ongoing transfer does not keep the advert timers short.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from node.protocol.frames import (
    ADVERT_MAX_ENTRIES,
    DIGEST_LEN,
    MAX_CHUNK_STATE,
    STATE_COMPLETE,
    STATE_REVOKED,
    STATE_TAKEN_DOWN,
    Advert,
    AdvertEntry,
)
from node.store.base import WorkStore


def inventory_digest(complete_ids: Iterable[bytes], takedown_ids: Iterable[bytes],
                     revoked_keys: Iterable[bytes] = ()) -> bytes:
    """First 4 bytes of SHA-256 over the sorted complete-work and takedown ids and revoked keys."""
    h = hashlib.sha256(b"mesh-art/inventory/v1")
    for wid in sorted(complete_ids):
        h.update(b"W" + wid)
    for wid in sorted(takedown_ids):
        h.update(b"T" + wid)
    for key in sorted(revoked_keys):
        h.update(b"R" + key)
    return h.digest()[:DIGEST_LEN]


def inventory_entries(store: WorkStore) -> list[AdvertEntry]:
    """One entry per stored work, takedown and revocation, sorted by short id (a revocation is
    named by its key's first 4 bytes; a work with the same 4 bytes keeps its entry)."""
    entries: dict[bytes, AdvertEntry] = {}
    for summary in store.summaries():
        short = summary.work_id[:4]
        state = STATE_COMPLETE if summary.complete else min(summary.chunks_have, MAX_CHUNK_STATE)
        entries[short] = AdvertEntry(short, state)
    for takedown in store.takedowns():
        short = takedown.work_id[:4]
        entries[short] = AdvertEntry(short, STATE_TAKEN_DOWN)
    for revocation in store.revocations():
        entries.setdefault(revocation.short_id, AdvertEntry(revocation.short_id, STATE_REVOKED))
    return [entries[k] for k in sorted(entries)]


def advert_page(entries: list[AdvertEntry], digest: bytes, page: int) -> Advert:
    """Page ``page`` (taken modulo the page count) of an inventory."""
    pages = max(1, (len(entries) + ADVERT_MAX_ENTRIES - 1) // ADVERT_MAX_ENTRIES)
    pages = min(pages, 255)
    page %= pages
    chunk = entries[page * ADVERT_MAX_ENTRIES : (page + 1) * ADVERT_MAX_ENTRIES]
    return Advert(digest, page, pages, tuple(chunk))
