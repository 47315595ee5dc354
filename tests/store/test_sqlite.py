"""What only the SQLite store promises: durability settings, restarts, atomicity, integrity."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.artwork import Takedown
from node.store import Quotas, SqliteStore, TakenDown
from node.store.base import StoreFull
from node.store.sqlite import DB_NAME, CorruptStore
from tests.factories import curator_key, make_bundle


def test_database_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()
    assert (tmp_path / DB_NAME).exists()


def test_partial_works_complete_works_and_takedowns_survive_a_restart(tmp_path: Path) -> None:
    partial, whole, gone = make_bundle(3000, "partial"), make_bundle(2000, "whole"), make_bundle(900, "gone")
    store = SqliteStore(tmp_path, clock=lambda: 1_790_000_003.0)
    store.put_manifest(partial.signed)
    for index in (0, 4, 7):
        store.put_chunk(partial.work_id, index, partial.chunks()[index])
    store.ingest_bundle(whole)
    store.ingest_bundle(gone)
    takedown = Takedown.create(curator_key(), gone.work_id, "withdrawn by the artist", 1_790_000_500)
    store.apply_takedown(takedown)
    store.close()

    again = SqliteStore(tmp_path)
    try:
        assert again.have_chunks(partial.work_id) == {0, 4, 7}
        assert not again.is_complete(partial.work_id)
        assert again.content(partial.work_id) is None
        assert again.content(whole.work_id) == whole.content
        assert again.takedowns() == [takedown]
        with pytest.raises(TakenDown):
            again.ingest_bundle(gone)
        # finishing the partial work after the restart
        for index, piece in enumerate(partial.chunks()):
            again.put_chunk(partial.work_id, index, piece)
        assert again.content(partial.work_id) == partial.content
        summary = {s.work_id: s for s in again.summaries()}[partial.work_id]
        assert summary.received_at == 1_790_000_003.0  # the wall-clock stamp survives the restart
    finally:
        again.close()


def test_quota_counts_persist_across_restart(tmp_path: Path) -> None:
    first, second = make_bundle(3000, "a"), make_bundle(3000, "b")
    quotas = Quotas(total_bytes=len(first.signed.raw) + 3100, per_artist_bytes=10**9)
    store = SqliteStore(tmp_path, quotas)
    store.ingest_bundle(first)
    store.close()
    again = SqliteStore(tmp_path, quotas)
    try:
        assert again.used_bytes() == len(first.signed.raw) + 3000
        with pytest.raises(Exception, match="quota"):
            again.ingest_bundle(second)
    finally:
        again.close()


def test_ingest_is_rolled_back_when_it_fails_halfway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle(5000)
    store = SqliteStore(tmp_path)

    def explode(signed: object) -> bool:
        raise RuntimeError("power cut simulated after the chunk inserts")

    monkeypatch.setattr(store, "_complete_if_whole", explode)
    with pytest.raises(RuntimeError):
        store.ingest_bundle(bundle)
    monkeypatch.undo()
    assert store.work_ids() == []
    assert store.have_chunks(bundle.work_id) == set()
    assert store.used_bytes() == 0
    assert store.ingest_bundle(bundle) is True
    store.close()


def test_verify_integrity_demotes_a_work_whose_bytes_rotted_on_disk(tmp_path: Path) -> None:
    good, rotten = make_bundle(2000, "good"), make_bundle(2000, "rotten")
    store = SqliteStore(tmp_path)
    store.ingest_bundle(good)
    store.ingest_bundle(rotten)
    assert store.verify_integrity() == []
    store.close()
    with sqlite3.connect(tmp_path / DB_NAME) as raw:  # flip one stored byte behind the store's back
        data = raw.execute("SELECT data FROM chunks WHERE work_id=? AND idx=3", (rotten.work_id,)).fetchone()[0]
        raw.execute(
            "UPDATE chunks SET data=? WHERE work_id=? AND idx=3", (bytes([data[0] ^ 1]) + data[1:], rotten.work_id)
        )
    raw.close()
    store = SqliteStore(tmp_path)
    try:
        assert store.verify_integrity() == [rotten.work_id]
        assert store.content(rotten.work_id) is None
        assert 3 not in store.have_chunks(rotten.work_id)
        assert store.content(good.work_id) == good.content
        # the mesh (here: the chunk itself) can fill the gap again
        store.put_chunk(rotten.work_id, 3, rotten.chunks()[3])
        assert store.content(rotten.work_id) == rotten.content
    finally:
        store.close()


def test_a_damaged_database_file_is_refused_at_open(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    for i in range(30):
        store.ingest_bundle(make_bundle(4000, f"fill{i}"))
    store.close()
    path = tmp_path / DB_NAME
    blob = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(blob), page):  # scribble over the headers of b-tree pages
        blob[offset : offset + 12] = b"\xff" * 12
    path.write_bytes(bytes(blob))
    with pytest.raises(CorruptStore):
        SqliteStore(tmp_path)


def test_a_full_disk_leaves_the_store_usable(tmp_path: Path) -> None:
    bundle = make_bundle(30_000)  # needs pages beyond the current file
    store = SqliteStore(tmp_path)
    try:
        (pages,) = store._db.execute("PRAGMA page_count").fetchone()
        store._db.execute(f"PRAGMA max_page_count={pages}")  # the database may not grow: "disk full"
        with pytest.raises(StoreFull):  # a StoreError: the engine and the upload page report it
            store.ingest_bundle(bundle)
        assert not store._db.in_transaction and store.write_error == "disk full"
        store._db.execute("PRAGMA max_page_count=1073741823")
        assert store.work_ids() == []
        assert store.ingest_bundle(bundle) is True
        assert store.write_error is None
    finally:
        store.close()
