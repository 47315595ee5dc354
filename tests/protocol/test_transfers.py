"""One object per work in flight: forgetting a work forgets every trace, and queries are pure."""

from __future__ import annotations

import random

import pytest

from node.artwork import Takedown
from node.protocol import DropReason, EngineConfig, GossipEngine, LinkConfig, UnknownLinkError
from node.protocol import frames as fr
from node.protocol.coding import coded_indices
from node.protocol.events import FrameDropped, RxInfo
from node.store.memory import MemoryStore
from tests import factories
from tests.protocol.test_coding import combine


def engine_with(store: MemoryStore, name: str = "rx") -> GossipEngine:
    config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])
    return GossipEngine(factories.node_key(name), factories.trust(), store, random.Random(1), config, 0.0)


def pieces(bundle) -> list[bytes]:
    raw, short = bundle.signed.raw, bundle.work_id[:4]
    return [fr.encode(fr.manifest_piece(raw, short, i)) for i in range(fr.ManifestPiece.piece_count(len(raw)))]


def sent_frames(engine: GossipEngine, start: float, until: float) -> list[fr.Frame]:
    """Every frame the engine sends from ``start`` to ``until``."""
    out = []
    now = start
    while now < until:
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            out.append(fr.decode(data))
        now += 0.5
    return out


def naming(frames: list[fr.Frame], short: bytes) -> list[fr.Frame]:
    """The frames that carry ``short`` as their work's short id."""
    return [f for f in frames if getattr(f, "short_id", None) == short]


def test_a_takedown_forgets_the_wants_decoder_requests_and_answers_of_the_work():
    bundle = factories.make_bundle(16 * 224, "partial")
    chunks, short = bundle.chunks(), bundle.work_id[:4]
    store = MemoryStore()
    store.put_manifest(bundle.signed)
    for i in range(8):
        store.put_chunk(bundle.work_id, i, chunks[i])
    engine = engine_with(store)
    # an equation over the holes (buffered, not decodable), a request for what we hold, our own request due
    seed = next(s for s in range(100) if (coded_indices(short, s, len(chunks)) >> 9).bit_count() >= 2)
    coded = fr.CodedChunk(short, seed, combine(chunks, coded_indices(short, seed, len(chunks))))
    # a neighbour that served a chunk we lacked: its unverifiable equations are buffered
    engine.receive_frame(fr.encode(fr.DataChunk(short, 8, chunks[8])), "radio", RxInfo("!src"), 1.0)
    engine.receive_frame(fr.encode(coded), "radio", RxInfo("!src"), 1.0)
    engine.receive_frame(fr.encode(fr.Request.for_indices(short, fr.TARGET_CHUNKS, [0, 1, 2])), "radio",
                         RxInfo("!asker"), 1.0)
    transfer = engine._transfers.get(short)
    assert transfer is not None and transfer.fetch is not None and transfer.decoder and transfer.serving
    assert engine.status(1.0).works_wanted == 1

    engine.apply_takedown(Takedown.create(factories.curator_key(), bundle.work_id, "withdrawn", 2), 2.0)
    assert engine._transfers.get(short) is None and len(engine._transfers) == 0
    assert engine._transfers.decoder_rows() == 0 and engine.status(2.0).works_wanted == 0
    sent = sent_frames(engine, 2.0, 180.0)
    assert any(isinstance(f, fr.TakedownFrame) for f in sent)
    assert naming(sent, short) == []  # no request, answer or piece of it is left anywhere


def test_a_rejected_manifest_forgets_its_assembly_want_and_early_chunks():
    forged = factories.make_bundle(6 * 224, "forged", curator=factories.curator_key("rogue"))
    short = forged.work_id[:4]
    engine = engine_with(MemoryStore())
    engine.receive_frame(fr.encode(fr.Advert(b"dig1", 0, 1, (fr.AdvertEntry(short, fr.STATE_COMPLETE),))),
                         "radio", RxInfo("!liar"), 0.0)
    manifest = pieces(forged)
    assert len(manifest) >= 2
    for piece in manifest[:-1]:
        engine.receive_frame(piece, "radio", RxInfo("!liar"), 1.0)
    for index, chunk in enumerate(forged.chunks()[:3]):
        engine.receive_frame(fr.encode(fr.DataChunk(short, index, chunk)), "radio", RxInfo("!liar"), 1.5)
    transfer = engine._transfers.get(short)
    assert transfer is not None and transfer.fetch is not None and transfer.assemblies and transfer.early
    assert engine._transfers.early_bytes() > 0

    engine.receive_frame(manifest[-1], "radio", RxInfo("!liar"), 2.0)
    assert engine.status(2.0).drops.get("unknown-curator") == 1
    assert engine._transfers.get(short) is None and engine._transfers.early_bytes() == 0
    status = engine.status(2.0)
    assert status.works_wanted == 0 and status.assemblies == 0 and engine.store.work_ids() == []
    assert naming(sent_frames(engine, 2.0, 180.0), short) == []


def run_twin(extra_queries: int) -> list[tuple[float, bytes]]:
    store = MemoryStore()
    engine = engine_with(store, "twin")
    bundle = factories.make_bundle(4000, "twin")
    engine.ingest_bundle(bundle, 0.0)
    ask = fr.encode(fr.Request(bundle.work_id[:4], fr.TARGET_CHUNKS, 0, b""))
    out = []
    now = 0.0
    while now < 200.0:
        if now in (5.0, 60.0):
            engine.receive_frame(ask, "radio", RxInfo("!asker"), now)
        for _ in range(extra_queries):
            engine.get_timer()
        timer = engine.get_timer()
        if timer is not None and timer <= now:
            engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            out.append((now, data))
        now += 0.25
    return out


def test_get_timer_is_a_pure_query():
    quiet = run_twin(0)
    assert len(quiet) > 10
    assert run_twin(7) == quiet


def test_drop_reasons_are_one_closed_set_and_misuse_raises_the_engines_errors():
    engine = engine_with(MemoryStore())
    for junk in (b"", b"\x1f", bytes([0x23]) + b"wxyz\x00\x01" + b"x" * 10, bytes([0x13]) + bytes(20), b"\x99" * 20):
        engine.receive_frame(junk, "radio", RxInfo("!junk"), 1.0)
    drops = engine.status(1.0).drops
    assert drops and all(DropReason(reason) for reason in drops)
    events = []
    while (event := engine.next_event()) is not None:
        events.append(event)
    assert all(isinstance(e, FrameDropped) and isinstance(e.reason, DropReason) for e in events)
    with pytest.raises(UnknownLinkError):
        engine.poll_frame("nowhere", 1.0)
