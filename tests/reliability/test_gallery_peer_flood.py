"""Issue 17, item 6 (daemon part): throw-away beacon identities must not grow the daemon's state.

Anyone with the public channel key can sign status beacons with fresh keys. 4,000 of them,
each from its own radio id, go through a real daemon's engine; the daemon's peer table, its
``/network`` pages and ``/api/status`` stay bounded, and the venues that beacon regularly
are still listed afterwards.
"""

from __future__ import annotations

import json
import re

import pytest

from node.artwork.keys import SecretKey
from node.daemon.peers import PROBATION_PEERS, PROTECTED_PEERS
from node.daemon.runner import NodeDaemon
from node.gallery.netmap import PEERS_PER_PAGE
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.protocol.peers import sign_beacon
from node.transport.memory import MemoryBus, MemoryTransport
from tests.reliability.inprocess import http_get, node_config, running

pytestmark = pytest.mark.timeout(180)
KIB = 1024
ATTACKERS = 4000
VENUES = ("NEMO Science Museum", "Waag Futurelab", "OBA Oosterdok", "Pakhuis de Zwijger", "De Balie")


def beacon(key: SecretKey, venue: str, seq: int, boot_id: int = 7) -> bytes:
    """A signed status beacon frame from ``key``."""
    unsigned = fr.StatusBeacon(node_key=key.public.raw, boot_id=boot_id, seq=seq, uptime_s=60 * seq,
                               airtime_permille=30, works_held=4, lat=52.37, lon=4.9, version="0.1.0", venue=venue)
    return fr.encode(sign_beacon(unsigned, key))


async def test_throwaway_beacon_identities_leave_peer_table_network_and_status_bounded(tmp_path):
    daemon = NodeDaemon(node_config(tmp_path, "victim"), [MemoryTransport("mem", MemoryBus(), "victim")])
    async with running(daemon):
        driver = daemon.driver
        assert driver is not None
        venues = [SecretKey.from_seed_text(f"venue {name}", "node") for name in VENUES]
        for seq in (1, 2):  # the venues beacon every few minutes, so each is heard more than once
            for index, key in enumerate(venues):
                driver.deliver("mem", beacon(key, VENUES[index], seq), RxInfo(sender=f"!venue{index}"))
        drops_before = dict(driver.engine.status(driver.now()).drops)
        for n in range(ATTACKERS):  # one beacon per throw-away key, each from its own radio id
            key = SecretKey.from_seed_text(f"throw-away {n}", "node")
            driver.deliver("mem", beacon(key, f"Venue {n:04d} " + "x" * 40, 1), RxInfo(sender=f"!{n:08x}"))
        drops_after = dict(driver.engine.status(driver.now()).drops)
        port = daemon.http_port
        assert port is not None
        _, status_body = await http_get(port, "/api/status")
        pages = []
        page = 1
        while True:
            head_n, body_n = await http_get(port, f"/network?page={page}&lang=en")
            if " 404 " in head_n.splitlines()[0]:
                break
            pages.append(body_n.decode())
            page += 1
        table = len(driver.peers)
    assert drops_after == drops_before  # the engine passed every throw-away beacon on to the daemon
    assert table == len(VENUES) + PROBATION_PEERS and PROTECTED_PEERS + PROBATION_PEERS <= 300
    status = json.loads(status_body)
    assert len(status_body) < 16 * KIB, f"/api/status is {len(status_body)} bytes"
    assert status["peers_heard"] == table and len(status["peers"]) <= 20
    assert len(pages) <= -(-table // PEERS_PER_PAGE)
    assert max(len(p) for p in pages) < 64 * KIB, "a /network page grew past 64 KiB"
    listed = [name for p in pages for name in re.findall(r'<th scope="row">([^<]+)<br>', p)]
    assert len(listed) == table
    assert set(VENUES) <= set(listed)  # the regular venues survived the flood
