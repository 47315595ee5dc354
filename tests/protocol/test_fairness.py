"""One neighbour's requests cannot buy an unbounded share of a node's airtime."""

from __future__ import annotations

import random

from node.protocol import frames as fr
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.engine import GossipEngine
from node.protocol.events import RxInfo
from node.protocol.fairness import AnswerCredits
from node.protocol.transfers import manifest_piece
from node.store.memory import MemoryStore
from tests import factories


def holder(size: int = 8000) -> tuple[GossipEngine, bytes, int]:
    config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])
    engine = GossipEngine(factories.node_key("holder"), factories.trust(), MemoryStore(), random.Random(1),
                          config, 0.0)
    bundle = factories.make_bundle(size, "held")
    work_id = engine.ingest_bundle(bundle, 0.0)
    return engine, work_id[:4], len(bundle.chunks())


def data_frames(engine: GossipEngine, until: float, step: float, each=None) -> list[fr.DataChunk]:
    """Run the engine's timers and radio until ``until``; the data frames it sent."""
    out = []
    now = 0.0
    while now < until:
        if each is not None:
            each(now)
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            frame = fr.decode(data)
            if isinstance(frame, fr.DataChunk):
                out.append(frame)
        now += step
    return out


def test_repeated_send_everything_requests_buy_a_few_passes_not_the_duty_cycle():
    engine, short, count = holder()
    ask_all = fr.encode(fr.Request(short, fr.TARGET_CHUNKS, 0, b""))

    def flood(now: float) -> None:
        if now % 3.0 < 0.5:  # one "send everything" every 3 s, within the control-rate limit
            engine.receive_frame(ask_all, "radio", RxInfo("flooder"), now)

    sent = data_frames(engine, 3600.0, 0.5, flood)
    cfg = engine.config
    bound = count * (cfg.answer_credit_rounds + 3600.0 / cfg.answer_credit_refill_s) + 1
    assert count < len(sent) <= bound
    assert engine.status(3600.0).drops.get("answer-credit", 0) > 0


def test_a_repeated_request_does_not_restart_the_pass_and_other_requesters_are_served():
    engine, short, count = holder()
    ask_all = fr.encode(fr.Request(short, fr.TARGET_CHUNKS, 0, b""))
    last = fr.encode(fr.Request.for_indices(short, fr.TARGET_CHUNKS, [count - 1]))
    engine.receive_frame(last, "radio", RxInfo("honest"), 0.0)

    def flood(now: float) -> None:
        engine.receive_frame(ask_all, "radio", RxInfo("flooder"), now)  # before every single frame

    sent = data_frames(engine, 200.0, 0.25, flood)
    first_pass = [f.index for f in sent[:count]]
    assert sorted(first_pass) == list(range(count))  # every chunk once, however often it was asked


def test_answer_credits_are_shared_by_the_requesters_a_frame_serves():
    credits = AnswerCredits(rounds=2.0, refill_s=3600.0, max_entries=8)
    for _ in range(20):
        assert credits.charge(["a", "b"], b"wxyz", 10, 0.0) == []  # 10 frames each, half paid by each
    assert credits.allows("a", b"wxyz", 10, 0.0)
    broke = []
    for _ in range(11):
        broke = credits.charge(["a"], b"wxyz", 10, 0.0)
    assert broke == ["a"] and not credits.allows("a", b"wxyz", 10, 0.0)
    assert credits.allows("a", b"wxyz", 10, 360.0)  # one frame back per 360 s
    assert credits.allows("a", b"othr", 10, 0.0)  # per work


def test_a_rejected_manifest_overheard_again_is_not_reassembled_or_reverified():
    engine, _, _ = holder()
    forged = factories.make_bundle(3000, "forged", curator=factories.curator_key("rogue"))
    raw = forged.signed.raw
    short = forged.work_id[:4]
    pieces = [fr.encode(manifest_piece(raw, short, i)) for i in range(fr.ManifestPiece.piece_count(len(raw)))]
    for round_ in range(3):
        for piece in pieces:
            engine.receive_frame(piece, "radio", RxInfo("forger"), 10.0 + round_)
    status = engine.status(20.0)
    assert status.drops.get("unknown-curator") == 1  # verified (and refused) once
    assert status.drops.get("rejected") == 2 * len(pieces)
    assert status.assemblies == 0 and len(engine.store.work_ids()) == 1  # only the held work
