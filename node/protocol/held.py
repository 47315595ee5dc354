"""The index of stored works by short id, and their publishing order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from node.artwork.manifest import SignedManifest
from node.store.base import WorkStore


@dataclass(frozen=True)
class HeldWork:
    """A work whose verified manifest is stored here."""

    work_id: bytes
    rank: tuple[int, bytes]  # publishing order: (the manifest's creation time, work id), the same on every node


class HeldWorks:
    """Every work whose manifest the store holds, by short id (the first 4 bytes of its id)."""

    def __init__(self, store: WorkStore) -> None:
        self._store = store
        self._by_short: dict[bytes, HeldWork] = {}

    def __contains__(self, short: bytes) -> bool:
        return short in self._by_short

    def get(self, short: bytes) -> HeldWork | None:
        """The held work with this short id, or None."""
        return self._by_short.get(short)

    def items(self) -> Iterator[tuple[bytes, HeldWork]]:
        """(short id, work) pairs, in the order the works were first held."""
        return iter(list(self._by_short.items()))

    def hold(self, work_id: bytes, created: int) -> None:
        """Index a work whose manifest was stored (a second call for the same short id changes nothing)."""
        short = work_id[:4]
        if short not in self._by_short:
            self._by_short[short] = HeldWork(work_id, (created, work_id))

    def forget(self, short: bytes) -> None:
        """Drop a work from the index (taken down or revoked)."""
        self._by_short.pop(short, None)

    def rank(self, short: bytes) -> tuple[int, bytes]:
        """Where a work stands in publishing order (earlier works are served first)."""
        held = self._by_short.get(short)
        return held.rank if held is not None else (0, b"")

    def manifest(self, short: bytes) -> SignedManifest | None:
        """The stored manifest of a short id."""
        held = self._by_short.get(short)
        return self._store.get_manifest(held.work_id) if held is not None else None
