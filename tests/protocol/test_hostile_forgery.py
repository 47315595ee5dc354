"""Issue 17 items 1 and 2: a forged 4-byte short-id collision and junk CODED frames.

A real collision costs 2^32 hashes; the tests stand one in by making the engine's SHA-256 map a
chosen forged manifest onto the genuine work's short id (everything else hashes as usual).
"""

from __future__ import annotations

import hashlib
import random
from types import SimpleNamespace

import pytest

import node.protocol.intake as intake_module
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from tests import factories
from tests.protocol.harness import Medium, Mesh


def pair(seed: int) -> Mesh:
    mesh = Mesh(seed, [Medium("radio")])
    for name in ("holder", "victim"):
        mesh.add_node(name)
    mesh.connect("radio", "holder", "victim")
    return mesh


def collide(monkeypatch: pytest.MonkeyPatch, forged: bytes, short: bytes) -> None:
    """Make ``forged`` hash to a digest starting with ``short`` inside manifest intake."""
    def sha256(data: bytes = b"") -> SimpleNamespace:
        digest = hashlib.sha256(data).digest()
        if data == forged:
            digest = short + digest[4:]
        return SimpleNamespace(digest=lambda: digest)
    monkeypatch.setattr(intake_module, "hashlib", SimpleNamespace(sha256=sha256))


def test_a_forged_collision_piece_sent_first_does_not_block_the_genuine_work(monkeypatch):
    mesh = pair(11)
    bundle = factories.make_bundle(3000, "genuine")
    short = bundle.work_id[:4]
    forged = random.Random(1).randbytes(55)  # one 63-byte MANIFEST frame
    collide(monkeypatch, forged, short)
    victim = mesh.nodes["victim"].engine
    victim.receive_frame(fr.encode(fr.ManifestPiece(short, 0, len(forged), forged)), "radio", RxInfo("forger"), 0.0)
    assert sum(victim.status(0.0).drops.values()) == 1  # assembled, failed verification
    mesh.nodes["holder"].engine.ingest_bundle(bundle, 1.0)
    mesh.run(3600, stop=lambda: mesh.complete(bundle.work_id))
    assert mesh.complete(bundle.work_id)
    # the same forged piece again is refused by its full hash, and still blocks nothing
    victim.receive_frame(fr.encode(fr.ManifestPiece(short, 0, len(forged), forged)), "radio", RxInfo("forger"),
                         mesh.now)
    assert mesh.nodes["victim"].store.is_complete(bundle.work_id)


@pytest.mark.parametrize("forged_lengths", [False, True])
def test_forged_pieces_injected_mid_reassembly_do_not_freeze_the_manifest(forged_lengths):
    """A forger streams made-up pieces of the genuine short id (also of made-up lengths, which
    evict assemblies), one every 0.3 s: the genuine manifest still assembles within minutes
    (undisturbed: 26 s); before, the victim never asked at all (3 h)."""
    mesh = pair(12)
    bundle = factories.make_bundle(40 * 224, "genuine")
    raw, short = bundle.signed.raw, bundle.work_id[:4]
    pieces = fr.ManifestPiece.piece_count(len(raw))
    assert pieces >= 2
    rng = random.Random(2)

    def forged_piece(_rng: random.Random) -> bytes:
        index = rng.randrange(pieces)
        total = len(raw) + (rng.randrange(3) if forged_lengths else 0)
        size = len(fr.manifest_piece(raw, short, index).data)  # type: ignore[union-attr]
        return fr.encode(fr.ManifestPiece(short, index, total, rng.randbytes(size)))

    mesh.add_jammer("forger", "radio", forged_piece, interval=0.3)
    mesh.connect("radio", "forger", "victim")
    mesh.nodes["holder"].engine.ingest_bundle(bundle, 0.0)
    mesh.run(600, stop=lambda: mesh.complete(bundle.work_id))
    assert mesh.complete(bundle.work_id), mesh.nodes["victim"].engine.status(mesh.now).drops
    assert mesh.nodes["victim"].engine._variants.suspect("forger")


def coded_run(jam: bool) -> float:
    mesh = pair(13)
    bundle = factories.make_bundle(40 * 224, "streamed")
    short = bundle.work_id[:4]
    slot = mesh.media["radio"].link_config().slot_s
    if jam:
        mesh.add_jammer("jammer", "radio",
                        lambda rng: fr.encode(fr.CodedChunk(short, rng.getrandbits(16), rng.randbytes(fr.DATA_MAX))),
                        interval=5 * slot)
        mesh.connect("radio", "jammer", "victim")
        mesh.connect("radio", "jammer", "holder")
    mesh.nodes["holder"].engine.ingest_bundle(bundle, 0.0)
    mesh.run(1800, stop=lambda: mesh.complete(bundle.work_id))
    assert mesh.complete(bundle.work_id)
    assert mesh.nodes["victim"].store.content(bundle.work_id) == bundle.content
    return mesh.now


def test_junk_coded_frames_every_five_slots_do_not_freeze_a_40_chunk_transfer():
    """One random CODED frame of the work every 5 slots (20 % of the channel), heard by the
    requester and the holder: the transfer finishes within 1.5x its undisturbed time."""
    undisturbed = coded_run(jam=False)
    jammed = coded_run(jam=True)
    assert jammed <= 1.5 * undisturbed + 5.0, (jammed, undisturbed)
