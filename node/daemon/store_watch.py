"""What the running daemon learns by watching its own store.

* Works, takedowns and revocations another process committed (``mesh-art ingest`` /
  ``ingest-takedown`` / ``ingest-revocation`` into
  the data directory of a running node) are handed to the engine, so the mesh is offered them
  without a restart. SQLite's ``PRAGMA data_version`` changes only when another connection
  commits, so the poll is one cheap query while nothing happens.
* The store turning unwritable (disk full) is logged once, and its recovery once.
"""

from __future__ import annotations

import asyncio
import logging

from node.artwork.bundle import Bundle
from node.artwork.errors import VerificationError
from node.daemon.driver import EngineDriver
from node.store.base import StoreError
from node.store.sqlite import SqliteStore

log = logging.getLogger("node.daemon.store")

POLL_INTERVAL_S = 1.0


class StoreWatch:
    """Polls one SQLite store for outside changes and for its writability."""

    def __init__(self, store: SqliteStore, driver: EngineDriver | None) -> None:
        self.store = store
        self.driver = driver
        self._version = store.data_version()
        self._works = set(store.work_ids())
        self._takedowns = {t.work_id for t in store.takedowns()}
        self._revocations = {r.key for r in store.revocations()}
        self._write_error: str | None = store.write_error
        self.offered = 0

    async def run(self, interval_s: float = POLL_INTERVAL_S) -> None:
        """Poll until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            self.poll()

    def poll(self) -> None:
        """One look at the store."""
        self._note_writability()
        version = self.store.data_version()
        if version == self._version:
            return
        self._version = version
        self._offer_new_takedowns()
        self._offer_new_revocations()
        self._offer_new_works()

    def _note_writability(self) -> None:
        error = self.store.write_error
        if error == self._write_error:
            return
        if error is not None:
            log.warning("store unwritable path=%s error=%s: uploads and new works are refused until space "
                        "is freed", self.store.path, error)
        else:
            log.info("store writable again path=%s", self.store.path)
        self._write_error = error

    def _offer_new_works(self) -> None:
        works = set(self.store.work_ids())
        known = set(self.driver.arrivals) if self.driver is not None else set()
        new, self._works = sorted(works - self._works - known), works
        for work_id in new:
            signed, content = self.store.get_manifest(work_id), self.store.content(work_id)
            if signed is None or content is None:
                continue  # a partial work (another node's transfer); the engine fetches those itself
            if self.driver is None:
                continue
            try:
                self.driver.ingest(Bundle(signed, content))
            except (VerificationError, StoreError, ValueError) as exc:
                log.warning("work added outside the daemon not offered work=%s error=%s", work_id.hex()[:16], exc)
                continue
            self.offered += 1
            log.info("work added outside the daemon offered to the mesh work=%s", work_id.hex()[:16])

    def _offer_new_revocations(self) -> None:
        revocations = {r.key: r for r in self.store.revocations()}
        new = sorted(set(revocations) - self._revocations)
        self._revocations = set(revocations)
        if new:
            self._works = set(self.store.work_ids())  # the revoked artist's works went with it
        for key in new:
            if self.driver is None:
                continue
            try:
                self.driver.apply_revocation(revocations[key])
            except (VerificationError, StoreError) as exc:
                log.warning("revocation added outside the daemon not spread key=%s error=%s", key.hex()[:16], exc)
                continue
            self.offered += 1
            log.info("revocation added outside the daemon spread to the mesh key=%s", key.hex()[:16])

    def _offer_new_takedowns(self) -> None:
        takedowns = {t.work_id: t for t in self.store.takedowns()}
        new = sorted(set(takedowns) - self._takedowns)
        self._takedowns = set(takedowns)
        for work_id in new:
            self._works.discard(work_id)
            if self.driver is None:
                continue
            try:
                self.driver.apply_takedown(takedowns[work_id])
            except (VerificationError, StoreError) as exc:
                log.warning("takedown added outside the daemon not spread work=%s error=%s", work_id.hex()[:16], exc)
                continue
            self.offered += 1
            log.info("takedown added outside the daemon spread to the mesh work=%s", work_id.hex()[:16])
