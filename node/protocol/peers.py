"""Neighbours and peers: signed status beacons, their replay guard, per-neighbour rate limits.

A beacon carries a random 32-bit boot id and a sequence number that rises with every beacon
of that boot. A beacon is fresh when its boot is the peer's current one with a higher sequence,
or a boot never seen before; an old boot or an old sequence is a replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from node.artwork.keys import PublicKey, SecretKey
from node.protocol.bounded import LruMap
from node.protocol.frames import STATUS_DOMAIN, StatusBeacon, status_body
from node.protocol.ledger import TokenBucket

OLD_BOOTS_KEPT = 4


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


@dataclass
class PeerRecord:
    """What the engine remembers of a node it heard a beacon from."""

    boot_id: int
    seq: int
    last_heard: float
    link: str
    beacon: StatusBeacon
    old_boots: list[int] = field(default_factory=list)


class PeerTable:
    """Peers by node key, LRU-bounded, with the beacon replay guard."""

    def __init__(self, max_peers: int) -> None:
        self.max_peers = max_peers
        self._peers: LruMap[bytes, PeerRecord] = LruMap(max_peers)

    def __len__(self) -> int:
        return len(self._peers)

    def accept(self, beacon: StatusBeacon, link: str, now: float) -> bool:
        """Record a verified beacon; False if it is a replay (stale boot or sequence)."""
        record = self._peers.get(beacon.node_key)
        if record is None:
            self._peers.put(beacon.node_key, PeerRecord(beacon.boot_id, beacon.seq, now, link, beacon))
            return True
        if beacon.boot_id == record.boot_id:
            if beacon.seq <= record.seq:
                return False
        elif beacon.boot_id in record.old_boots:
            return False
        else:
            record.old_boots = [*record.old_boots, record.boot_id][-OLD_BOOTS_KEPT:]
            record.boot_id = beacon.boot_id
        record.seq = beacon.seq
        record.last_heard = now
        record.link = link
        record.beacon = beacon
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
