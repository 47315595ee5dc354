"""Disk full: the daemon refuses new data with a clear status and keeps serving its gallery.

The data directory is a 384 KiB tmpfs when the test may mount one (root, as in the project's
containers); otherwise the same limit comes from SQLite's ``max_page_count``, which fails writes
with the same SQLITE_FULL error a full SD card gives.
"""

import json
from pathlib import Path

from node.daemon.runner import NodeDaemon
from node.store.base import Quotas, StoreFull
from node.store.sqlite import SqliteStore
from tests.factories import artist_key, make_bundle
from tests.reliability.inprocess import bus_pair, http_get, running, tiny_filesystem, until


def fill_until_full(daemon: NodeDaemon, emulate: bool) -> int:
    """Ingest works straight into the store until it refuses; how many fitted."""
    store = daemon.store
    if emulate:  # no tmpfs: cap the database at a few more pages
        (pages,) = store._db.execute("PRAGMA page_count").fetchone()
        store._db.execute(f"PRAGMA max_page_count={pages + 40}")
    fitted = 0
    for size in (20_000, 4000, 800, 200):  # smaller and smaller, until not even a tiny work fits
        for index in range(200):
            try:
                store.ingest_bundle(make_bundle(size, f"filler-{size}-{index}", artist=artist_key(f"f{index}")))
            except StoreFull:
                break
            fitted += 1
        else:
            raise AssertionError("the store never filled up")
    return fitted


async def upload(port: int, data: bytes) -> tuple[str, str]:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("bundle", data, filename="w.meshart", content_type="application/octet-stream")
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{port}/upload", data=form, allow_redirects=False) as response:
        return str(response.status), await response.text()


async def test_full_disk_refuses_uploads_and_mesh_data_but_keeps_serving(tmp_path):
    with tiny_filesystem(tmp_path / "disk", 384) as mounted:
        a, b = bus_pair(tmp_path, b_dir=tmp_path / "disk" / "b")
        async with running(a, b):
            shown = make_bundle(3000, "shown-before-full")
            await b.ingest(shown.to_bytes())
            fitted = fill_until_full(b, emulate=not mounted)
            status = json.loads((await http_get(b.http_port, "/api/status"))[1])
            assert status["store"] == {"writable": False, "error": "disk full"}
            _, metrics = await http_get(b.http_port, "/metrics")
            assert b"meshart_store_writable 0" in metrics
            # An upload is refused with a page that says why.
            code, page = await upload(b.http_port, make_bundle(9000, "too-late").to_bytes())
            assert code == "409" and "disk is full" in page
            # A work arriving over the mesh is refused too, and counted.
            arriving = await a.ingest(make_bundle(9000, "from-the-mesh", artist=artist_key("m")).to_bytes())
            await until(lambda: b.status()["drops"].get("disk-full", 0) > 0, 30, "a disk-full drop")
            assert not b.store.is_complete(arriving)
            assert b.status()["engine"]["errors"] == 0
            # The gallery keeps serving what it holds.
            head, _ = await http_get(b.http_port, "/")
            assert "200 OK" in head
            head, body = await http_get(b.http_port, f"/media/{shown.work_id.hex()}")
            assert "200 OK" in head and body == shown.content
        # It also shut down cleanly on the full disk, and everything it acknowledged is there.
        store = SqliteStore(tmp_path / "disk" / "b", Quotas(10**9, 10**9))
        try:
            assert store.verify_integrity() == []
            assert store.content(shown.work_id) == shown.content
            assert sum(1 for s in store.summaries() if s.complete) == fitted + 1
        finally:
            store.close()


def test_store_closes_and_reopens_on_a_full_disk(tmp_path: Path):
    """Regression: close() raised SQLITE_FULL from its WAL checkpoint when the disk was full."""
    with tiny_filesystem(tmp_path / "disk", 256) as mounted:
        store = SqliteStore(tmp_path / "disk" / "s", Quotas(10**9, 10**9))
        if not mounted:
            (pages,) = store._db.execute("PRAGMA page_count").fetchone()
            store._db.execute(f"PRAGMA max_page_count={pages + 30}")
        held = []
        try:
            for index in range(100):
                bundle = make_bundle(20_000, f"r{index}", artist=artist_key(f"r{index}"))
                store.ingest_bundle(bundle)
                held.append(bundle)
        except StoreFull:
            assert store.write_error == "disk full"
        store.close()  # must not raise
        again = SqliteStore(tmp_path / "disk" / "s")
        try:
            assert held and all(again.content(b.work_id) == b.content for b in held)
        finally:
            again.close()
