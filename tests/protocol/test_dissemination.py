"""End-to-end behaviour of engines on lossy, reordering, duplicating broadcast links."""

from __future__ import annotations

import itertools
import math

import pytest

from node.protocol.frames import MAX_FRAME, DataChunk, decode
from tests import factories
from tests.protocol.harness import Medium, Mesh

LOSSY = {"loss": 0.3, "duplicate": 0.05, "max_delay": 0.5}


def build(topology: str, n: int, seed: int, **medium) -> tuple[Mesh, list[str]]:
    mesh = Mesh(seed, [Medium("radio", **medium)])
    names = [f"n{i}" for i in range(n)]
    for name in names:
        mesh.add_node(name)
    if topology == "line":
        pairs = list(itertools.pairwise(names))
    elif topology == "star":
        pairs = [(names[0], other) for other in names[1:]]
    elif topology == "grid":  # 3 x 3, four-neighbour: up to four hops corner to corner
        pairs = [(names[i], names[i + 1]) for i in range(n) if i % 3 != 2 and i + 1 < n]
        pairs += [(names[i], names[i + 3]) for i in range(n - 3)]
    else:
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    for a, b in pairs:
        mesh.connect("radio", a, b)
    return mesh, names


@pytest.mark.parametrize(("topology", "n", "source"), [
    ("line", 5, 0), ("star", 6, 5), ("grid", 9, 0), ("full", 4, 0),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_node_completes_under_30_percent_loss(topology, n, source, seed):
    mesh, names = build(topology, n, seed, **LOSSY)
    bundle = factories.make_bundle(6000, f"w-{topology}")
    work_id = mesh.nodes[names[source]].engine.ingest_bundle(bundle, 0.0)
    mesh.run(6 * 3600, stop=lambda: mesh.complete(work_id))
    assert mesh.complete(work_id)
    for name in names:
        assert mesh.nodes[name].store.content(work_id) == bundle.content
    assert mesh.spins == 0
    assert max(len(s.data) for s in mesh.sent) <= MAX_FRAME


def test_two_works_from_two_ends_cross_a_line():
    mesh, names = build("line", 4, 7, **LOSSY)
    a = mesh.nodes[names[0]].engine.ingest_bundle(factories.make_bundle(3000, "left"), 0.0)
    b = mesh.nodes[names[-1]].engine.ingest_bundle(factories.make_bundle(2500, "right"), 0.0)
    mesh.run(6 * 3600, stop=lambda: mesh.complete(a) and mesh.complete(b))
    assert mesh.complete(a) and mesh.complete(b)


def test_one_hop_airtime_close_to_the_physical_minimum_without_loss():
    mesh, names = build("full", 4, 3)
    bundle = factories.make_bundle(32 * 1024, "efficiency")
    work_id = mesh.nodes[names[0]].engine.ingest_bundle(bundle, 0.0)
    mesh.run(3600, stop=lambda: mesh.complete(work_id))
    assert mesh.complete(work_id)
    link = mesh.media["radio"].link_config()
    bound = math.ceil(len(bundle.content) / MAX_FRAME) * link.frame_cost(MAX_FRAME)
    assert mesh.airtime() <= 1.5 * bound
    chunk_sends = sum(isinstance(decode(s.data), DataChunk) for s in mesh.sent)
    assert chunk_sends <= 1.1 * len(bundle.chunks())


def test_a_quiet_consistent_network_costs_a_few_frames_per_hour():
    mesh, names = build("full", 4, 5)
    work_id = mesh.nodes[names[0]].engine.ingest_bundle(factories.make_bundle(2000, "quiet"), 0.0)
    mesh.run(4 * 3600)
    assert mesh.complete(work_id)
    last_hour = [s for s in mesh.sent if s.time > 3 * 3600]
    beacons = [s for s in last_hour if s.data[0] & 0x0F == 6]
    # beacons every 15 min per node (4 x 4 x ~1) plus Trickle adverts at Imax
    assert len(last_hour) - len(beacons) <= 8
    assert len(beacons) <= 4 * 5


def test_ledger_never_over_its_share_in_any_rolling_hour():
    # a slow preset and a big work: the source must spread the transfer over several hours
    mesh, names = build("star", 3, 11, preset="LONG_FAST", loss=0.1)
    bundle = factories.make_bundle(60 * 1024, "heavy")
    work_id = mesh.nodes[names[0]].engine.ingest_bundle(bundle, 0.0)
    mesh.run(10 * 3600, stop=lambda: mesh.complete(work_id))
    assert mesh.complete(work_id)
    limit = mesh.media["radio"].link_config().airtime_limit_s
    for name in names:
        sends = [(s.time, s.airtime) for s in mesh.sent if s.node == name]
        for start, _ in sends:  # windows starting at every transmission cover every worst case
            window = sum(a for t, a in sends if start <= t < start + 3600)
            assert window <= limit + 1e-6, f"{name} used {window:.1f}s of {limit:.1f}s"
    assert mesh.now > 3600  # the limit really was binding
    source = mesh.nodes[names[0]].engine.status(mesh.now).links["radio"]
    assert source.airtime_last_hour_s <= source.airtime_limit_s


def test_bridge_pulls_over_ip_and_serves_onward_over_lora():
    mesh = Mesh(4, [Medium("radio", **LOSSY), Medium("mqtt", kind="ip", loss=0.0)])
    mesh.add_node("origin", links=["mqtt"])
    mesh.add_node("bridge", links=["mqtt", "radio"])
    mesh.add_node("far", links=["radio"])
    mesh.connect("mqtt", "origin", "bridge")
    mesh.connect("radio", "bridge", "far")
    work_id = mesh.nodes["origin"].engine.ingest_bundle(factories.make_bundle(8000, "bridged"), 0.0)
    mesh.run(3 * 3600, stop=lambda: mesh.complete(work_id))
    assert mesh.complete(work_id)
    assert all(s.link == "mqtt" for s in mesh.sent if s.node == "origin")
    assert any(isinstance(decode(s.data), DataChunk) for s in mesh.sent if s.node == "bridge" and s.link == "radio")


def test_status_beacons_become_peer_events():
    mesh, names = build("full", 3, 9)
    mesh.run(1800)
    peers = [e for e in mesh.nodes[names[0]].events if type(e).__name__ == "PeerStatus"]
    assert {p.venue for p in peers} == {names[1], names[2]}
    assert mesh.nodes[names[0]].engine.status(mesh.now).peers == 2


def test_unknown_link_is_local_misuse():
    mesh, names = build("full", 2, 1)
    with pytest.raises(KeyError):
        mesh.nodes[names[0]].engine.poll_frame("nope", 0.0)
