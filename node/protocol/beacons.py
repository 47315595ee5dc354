"""Beacons: this node's signed status, and the peers whose beacons it accepted.

The :class:`Beacons` component owns the boot id, the beacon sequence number and schedule, and
the peer table with its replay guard (:mod:`node.protocol.peers`). A beacon goes out every
``beacon_interval_s`` (±10 %) on every link, the first one 2-10 % of an interval after start.
Our own boot ids are kept in the store's guard table too, so a new boot never reuses one a peer
saw before (a seeded simulator reboot would otherwise look like a replay), and beacons of a node
key a curator revoked are refused.
"""

from __future__ import annotations

import random

from node.artwork.keys import SecretKey
from node.protocol import frames as fr
from node.protocol.config import EngineConfig
from node.protocol.drops import DropReason
from node.protocol.peers import OLD_BOOTS_KEPT, PeerTable, ReplayGuard, beacon_signature_ok, sign_beacon
from node.store.base import BeaconGuard, WorkStore

ESTABLISHED = 1 << 30  # our own guard is never evicted


class Beacons:
    """Our status beacon and the table of peers heard."""

    def __init__(self, config: EngineConfig, identity: SecretKey, store: WorkStore, rng: random.Random,
                 now: float) -> None:
        self._config = config
        self._identity = identity
        self._store = store
        self._rng = rng
        self._start = now
        self.node_key = identity.public.raw
        guard = ReplayGuard(store)
        own = guard.get(self.node_key)
        used = {own.boot_id, *own.old_boots} if own is not None else set()
        self._boot_id = rng.getrandbits(32)
        while self._boot_id in used:
            self._boot_id = rng.getrandbits(32)
        old = (*own.old_boots, own.boot_id)[-OLD_BOOTS_KEPT:] if own is not None else ()
        guard.put(BeaconGuard(self.node_key, self._boot_id, 0, old, ESTABLISHED))
        self._seq = 0
        self.next_at = now + rng.uniform(0.02, 0.1) * config.beacon_interval_s
        self.peers = PeerTable(config.max_peers, guard)

    def make(self, now: float, airtime_used_s: float, works_held: int) -> bytes:
        """The next beacon, signed and encoded; schedules the one after."""
        self._seq += 1
        beacon = sign_beacon(fr.StatusBeacon(
            node_key=self.node_key, boot_id=self._boot_id, seq=self._seq,
            uptime_s=int(now - self._start), airtime_permille=int(airtime_used_s / 3.6),
            works_held=works_held, lat=self._config.lat, lon=self._config.lon,
            version=self._config.software_version, venue=self._config.venue), self._identity)
        self.next_at = now + self._config.beacon_interval_s * self._rng.uniform(0.9, 1.1)
        return fr.encode(beacon)

    def accept(self, beacon: fr.StatusBeacon, link: str, now: float) -> DropReason | None:
        """Check and record a heard beacon; the drop reason, or None when it is fresh."""
        if beacon.node_key == self.node_key:
            return DropReason.OWN_FRAME
        if not beacon_signature_ok(beacon):
            return DropReason.BAD_SIGNATURE
        if self._store.is_revoked(beacon.node_key):
            return DropReason.REVOKED_KEY
        if not self.peers.accept(beacon, link, now):
            return DropReason.REPLAY
        return None
