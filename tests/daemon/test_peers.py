"""The daemon's table of nodes heard: bounded, and a one-beacon flood cannot flush regular peers."""

from __future__ import annotations

from node.daemon.peers import HeardPeers
from node.protocol.events import PeerStatus


def status(n: int, venue: str = "") -> PeerStatus:
    return PeerStatus(node_key=n.to_bytes(32, "big"), venue=venue or f"node {n}", lat=None, lon=None,
                      version="0.1.0", uptime_s=1, airtime_permille=1, works_held=0, link="lora", snr=None, rssi=None)


def keys(table: HeardPeers) -> set[int]:
    return {int.from_bytes(p.status.node_key, "big") for p in table.records()}


def test_one_beacon_identities_churn_only_among_themselves():
    table = HeardPeers(protected=8, probation=4)
    for n in range(5):  # regular venues: heard twice
        table.heard(status(n), at=1.0)
        table.heard(status(n), at=2.0)
    for n in range(100, 4100):
        table.heard(status(n), at=3.0 + n)
    assert len(table) == 5 + 4
    assert {0, 1, 2, 3, 4} <= keys(table)
    assert keys(table) - {0, 1, 2, 3, 4} == {4096, 4097, 4098, 4099}  # the newest throw-aways


def test_latest_beacon_wins_and_counts_are_kept():
    table = HeardPeers(protected=2, probation=2)
    table.heard(status(1, "old name"), at=1.0)
    table.heard(status(1, "new name"), at=5.0)
    (peer,) = table.records()
    assert (peer.status.venue, peer.heard_at, peer.beacons) == ("new name", 5.0, 2)


def test_protected_overflow_demotes_the_least_recently_heard():
    table = HeardPeers(protected=2, probation=1)
    for n in (1, 2, 3):
        table.heard(status(n), at=float(n))
        table.heard(status(n), at=float(n) + 0.5)
    # 3 promoted last: 1 (least recently heard) fell back to probation and stays, being its only entry
    assert keys(table) == {1, 2, 3}
    table.heard(status(9), at=10.0)  # a new key takes probation's only place
    assert keys(table) == {2, 3, 9}
    assert [int.from_bytes(p.status.node_key, "big") for p in table.records()] == [9, 3, 2]
