"""Neighbours and peers: signed status beacons, their replay guard, per-neighbour rate limits.

A beacon carries a random 32-bit boot id and a sequence number that rises with every beacon
of that boot. A beacon is fresh when its boot is the peer's current one with a higher sequence,
or a boot never seen before; an old boot (the last ``OLD_BOOTS_KEPT``) or an old sequence is a
replay. The :class:`ReplayGuard` keeps that per node key apart from the peer table, persisted
in the store (so it survives our reboots) and bounded with an eviction that spares established
keys (so throw-away identities cannot flush a real node's guard).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from node.artwork.keys import PublicKey, SecretKey
from node.protocol.bounded import LruMap
from node.protocol.frames import STATUS_DOMAIN, StatusBeacon, status_body
from node.protocol.ledger import TokenBucket
from node.store.base import BeaconGuard, WorkStore

OLD_BOOTS_KEPT = 16
ESTABLISHED_BEACONS = 4  # accepted beacons (an hour of an honest node's life) before a key is established
MAX_GUARDS = 1024


def sign_beacon(beacon: StatusBeacon, identity: SecretKey) -> StatusBeacon:
    """The beacon with the node's signature over its body."""
    unsigned = StatusBeacon(**{**beacon.__dict__, "signature": b""})
    signature = identity.sign(STATUS_DOMAIN + status_body(unsigned))
    return StatusBeacon(**{**beacon.__dict__, "signature": signature})


def beacon_signature_ok(beacon: StatusBeacon) -> bool:
    """True when the beacon is signed by the key it names."""
    try:
        key = PublicKey(beacon.node_key)
    except ValueError:
        return False
    return key.verify(STATUS_DOMAIN + status_body(beacon), beacon.signature)


class ReplayGuard:
    """The newest (boot id, sequence) accepted per node key, written through to the store.

    Full, it evicts the least recently accepted key that is not yet established (fewer than
    ``ESTABLISHED_BEACONS`` beacons); only when every key is established, the least recent one.
    """

    def __init__(self, store: WorkStore, capacity: int = MAX_GUARDS) -> None:
        self._store = store
        self.capacity = capacity
        stored = store.beacon_guards()
        stored.sort(key=lambda g: g.beacons >= ESTABLISHED_BEACONS)  # established last: they survive a cut
        for guard in stored[: max(0, len(stored) - capacity)]:
            store.drop_beacon_guard(guard.node_key)
        self._guards: dict[bytes, BeaconGuard] = {g.node_key: g for g in stored[-capacity:]}  # oldest first

    def __len__(self) -> int:
        return len(self._guards)

    def get(self, node_key: bytes) -> BeaconGuard | None:
        """The guard of ``node_key``, if any."""
        return self._guards.get(node_key)

    def accept(self, node_key: bytes, boot_id: int, seq: int) -> bool:
        """Record a verified beacon's (boot, seq); False (nothing changes) if it is a replay."""
        guard = self._guards.get(node_key)
        if guard is None:
            guard = BeaconGuard(node_key, boot_id, seq)
        elif boot_id == guard.boot_id:
            if seq <= guard.seq:
                return False
            guard = replace(guard, seq=seq, beacons=guard.beacons + 1)
        elif boot_id in guard.old_boots:
            return False
        else:
            old = (*guard.old_boots, guard.boot_id)[-OLD_BOOTS_KEPT:]
            guard = replace(guard, boot_id=boot_id, seq=seq, old_boots=old, beacons=guard.beacons + 1)
        self.put(guard)
        return True

    def put(self, guard: BeaconGuard) -> None:
        """Store ``guard`` as the most recent, evicting one if the table is full."""
        self._guards.pop(guard.node_key, None)
        if len(self._guards) >= self.capacity:
            victim = next((k for k, g in self._guards.items() if g.beacons < ESTABLISHED_BEACONS),
                          next(iter(self._guards)))
            del self._guards[victim]
            self._store.drop_beacon_guard(victim)
        self._guards[guard.node_key] = guard
        self._store.put_beacon_guard(guard)


@dataclass
class PeerRecord:
    """What the engine remembers of a node it heard a beacon from."""

    last_heard: float
    link: str
    beacon: StatusBeacon


class PeerTable:
    """Peers by node key, LRU-bounded; fresh beacons only, as the replay guard decides."""

    def __init__(self, max_peers: int, guard: ReplayGuard) -> None:
        self.max_peers = max_peers
        self.guard = guard
        self._peers: LruMap[bytes, PeerRecord] = LruMap(max_peers)

    def __len__(self) -> int:
        return len(self._peers)

    def accept(self, beacon: StatusBeacon, link: str, now: float) -> bool:
        """Record a verified beacon; False if it is a replay (stale boot or sequence)."""
        if not self.guard.accept(beacon.node_key, beacon.boot_id, beacon.seq):
            return False
        self._peers.put(beacon.node_key, PeerRecord(now, link, beacon))
        self._peers.touch(beacon.node_key)
        return True

    def records(self) -> list[PeerRecord]:
        """All peers, least recently heard first."""
        return list(self._peers.values())


class NeighbourLimiter:
    """A token bucket per transport-level sender for frames that make this node work or talk."""

    def __init__(self, burst: int, per_min: float, max_neighbours: int) -> None:
        self.burst = burst
        self.rate = per_min / 60.0
        self.max_neighbours = max_neighbours
        self._buckets: LruMap[str, TokenBucket] = LruMap(max_neighbours)

    def allow(self, neighbour: str, now: float) -> bool:
        """Spend one token of ``neighbour``; False when its bucket is empty."""
        bucket = self._buckets.touch(neighbour)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, now)
            self._buckets.put(neighbour, bucket)
        return bucket.take(1, now)

    def __len__(self) -> int:
        return len(self._buckets)
