"""Issue 17 item 5: an expired endorsement did not stop a key, and the curator had no revocation.

The mesh checked only ``created <= valid_until``, and the artist chooses ``created``: a formerly
endorsed or stolen key back-dated new works forever.
"""

from __future__ import annotations

import itertools
import random

import pytest

from node.artwork import Revocation, VerificationError
from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.protocol.keypolicy import ENDORSEMENT_MARGIN_S
from node.protocol.peers import sign_beacon
from node.store.memory import MemoryStore
from node.store.sqlite import SqliteStore
from tests import factories
from tests.protocol.harness import Medium, Mesh

CREATED = factories.CREATED


def mesh_of(names: list[str], seed: int = 31) -> Mesh:
    mesh = Mesh(seed, [Medium("radio", loss=0.1)])
    for name in names:
        mesh.add_node(name)
    for a, b in itertools.pairwise(names):  # a line: a - b - c
        mesh.connect("radio", a, b)
    return mesh


def test_a_revoked_artists_works_go_everywhere_and_a_back_dated_new_one_is_refused():
    names = ["a", "b", "c"]
    mesh = mesh_of(names)
    thief = factories.artist_key("stolen")
    stolen = [factories.make_bundle(1500, f"stolen-{i}", artist=thief) for i in range(2)]
    honest = factories.make_bundle(1500, "honest")
    for bundle in [*stolen, honest]:
        mesh.nodes["a"].engine.ingest_bundle(bundle, 0.0)
    works = [b.work_id for b in [*stolen, honest]]
    mesh.run(3 * 3600, stop=lambda: all(mesh.complete(w) for w in works))
    assert all(mesh.complete(w) for w in works)
    revocation = Revocation.create(factories.curator_key(), thief.public, "artist", "key stolen", CREATED + 10)
    mesh.nodes["c"].engine.apply_revocation(revocation, mesh.now)  # the far end of the line
    mesh.run(mesh.now + 1800)
    for name in names:
        store = mesh.nodes[name].store
        assert store.is_revoked(thief.public.raw)
        assert store.work_ids() == [honest.work_id]
    # the thief back-dates a new work (created before any expiry): refused by every node
    late = factories.make_bundle(1500, "late", artist=thief, created=CREATED - 100)
    mesh.add_node("thief")  # a node that never heard of the revocation offers it
    mesh.nodes["thief"].engine.ingest_bundle(late, mesh.now)
    mesh.connect("radio", "thief", "b")
    mesh.run(mesh.now + 3600)
    for name in names:
        assert mesh.nodes[name].store.get_manifest(late.work_id) is None
    assert mesh.nodes["b"].engine.status(mesh.now).drops.get("revoked-key", 0) >= 1
    with pytest.raises(VerificationError):
        mesh.nodes["a"].engine.ingest_bundle(late, mesh.now)


def test_a_node_that_slept_through_the_revocation_learns_it_from_adverts():
    mesh = mesh_of(["a", "b"])
    thief = factories.artist_key("stolen")
    bundle = factories.make_bundle(1500, "stolen", artist=thief)
    mesh.nodes["a"].engine.ingest_bundle(bundle, 0.0)
    mesh.run(3600, stop=lambda: mesh.complete(bundle.work_id))
    revocation = Revocation.create(factories.curator_key(), thief.public, "artist", "", CREATED)
    mesh.nodes["a"].engine.apply_revocation(revocation, mesh.now)
    mesh.run(mesh.now + 1800)
    mesh.add_node("sleeper")
    mesh.nodes["sleeper"].engine.ingest_bundle(bundle, mesh.now)
    mesh.connect("radio", "sleeper", "a")
    mesh.run(mesh.now + 3600)
    assert mesh.nodes["sleeper"].store.is_revoked(thief.public.raw)
    assert mesh.nodes["sleeper"].store.get_manifest(bundle.work_id) is None
    assert mesh.nodes["a"].store.get_manifest(bundle.work_id) is None


def engine(store: MemoryStore | SqliteStore | None = None) -> GossipEngine:
    return GossipEngine(factories.node_key("n"), factories.trust(), store or MemoryStore(), random.Random(1),
                        EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")]), 0.0)


def test_forged_revocations_are_refused():
    e = engine()
    victim = factories.artist_key()
    rogue = Revocation.create(factories.curator_key("rogue"), victim.public, "artist", "spite", CREATED)
    real = Revocation.create(factories.curator_key(), victim.public, "artist", "", CREATED)
    flipped = Revocation(real.key, real.role, real.curator, "changed", real.issued, real.signature)
    for revocation in (rogue, flipped):
        e.receive_frame(fr.encode(fr.RevocationFrame(revocation.to_bytes())), "radio", RxInfo("x"), 1.0)
    drops = e.status(1.0).drops
    assert drops.get("unknown-curator") == 1 and drops.get("bad-signature") == 1
    assert not e.store.is_revoked(victim.public.raw)
    assert e.frames_to_send(2.0) == [] or all(
        not isinstance(fr.decode(d), fr.RevocationFrame) for _, d in e.frames_to_send(2.0))


def test_a_revocation_is_durable_across_a_reboot(tmp_path):
    thief = factories.artist_key("stolen")
    store = SqliteStore(tmp_path)
    e = engine(store)
    e.ingest_bundle(factories.make_bundle(900, "one", artist=thief), 0.0)
    e.apply_revocation(Revocation.create(factories.curator_key(), thief.public, "artist", "", CREATED), 1.0)
    assert store.work_ids() == []
    store.close()
    store = SqliteStore(tmp_path)
    rebooted = engine(store)
    with pytest.raises(VerificationError):
        rebooted.ingest_bundle(factories.make_bundle(900, "two", artist=thief), 2.0)
    assert [r.key for r in store.revocations()] == [thief.public.raw]
    store.close()


def test_a_revoked_node_keys_beacons_are_refused():
    e = engine()
    node = factories.node_key("rogue-node")
    beacon = sign_beacon(fr.StatusBeacon(node.public.raw, 1, 1, 0, 0, 0, None, None, "x", "v"), node)
    e.apply_revocation(Revocation.create(factories.curator_key(), node.public, "node", "", CREATED), 0.0)
    e.receive_frame(fr.encode(beacon), "radio", RxInfo("r"), 1.0)
    assert e.status(1.0).drops.get("revoked-key") == 1


@pytest.mark.parametrize(("wall_after_expiry", "trusted", "stored"), [
    (3 * 86400, True, False),  # first seen 3 days after expiry, clock trusted: refused
    (ENDORSEMENT_MARGIN_S - 3600, True, True),  # within the margin: still accepted
    (3 * 86400, False, True),  # no trustworthy clock: only created <= valid_until holds
])
def test_works_first_seen_after_their_endorsement_expired_are_refused_with_a_trusted_clock(
        wall_after_expiry, trusted, stored):
    expiry = CREATED + 86400
    back_dated = factories.make_bundle(1200, "back-dated", valid_until=expiry, created=expiry - 10)
    mesh = mesh_of(["src", "dst"])
    mesh.nodes["src"].engine.ingest_bundle(back_dated, 0.0)
    if trusted:
        mesh.nodes["dst"].engine.set_trusted_time(expiry + wall_after_expiry, 0.0)
    mesh.run(1800, stop=lambda: mesh.complete(back_dated.work_id))
    assert (mesh.nodes["dst"].store.get_manifest(back_dated.work_id) is not None) == stored
    if not stored:
        assert mesh.nodes["dst"].engine.status(mesh.now).drops.get("expired-endorsement") == 1
