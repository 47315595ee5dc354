"""Gallery contexts from the real daemon: ``NodeDaemon`` with its SQLite store and engine.

``running_node`` starts an in-process daemon (no stand-in: the same ``gallery_context()`` a
Pi serves), optionally on a memory bus shared with other daemons, so the network page shows
beacons really heard. ``seed_store`` puts works into a node's store before it starts, each
stamped by the store's own clock, as a restart would find them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from node.artwork.bundle import Bundle
from node.config import load_config
from node.daemon.runner import NodeDaemon
from node.protocol.events import RxInfo
from node.store.sqlite import SqliteStore
from node.transport.memory import MemoryBus, MemoryTransport
from tests.factories import curator_key


@dataclass(frozen=True)
class Venue:
    """A venue node: its profile id, where it stands, and how well the others hear it."""

    id: str
    name: str
    lat: float
    lon: float
    snr: float | None = None


NEMO = Venue("nemo", "NEMO Science Museum", 52.37406, 4.91237)
WAAG = Venue("waag", "Waag Futurelab", 52.37275, 4.90026, snr=6.0)
ZWIJGER = Venue("zwijger", "Pakhuis de Zwijger", 52.3765, 4.92232, snr=-14.5)
OBA = Venue("oba", "OBA Oosterdok", 52.37576, 4.9081, snr=-4.0)


class RadioLikeTransport(MemoryTransport):
    """A memory-bus link whose receptions carry the sender's SNR and RSSI, as a radio's do."""

    def __init__(self, bus: MemoryBus, venue: Venue, levels: dict[str, float | None]) -> None:
        super().__init__("mem", bus, venue.id, kind="ip")
        self.levels = levels

    def enqueue(self, data: bytes, sender: str) -> None:
        """A frame from ``sender``, with that sender's signal levels."""
        snr = self.levels.get(sender)
        self.arrive(data, RxInfo(sender=sender, snr=snr, rssi=None if snr is None else -100.0 + 2 * snr))


def write_config(directory: Path, venue: Venue, *, beacon_s: float = 1.0) -> Path:
    """A node's TOML config: its venue (by profile id), position, trust and a fast beacon."""
    curator = curator_key().public.to_line().split()[-1]
    path = directory / f"{venue.id}.toml"
    path.write_text(
        f'[node]\nname = "Mesh Art Node {venue.name}"\nvenue = "{venue.id}"\nlat = {venue.lat}\nlon = {venue.lon}\n'
        f'data_dir = "{directory / venue.id}"\ntrust = ["{curator}"]\n'
        '[http]\nhost = "127.0.0.1"\nport = 0\n'
        f"[engine]\nbeacon_interval_s = {beacon_s}\ntrickle_imin_s = 0.5\ntrickle_doublings = 2\n")
    return path


def seed_store(data_dir: Path, complete: Iterable[Bundle] = (), partial: Iterable[tuple[Bundle, int]] = (),
               clock: Callable[[], float] | None = None) -> None:
    """Store whole works and the first chunks of partial ones, oldest first, then close."""
    store = SqliteStore(data_dir, clock=clock) if clock is not None else SqliteStore(data_dir)
    try:
        for bundle in complete:
            store.ingest_bundle(bundle)
        for bundle, chunks in partial:
            store.put_manifest(bundle.signed)
            for index, piece in enumerate(bundle.chunks()[:chunks]):
                store.put_chunk(bundle.work_id, index, piece)
    finally:
        store.close()


@contextlib.asynccontextmanager
async def running_nodes(directory: Path, venues: Iterable[Venue], *, linked: bool = False,
                        ) -> AsyncIterator[dict[str, NodeDaemon]]:
    """Real daemons for ``venues``; with ``linked``, on one bus with each sender's SNR."""
    bus = MemoryBus()
    chosen = list(venues)
    levels = {v.id: v.snr for v in chosen}
    daemons: dict[str, NodeDaemon] = {}
    for venue in chosen:
        extra = [RadioLikeTransport(bus, venue, levels)] if linked else []
        daemons[venue.id] = NodeDaemon(load_config(write_config(directory, venue)), extra, handle_signals=False)
    tasks = [asyncio.create_task(d.run()) for d in daemons.values()]
    try:
        for daemon in daemons.values():
            await asyncio.wait_for(daemon.ready.wait(), 20)
        yield daemons
    finally:
        for daemon in daemons.values():
            daemon.request_stop("test")
        await asyncio.wait_for(asyncio.gather(*tasks), 20)


async def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``condition`` on the loop until it holds (fails the test after ``timeout`` s)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
