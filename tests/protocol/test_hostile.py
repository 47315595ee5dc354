"""Forgeries, junk floods, replays and takedowns: nothing unverified is stored or sent on."""

from __future__ import annotations

import random

from node.artwork import Takedown
from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.store.memory import MemoryStore
from tests import factories
from tests.protocol.harness import Medium, Mesh

LOSSY = {"loss": 0.3, "duplicate": 0.05, "max_delay": 0.5}


def full_mesh(seed: int, names: list[str], **medium) -> Mesh:
    mesh = Mesh(seed, [Medium("radio", **medium)])
    for name in names:
        mesh.add_node(name)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            mesh.connect("radio", a, b)
    return mesh


def frames_sent_by(mesh: Mesh, names: list[str]) -> list[fr.Frame]:
    return [fr.decode(s.data) for s in mesh.sent if s.node in names]


def test_manifest_from_an_untrusted_curator_is_never_stored_or_forwarded():
    rogue_curator = factories.curator_key("rogue")
    mesh = Mesh(1, [Medium("radio", **LOSSY)])
    mesh.add_node("rogue", trust=factories.trust(rogue_curator))
    honest = ["a", "b", "c"]
    for name in honest:
        mesh.add_node(name)
    for a, b in [("rogue", "a"), ("a", "b"), ("b", "c"), ("rogue", "c")]:
        mesh.connect("radio", a, b)
    forged = factories.make_bundle(3000, "forged", curator=rogue_curator)
    mesh.nodes["rogue"].engine.ingest_bundle(forged, 0.0)
    mesh.run(2 * 3600)
    for name in honest:
        assert mesh.nodes[name].store.work_ids() == []
    for name in ("a", "c"):  # the rogue's neighbours fetched and rejected it once; b never saw it
        assert mesh.nodes[name].engine.status(mesh.now).drops.get("unknown-curator", 0) == 1
    short = forged.work_id[:4]
    for frame in frames_sent_by(mesh, honest):
        if isinstance(frame, (fr.ManifestPiece, fr.DataChunk)):
            assert frame.short_id != short


def test_flipped_chunks_are_dropped_and_delivery_stays_correct():
    names = ["src", "a", "b"]
    mesh = full_mesh(2, names, **LOSSY)
    bundle = factories.make_bundle(5000, "target")
    work_id = mesh.nodes["src"].engine.ingest_bundle(bundle, 0.0)
    short = work_id[:4]

    def corrupt(rng: random.Random) -> bytes:
        index = rng.randrange(len(bundle.chunks()))
        chunk = bytearray(bundle.chunks()[index])
        chunk[rng.randrange(len(chunk))] ^= 0xFF
        return fr.encode(fr.DataChunk(short, index, bytes(chunk)))

    mesh.add_jammer("liar", "radio", corrupt, interval=0.7)
    for name in names:
        mesh.connect("radio", "liar", name)
    mesh.run(6 * 3600, stop=lambda: mesh.complete(work_id, names))
    assert mesh.complete(work_id, names)
    for name in names:
        assert mesh.nodes[name].store.content(work_id) == bundle.content
    assert sum(mesh.nodes[n].engine.status(mesh.now).drops.get("bad-chunk", 0) for n in ["a", "b"]) > 10
    manifest = bundle.signed.manifest
    for frame in frames_sent_by(mesh, names):
        if isinstance(frame, fr.DataChunk):
            assert manifest.verify_chunk(frame.index, frame.data)


def test_forged_takedowns_are_refused_and_not_repeated():
    names = ["src", "a"]
    mesh = full_mesh(3, names)
    bundle = factories.make_bundle(2000, "keep")
    work_id = mesh.nodes["src"].engine.ingest_bundle(bundle, 0.0)
    mesh.run(3600, stop=lambda: mesh.complete(work_id))
    rogue = Takedown.create(factories.curator_key("rogue"), work_id, "spam", 1)
    real = Takedown.create(factories.curator_key(), work_id, "real", 1)
    flipped = Takedown(real.work_id, real.curator, real.reason, real.issued,
                       bytes([real.signature[0] ^ 1]) + real.signature[1:])
    engine = mesh.nodes["a"].engine
    for takedown in (rogue, flipped):
        engine.receive_frame(fr.encode(fr.TakedownFrame(takedown.to_bytes())), "radio", RxInfo("x"), mesh.now)
    mesh.run(mesh.now + 3600)
    drops = engine.status(mesh.now).drops
    assert drops.get("unknown-curator") == 1 and drops.get("bad-signature") == 1
    assert mesh.nodes["a"].store.is_complete(work_id)
    assert not any(isinstance(f, fr.TakedownFrame) for f in frames_sent_by(mesh, names))


def test_takedown_spreads_and_an_old_copy_offered_later_is_refused():
    names = ["a", "b", "c"]
    mesh = full_mesh(4, names, **LOSSY)
    bundle = factories.make_bundle(3000, "doomed")
    work_id = mesh.nodes["a"].engine.ingest_bundle(bundle, 0.0)
    mesh.run(3600, stop=lambda: mesh.complete(work_id))
    takedown = Takedown.create(factories.curator_key(), work_id, "withdrawn", 2)
    mesh.nodes["a"].engine.apply_takedown(takedown, mesh.now)
    mesh.run(mesh.now + 3600)
    for name in names:
        assert mesh.nodes[name].store.is_taken_down(work_id)
        assert mesh.nodes[name].store.get_manifest(work_id) is None
    # a node that slept through the takedown comes back with its old copy
    mesh.add_node("stale")
    mesh.nodes["stale"].engine.ingest_bundle(bundle, mesh.now)
    for name in names:
        mesh.connect("radio", "stale", name)
    mesh.run(mesh.now + 3 * 3600)
    for name in names:
        assert mesh.nodes[name].store.get_manifest(work_id) is None
    assert mesh.nodes["stale"].store.is_taken_down(work_id)
    assert mesh.nodes["stale"].store.get_manifest(work_id) is None


def junk(rng: random.Random) -> bytes:
    """Random bytes, random adverts, requests and manifest pieces for made-up works."""
    kind = rng.randrange(5)
    short = rng.randbytes(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, fr.MAX_FRAME + 1))
    if kind == 1:
        entries = tuple(fr.AdvertEntry(rng.randbytes(4), rng.randrange(0xFFFE)) for _ in range(37))
        return fr.encode(fr.Advert(rng.randbytes(4), 0, 1, entries))
    if kind == 2:
        return fr.encode(fr.Request.for_indices(short, fr.TARGET_CHUNKS, list(range(0, 1000, 3))))
    if kind == 3:
        total = 16 * 1024
        return fr.encode(fr.ManifestPiece(short, 0, total, rng.randbytes(fr.MANIFEST_PIECE_MAX)))
    return fr.encode(fr.DataChunk(short, rng.randrange(100), rng.randbytes(224)))


def test_a_junk_flooding_neighbour_leaves_delivery_intact_and_memory_bounded():
    names = ["src", "a", "b", "c"]
    mesh = full_mesh(5, names, **LOSSY)
    bundle = factories.make_bundle(8000, "honest")
    work_id = mesh.nodes["src"].engine.ingest_bundle(bundle, 0.0)
    mesh.add_jammer("flooder", "radio", junk, interval=0.25)
    for name in names:
        mesh.connect("radio", "flooder", name)
    mesh.run(6 * 3600, stop=lambda: mesh.complete(work_id, names))
    assert mesh.complete(work_id, names)
    mesh.run(mesh.now + 1800)  # keep flooding after delivery
    for name in names:
        engine = mesh.nodes[name].engine
        status = engine.status(mesh.now)
        cfg = engine.config
        assert status.works_wanted <= cfg.max_wanted
        assert status.assemblies <= cfg.max_assemblies
        assert engine._transfers.early_bytes() <= cfg.max_early_chunk_bytes
        assert all(len(limiter) <= cfg.max_neighbours for limiter in engine._limiters.values())
        assert all(q.queued < 5000 for q in status.links.values())
        assert mesh.nodes[name].store.work_ids() == [work_id]
        assert status.drops.get("rate-limited", 0) > 0
    # no amplification: honest nodes never served a made-up work
    for frame in frames_sent_by(mesh, names):
        if isinstance(frame, (fr.DataChunk, fr.ManifestPiece)):
            assert frame.short_id == work_id[:4]


def test_replayed_status_beacons_are_dropped():
    mesh = full_mesh(6, ["a", "b"])
    mesh.run(1000)
    beacon = next(s.data for s in mesh.sent if s.node == "a" and s.data[0] & 0x0F == fr.KIND_STATUS)
    engine = mesh.nodes["b"].engine
    engine.receive_frame(beacon, "radio", RxInfo("a"), mesh.now)
    assert engine.status(mesh.now).drops.get("replay") == 1
    forged = bytearray(beacon)
    forged[40] ^= 1
    engine.receive_frame(bytes(forged), "radio", RxInfo("a"), mesh.now)
    assert engine.status(mesh.now).drops.get("bad-signature") == 1


def test_garbage_never_raises_out_of_the_engine():
    mesh = full_mesh(7, ["a"])
    engine = mesh.nodes["a"].engine
    rng = random.Random(0)
    for i in range(3000):
        engine.receive_frame(junk(rng) if i % 2 else rng.randbytes(rng.randrange(0, 300)), "radio",
                             RxInfo(f"n{i % 7}"), float(i))
    status = engine.status(3000.0)
    assert sum(status.drops.values()) > 1000
    assert status.links["radio"].frames_in == 3000


def test_a_rejected_manifest_is_remembered_by_full_hash_so_its_short_id_is_not_poisoned():
    from node.protocol.frames import manifest_piece

    holder_engine = GossipEngine(factories.node_key("victim"), factories.trust(), MemoryStore(), random.Random(2),
                                 EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")]), 0.0)
    forged = factories.make_bundle(3000, "collider", curator=factories.curator_key("rogue"))
    raw, short = forged.signed.raw, forged.work_id[:4]
    for i in range(fr.ManifestPiece.piece_count(len(raw))):
        holder_engine.receive_frame(fr.encode(manifest_piece(raw, short, i)), "radio", RxInfo("forger"), 1.0)
    assert holder_engine.status(1.0).drops.get("unknown-curator") == 1
    assert holder_engine._fetcher.advertisers.score("forger") == 1  # blamed on the supplier
    # the 4-byte id stays usable: a neighbour advertising it is listened to again
    advert = fr.Advert(b"hone", 0, 1, (fr.AdvertEntry(short, fr.STATE_COMPLETE),))
    holder_engine.receive_frame(fr.encode(advert), "radio", RxInfo("honest"), 2.0)
    transfer = holder_engine._transfers.get(short)
    assert transfer is not None and transfer.fetch is not None and transfer.fetch.neighbour == "honest"


def test_junk_coded_frames_neither_count_as_served_nor_spend_a_requesters_credit():
    config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])
    engine = GossipEngine(factories.node_key("holder"), factories.trust(), MemoryStore(), random.Random(3),
                          config, 0.0)
    bundle = factories.make_bundle(20 * 224, "served")
    short = engine.ingest_bundle(bundle, 0.0)[:4]
    rng = random.Random(9)
    engine.receive_frame(fr.encode(fr.Request(short, fr.TARGET_CHUNKS, 0, b"")), "radio", RxInfo("honest"), 0.0)
    sent_chunks = set()
    now = 0.0
    while now < 60.0:
        junk = fr.CodedChunk(short, rng.getrandbits(16), rng.randbytes(224))
        engine.receive_frame(fr.encode(junk), "radio", RxInfo("jammer"), now)  # before every frame
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            frame = fr.decode(data)
            if isinstance(frame, fr.DataChunk):
                sent_chunks.add(frame.index)
        now += 0.05
    assert sent_chunks == set(range(20))  # every owed chunk still went out
    assert engine.status(now).drops.get("bad-coded", 0) > 100  # each junk frame checked exactly
    assert engine.status(now).drops.get("answer-credit", 0) == 0
