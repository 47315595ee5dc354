"""The nodes this daemon heard: the latest verified status beacon per node key, bounded.

Anyone with the public channel key can sign beacons with throw-away keys, so the table has a
fixed size and is a segmented LRU: a key heard for the first time enters a small *probation*
segment; a second fresh beacon from it (the engine passes on only fresh, verified ones)
promotes it to the *protected* segment. Identities that beacon once evict only each other, so
a flood of them cannot push out the venues that beacon every few minutes. When the protected
segment is full, its least recently heard key drops back to probation.

Replay guards (boot id and sequence per key) belong to the engine; this table only remembers
what the gallery and ``/api/status`` show.
"""

from __future__ import annotations

from collections import OrderedDict

from node.gallery.context import HeardPeer
from node.protocol.events import PeerStatus

PROTECTED_PEERS = 192
PROBATION_PEERS = 64


class HeardPeers:
    """Latest beacon per node key; at most ``protected + probation`` entries."""

    def __init__(self, protected: int = PROTECTED_PEERS, probation: int = PROBATION_PEERS) -> None:
        if protected < 1 or probation < 1:
            raise ValueError("both segments need room for at least one peer")
        self._protected_cap = protected
        self._probation_cap = probation
        self._protected: OrderedDict[bytes, HeardPeer] = OrderedDict()
        self._probation: OrderedDict[bytes, HeardPeer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._protected) + len(self._probation)

    @property
    def capacity(self) -> int:
        """The most peers the table holds."""
        return self._protected_cap + self._probation_cap

    def heard(self, status: PeerStatus, at: float) -> None:
        """Record a fresh verified beacon heard at Unix time ``at``."""
        key = status.node_key
        previous = self._protected.pop(key, None) or self._probation.pop(key, None)
        record = HeardPeer(status, at, beacons=1 if previous is None else previous.beacons + 1)
        if previous is None:
            self._probation[key] = record
            if len(self._probation) > self._probation_cap:
                self._probation.popitem(last=False)
            return
        self._protected[key] = record
        if len(self._protected) > self._protected_cap:
            demoted_key, demoted = self._protected.popitem(last=False)
            self._probation[demoted_key] = demoted
            if len(self._probation) > self._probation_cap:
                self._probation.popitem(last=False)

    def records(self) -> list[HeardPeer]:
        """Every peer held, most recently heard first."""
        return sorted([*self._protected.values(), *self._probation.values()],
                      key=lambda p: (-p.heard_at, p.status.node_key))
