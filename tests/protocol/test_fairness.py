"""One neighbour's requests and adverts cannot buy an unbounded share of a node's airtime."""

from __future__ import annotations

import random

from node.protocol import frames as fr
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.engine import GossipEngine
from node.protocol.events import RxInfo
from node.protocol.fairness import AdvertiserScores, AnswerCredits
from node.protocol.frames import manifest_piece
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
    link = cfg.links[0]
    # an unbound radio id: its own small share, refilled over the hour
    bound = link.hourly_budget_s * cfg.answer_unbound_share * (1 + 3600.0 / cfg.answer_refill_s)
    airtime = sum(link.frame_cost(len(fr.encode(f))) for f in sent)
    assert count < len(sent) and airtime <= bound + link.slot_s
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


def test_answer_credits_are_airtime_shared_by_the_requesters_a_frame_serves_across_works():
    # 100 s an hour for a bound key; a frame costs 1 s
    credits = AnswerCredits(budget_s=200.0, share=0.5, unbound_share=0.1, refill_s=3600.0, max_entries=8)
    for _ in range(100):
        assert credits.charge([("a", "ka"), ("b", "kb")], 1.0, 0.0, 1.0) == []  # 50 s each
    assert credits.allows("a", "ka", 1.0, 0.0)
    broke = []
    for _ in range(50):
        broke = credits.charge([("a", "ka")], 1.0, 0.0, 1.0)
    assert broke == ["a"] and not credits.allows("a", "ka", 1.0, 0.0)
    assert credits.allows("a", "ka", 1.0, 36.0)  # one second back per 36 s
    assert credits.spent("b", "kb", 0.0) == 50.0


def test_unbound_radio_ids_share_one_pool_so_varying_the_id_buys_nothing():
    credits = AnswerCredits(budget_s=200.0, share=0.5, unbound_share=0.1, refill_s=3600.0, max_entries=64)
    spent = 0.0
    for n in range(60):  # a new radio id every frame
        if credits.allows(f"!{n:08x}", None, 1.0, 0.0):
            credits.charge([(f"!{n:08x}", None)], 1.0, 0.0, 1.0)
            spent += 1.0
    assert spent <= 100.0  # the pool, one bound requester's share
    assert credits.allows("honest", "kh", 1.0, 0.0)  # a bound neighbour keeps its own budget
    small = AnswerCredits(budget_s=200.0, share=0.5, unbound_share=0.1, refill_s=3600.0, max_entries=8)
    for _ in range(25):
        small.charge([("x", None)], 1.0, 0.0, 1.0)
    assert not small.allows("x", None, 1.0, 0.0)  # 20 s of its own


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
    assert status.drops.get("rejected") == 2  # reassembled, known by its full hash, never re-verified
    assert status.assemblies == 0 and len(engine.store.work_ids()) == 1  # only the held work


def test_advertiser_scores_count_unserved_adverts_and_halve_on_a_real_one():
    scores = AdvertiserScores(max_neighbours=2)
    for _ in range(5):
        scores.unserved("liar")
    assert scores.score("liar") == 5
    scores.served("liar")
    assert scores.score("liar") == 2
    scores.unserved("x")
    scores.unserved("y")
    assert scores.score("liar") == 0 and len(scores) == 2  # bounded: the oldest is forgotten



def lying_advert(rng: random.Random, extra: tuple[fr.AdvertEntry, ...] = ()) -> bytes:
    fakes = tuple(fr.AdvertEntry(rng.randbytes(4), fr.STATE_COMPLETE) for _ in range(12))
    return fr.encode(fr.Advert(rng.randbytes(4), 0, 1, tuple(sorted(extra + fakes, key=lambda e: e.short_id))))


def requests_sent(engine: GossipEngine, until: float, each) -> list[tuple[float, fr.Request]]:
    out = []
    now = 0.0
    while now < until:
        each(now)
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            frame = fr.decode(data)
            if isinstance(frame, fr.Request):
                out.append((now, frame))
        now += 1.0
    return out


def test_adverts_of_works_nobody_serves_cost_fewer_and_fewer_requests():
    engine, _, _ = holder()
    rng = random.Random(3)

    def lie(now: float) -> None:
        if now % 30 == 0:
            engine.receive_frame(lying_advert(rng), "radio", RxInfo("liar"), now)

    requests = requests_sent(engine, 3600.0, lie)
    first_10_min = [r for t, r in requests if t < 600]
    last_30_min = [r for t, r in requests if t >= 1800]
    # without the score: 16 wants x 6 requests, refilled as they expire (~1,000 per hour)
    assert len(requests) < 150
    assert engine._fetcher.advertisers.score("liar") >= 20
    assert engine._fetcher.want_cap("liar") == 1 and engine._fetcher.unverified_attempts("liar") == 1
    assert len(last_30_min) < len(first_10_min) / 4
    assert engine.status(3600.0).works_wanted <= 1


def test_a_real_work_a_suspect_also_advertises_is_fetched_when_an_honest_neighbour_offers_it():
    engine, _, _ = holder()
    rng = random.Random(4)
    real = factories.make_bundle(2000, "real").work_id[:4]
    entry = (fr.AdvertEntry(real, fr.STATE_COMPLETE),)

    def lie(now: float) -> None:
        if now % 30 == 0 and now < 1800:
            engine.receive_frame(lying_advert(rng), "radio", RxInfo("liar"), now)
        if now == 1800:
            engine.receive_frame(lying_advert(rng, entry), "radio", RxInfo("liar"), now)
        if now == 1810:
            engine.receive_frame(fr.encode(fr.Advert(b"hon1", 0, 1, entry)), "radio", RxInfo("honest"), now)

    asked = [t for t, r in requests_sent(engine, 1830.0, lie) if r.short_id == real]
    assert asked and asked[0] < 1830  # asked within seconds of the honest advert, not after the suspect's long back-off
    assert engine._transfers.get(real).fetch.neighbour == "honest"
