"""The crash-safe content store of a node: one SQLite database in the data directory.

Durability rules (what a power cut or ``kill -9`` may and may not leave behind):

* WAL journal with ``synchronous=FULL``: every committed transaction is on disk before the
  call returns, and an interrupted one disappears entirely when the database next opens.
  Chunks arrive at radio speed (a few per second at most), so one fsync per commit is cheap.
* Every mutation runs in one ``BEGIN IMMEDIATE`` transaction.
* A work's ``complete`` flag is set only in the same transaction as the chunk (or bundle)
  that completed it, and only after the whole content was read back and matched the
  manifest's SHA-256. So no state on disk has the flag set without all verified chunks.
* Takedowns live in their own table and are never deleted, so a removed work cannot return.

The store is used from a single thread (the daemon's event loop); ``check_same_thread`` is
off only so that a store created in one thread may be closed in another.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from node.artwork import chunks as chunking
from node.artwork.bundle import Bundle
from node.artwork.manifest import SignedManifest, parse_manifest
from node.artwork.revocation import Revocation
from node.artwork.takedown import Takedown
from node.store.base import (
    BadChunk,
    BeaconGuard,
    QuotaExceeded,
    Quotas,
    Revoked,
    StoreError,
    StoreFull,
    TakenDown,
    UnknownWork,
    WorkSummary,
)

DB_NAME = "store.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS works (
    work_id     BLOB PRIMARY KEY,
    manifest    BLOB NOT NULL,
    artist      BLOB NOT NULL,
    cost        INTEGER NOT NULL,   -- bytes counted against quotas: manifest + content size
    chunks_total INTEGER NOT NULL,
    received_at REAL NOT NULL,
    complete    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS works_by_artist ON works (artist);
CREATE TABLE IF NOT EXISTS chunks (
    work_id BLOB NOT NULL,
    idx     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (work_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS takedowns (
    work_id BLOB PRIMARY KEY,
    record  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS revocations (
    key     BLOB PRIMARY KEY,
    record  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS beacon_guards (
    node_key  BLOB PRIMARY KEY,
    boot_id   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    old_boots TEXT NOT NULL,    -- comma-separated boot ids, oldest first
    beacons   INTEGER NOT NULL
) WITHOUT ROWID;
"""


class CorruptStore(StoreError):
    """SQLite's own consistency check failed: the database file is damaged."""

    reason = "corrupt-store"


class SqliteStore:
    """A :class:`~node.store.base.WorkStore` in ``data_dir/store.sqlite3``."""

    def __init__(self, data_dir: Path, quotas: Quotas | None = None, *, quick_check: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.quotas = quotas or Quotas()
        self._clock = clock  # wall clock (Unix seconds) for ``received_at``: it must survive a reboot
        self.path = Path(data_dir) / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; _transaction() issues BEGIN/COMMIT.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._cache: dict[bytes, SignedManifest] = {}
        self.write_error: str | None = None  # "disk full" after a write failed for lack of space
        try:
            self._open(quick_check)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise CorruptStore(f"cannot open {self.path}: {exc}") from None
        except BaseException:
            self._db.close()
            raise

    def _open(self, quick_check: bool) -> None:
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        if quick_check:
            self._quick_check()
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema version {version}, this program knows {SCHEMA_VERSION}")

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: committed on success, rolled back on any exception."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT (disk full): leave no transaction open behind us.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                raise
            self.write_error = "disk full"
            raise StoreFull(f"{self.path}: the disk is full; no new works are accepted") from None
        self.write_error = None

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: it changes when *another* connection commits.

        A running daemon polls it to notice works and takedowns the ``mesh-art`` CLI stored.
        """
        value: int = self._db.execute("PRAGMA data_version").fetchone()[0]
        return value

    def _quick_check(self) -> None:
        rows = [r[0] for r in self._db.execute("PRAGMA quick_check").fetchall()]
        if rows != ["ok"]:
            raise CorruptStore(f"{self.path} failed SQLite's quick_check: {rows[0]}")

    def _signed(self, work_id: bytes, raw: bytes) -> SignedManifest:
        signed = self._cache.get(work_id)
        if signed is None:
            # Stored manifests were verified on the way in; parsing restores the object.
            signed = parse_manifest(raw)
            self._cache[work_id] = signed
        return signed

    def _chunk_rows(self, work_id: bytes) -> list[bytes]:
        rows = self._db.execute("SELECT data FROM chunks WHERE work_id=? ORDER BY idx", (work_id,))
        return [bytes(r[0]) for r in rows]

    def _complete_if_whole(self, signed: SignedManifest) -> bool:
        """Inside a transaction: set the complete flag iff every chunk is held and the SHA-256 matches."""
        m = signed.manifest
        (held,) = self._db.execute("SELECT COUNT(*) FROM chunks WHERE work_id=?", (signed.work_id,)).fetchone()
        if held != m.chunk_count:
            return False
        whole = b"".join(self._chunk_rows(signed.work_id))
        if chunking.content_hash(whole) != m.content_hash:
            return False
        self._db.execute("UPDATE works SET complete=1 WHERE work_id=?", (signed.work_id,))
        return True

    def _insert_manifest(self, signed: SignedManifest) -> bool:
        """Inside a transaction: the body of :meth:`put_manifest`."""
        wid = signed.work_id
        if self.is_taken_down(wid):
            raise TakenDown(wid.hex())
        if self.is_revoked(signed.manifest.artist):
            raise Revoked(signed.manifest.artist.hex()[:16])
        if self._db.execute("SELECT 1 FROM works WHERE work_id=?", (wid,)).fetchone():
            return False
        cost = len(signed.raw) + signed.manifest.size
        if self.used_bytes() + cost > self.quotas.total_bytes:
            raise QuotaExceeded("store quota reached")
        (artist_used,) = self._db.execute(
            "SELECT COALESCE(SUM(cost), 0) FROM works WHERE artist=?", (signed.manifest.artist,)
        ).fetchone()
        if artist_used + cost > self.quotas.per_artist_bytes:
            raise QuotaExceeded("artist quota reached")
        self._db.execute(
            "INSERT INTO works (work_id, manifest, artist, cost, chunks_total, received_at) VALUES (?,?,?,?,?,?)",
            (wid, signed.raw, signed.manifest.artist, cost, signed.manifest.chunk_count, self._clock()),
        )
        self._cache[wid] = signed
        return True

    # -- WorkStore --------------------------------------------------------------------------

    def put_manifest(self, signed: SignedManifest) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        with self._transaction():
            return self._insert_manifest(signed)

    def get_manifest(self, work_id: bytes) -> SignedManifest | None:
        """See :class:`~node.store.base.WorkStore`."""
        row = self._db.execute("SELECT manifest FROM works WHERE work_id=?", (work_id,)).fetchone()
        return None if row is None else self._signed(work_id, bytes(row[0]))

    def put_chunk(self, work_id: bytes, index: int, data: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        signed = self.get_manifest(work_id)
        if signed is None:
            raise UnknownWork(work_id.hex())
        if not signed.manifest.verify_chunk(index, data):
            raise BadChunk(f"chunk {index} of {work_id.hex()[:8]}")
        with self._transaction():
            cur = self._db.execute(
                "INSERT OR IGNORE INTO chunks (work_id, idx, data) VALUES (?,?,?)", (work_id, index, bytes(data))
            )
            if cur.rowcount == 0:
                return False
            self._complete_if_whole(signed)
        return True

    def get_chunk(self, work_id: bytes, index: int) -> bytes | None:
        """See :class:`~node.store.base.WorkStore`."""
        row = self._db.execute("SELECT data FROM chunks WHERE work_id=? AND idx=?", (work_id, index)).fetchone()
        return None if row is None else bytes(row[0])

    def have_chunks(self, work_id: bytes) -> set[int]:
        """See :class:`~node.store.base.WorkStore`."""
        return {r[0] for r in self._db.execute("SELECT idx FROM chunks WHERE work_id=?", (work_id,))}

    def is_complete(self, work_id: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        row = self._db.execute("SELECT complete FROM works WHERE work_id=?", (work_id,)).fetchone()
        return bool(row and row[0])

    def content(self, work_id: bytes) -> bytes | None:
        """See :class:`~node.store.base.WorkStore`."""
        if not self.is_complete(work_id):
            return None
        return b"".join(self._chunk_rows(work_id))

    def ingest_bundle(self, bundle: Bundle) -> bool:
        """See :class:`~node.store.base.WorkStore`. All or nothing, in one transaction."""
        signed = bundle.signed
        pieces = bundle.chunks()
        for index, piece in enumerate(pieces):
            if not signed.manifest.verify_chunk(index, piece):
                raise BadChunk(f"chunk {index} of {bundle.work_id.hex()[:8]}")
        with self._transaction():
            if self.is_complete(bundle.work_id):
                return False
            self._insert_manifest(signed)
            self._db.executemany(
                "INSERT OR IGNORE INTO chunks (work_id, idx, data) VALUES (?,?,?)",
                ((bundle.work_id, i, p) for i, p in enumerate(pieces)),
            )
            if not self._complete_if_whole(signed):
                raise BadChunk(f"bundle {bundle.work_id.hex()[:8]} does not match its content hash")
        return True

    def apply_takedown(self, takedown: Takedown) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        with self._transaction():
            if self.is_taken_down(takedown.work_id):
                return False
            self._db.execute(
                "INSERT INTO takedowns (work_id, record) VALUES (?,?)", (takedown.work_id, takedown.to_bytes())
            )
            self._delete(takedown.work_id)
        return True

    def apply_revocation(self, revocation: Revocation) -> list[bytes]:
        """See :class:`~node.store.base.WorkStore`. The record and the deletions in one transaction."""
        with self._transaction():
            if self.is_revoked(revocation.key):
                return []
            self._db.execute("INSERT INTO revocations (key, record) VALUES (?,?)",
                             (revocation.key, revocation.to_bytes()))
            if revocation.role != "artist":
                return []
            gone = [bytes(r[0]) for r in self._db.execute(
                "SELECT work_id FROM works WHERE artist=? ORDER BY work_id", (revocation.key,))]
            for work_id in gone:
                self._delete(work_id)
        return gone

    def revocations(self) -> list[Revocation]:
        """See :class:`~node.store.base.WorkStore`."""
        rows = self._db.execute("SELECT record FROM revocations ORDER BY key")
        return [Revocation.from_bytes(bytes(r[0])) for r in rows]

    def is_revoked(self, key: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        return self._db.execute("SELECT 1 FROM revocations WHERE key=?", (key,)).fetchone() is not None

    def beacon_guards(self) -> list[BeaconGuard]:
        """See :class:`~node.store.base.WorkStore`."""
        rows = self._db.execute("SELECT node_key, boot_id, seq, old_boots, beacons FROM beacon_guards "
                                "ORDER BY node_key")
        return [BeaconGuard(bytes(k), boot, seq, tuple(int(b) for b in old.split(",") if b), beacons)
                for k, boot, seq, old, beacons in rows]

    def put_beacon_guard(self, guard: BeaconGuard) -> None:
        """See :class:`~node.store.base.WorkStore`."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO beacon_guards (node_key, boot_id, seq, old_boots, beacons) "
                "VALUES (?,?,?,?,?)",
                (guard.node_key, guard.boot_id, guard.seq, ",".join(map(str, guard.old_boots)), guard.beacons))

    def drop_beacon_guard(self, node_key: bytes) -> None:
        """See :class:`~node.store.base.WorkStore`."""
        with self._transaction():
            self._db.execute("DELETE FROM beacon_guards WHERE node_key=?", (node_key,))

    def is_taken_down(self, work_id: bytes) -> bool:
        """See :class:`~node.store.base.WorkStore`."""
        return self._db.execute("SELECT 1 FROM takedowns WHERE work_id=?", (work_id,)).fetchone() is not None

    def takedowns(self) -> list[Takedown]:
        """See :class:`~node.store.base.WorkStore`."""
        rows = self._db.execute("SELECT record FROM takedowns ORDER BY work_id")
        return [Takedown.from_bytes(bytes(r[0])) for r in rows]

    def work_ids(self) -> list[bytes]:
        """See :class:`~node.store.base.WorkStore`."""
        return [bytes(r[0]) for r in self._db.execute("SELECT work_id FROM works ORDER BY work_id")]

    _SUMMARY = ("SELECT w.work_id, w.manifest, w.chunks_total, w.complete, w.received_at, "
                "(SELECT COUNT(*) FROM chunks c WHERE c.work_id = w.work_id) FROM works w ")

    def summaries(self) -> list[WorkSummary]:
        """See :class:`~node.store.base.WorkStore`."""
        rows = self._db.execute(self._SUMMARY + "ORDER BY w.work_id").fetchall()
        return [self._summary_of(*row) for row in rows]

    def summary(self, work_id: bytes) -> WorkSummary | None:
        """See :class:`~node.store.base.WorkStore`."""
        row = self._db.execute(self._SUMMARY + "WHERE w.work_id=?", (work_id,)).fetchone()
        return None if row is None else self._summary_of(*row)

    def _summary_of(self, wid: bytes, raw: bytes, total: int, complete: int, received_at: float,
                    have: int) -> WorkSummary:
        return WorkSummary(work_id=bytes(wid), signed=self._signed(bytes(wid), bytes(raw)), chunks_have=have,
                           chunks_total=total, complete=bool(complete), received_at=received_at)

    def _delete(self, work_id: bytes) -> None:
        self._db.execute("DELETE FROM chunks WHERE work_id=?", (work_id,))
        self._db.execute("DELETE FROM works WHERE work_id=?", (work_id,))
        self._cache.pop(work_id, None)

    def delete_work(self, work_id: bytes) -> None:
        """See :class:`~node.store.base.WorkStore`."""
        with self._transaction():
            self._delete(work_id)

    def used_bytes(self) -> int:
        """See :class:`~node.store.base.WorkStore`."""
        (used,) = self._db.execute("SELECT COALESCE(SUM(cost), 0) FROM works").fetchone()
        return int(used)

    def close(self) -> None:
        """Checkpoint the WAL and close the database."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:
            pass  # e.g. the disk is full: the WAL stays and is replayed at the next open, nothing is lost
        finally:
            self._db.close()

    # -- beyond the interface ---------------------------------------------------------------

    def verify_integrity(self) -> list[bytes]:
        """Re-hash every complete work; demote any that fail. Returns the demoted work ids.

        A demoted work loses the chunks that no longer match their hashes and is no longer
        served; the mesh can fill it in again. After a clean shutdown or a crash this finds
        nothing (the complete flag is transactional); it guards against disk corruption.
        """
        self._quick_check()
        demoted: list[bytes] = []
        for (wid_raw,) in self._db.execute("SELECT work_id FROM works WHERE complete=1").fetchall():
            wid = bytes(wid_raw)
            signed = self.get_manifest(wid)
            assert signed is not None
            rows = self._db.execute("SELECT idx, data FROM chunks WHERE work_id=? ORDER BY idx", (wid,)).fetchall()
            bad = [idx for idx, data in rows if not signed.manifest.verify_chunk(idx, bytes(data))]
            whole = b"".join(bytes(data) for _, data in rows)
            whole_ok = len(rows) == signed.manifest.chunk_count and (
                chunking.content_hash(whole) == signed.manifest.content_hash
            )
            if bad or not whole_ok:
                with self._transaction():
                    self._db.executemany("DELETE FROM chunks WHERE work_id=? AND idx=?", ((wid, i) for i in bad))
                    self._db.execute("UPDATE works SET complete=0 WHERE work_id=?", (wid,))
                demoted.append(wid)
        return demoted
