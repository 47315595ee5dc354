"""Issue 17 item 4: requests cannot starve a LoRa holder, inside the rate limits."""

from __future__ import annotations

import random

from node.protocol import frames as fr
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.engine import GossipEngine
from node.protocol.events import RxInfo
from node.store.memory import MemoryStore
from tests import factories

STEP = 0.25


def holder_with(old_works: int) -> tuple[GossipEngine, list[bytes], bytes, int]:
    """A LONG_FAST holder of ``old_works`` 8 KB works and one new 2 KiB work (published last)."""
    config = EngineConfig(links=[LinkConfig("radio", preset="LONG_FAST")])
    engine = GossipEngine(factories.node_key("holder"), factories.trust(), MemoryStore(), random.Random(1),
                          config, 0.0)
    old = [engine.ingest_bundle(factories.make_bundle(8000, f"old{i}"), 0.0)[:4] for i in range(old_works)]
    new = factories.make_bundle(2048, "new")
    return engine, old, engine.ingest_bundle(new, 1.0)[:4], len(new.chunks())


def served_at(engine: GossipEngine, short: bytes, count: int, until: float, each) -> float | None:
    """When the holder had sent every chunk of ``short`` at least once (None: not by ``until``)."""
    seen: set[int] = set()
    now = 0.0
    while now < until:
        each(now)
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            frame = fr.decode(data)
            if isinstance(frame, fr.DataChunk) and frame.short_id == short:
                seen.add(frame.index)
        if len(seen) == count:
            return now
        now += STEP
    return None


def test_asking_for_all_of_eight_old_works_does_not_delay_a_new_small_work():
    def run(attack: bool) -> float:
        engine, old, new, count = holder_with(8)
        asked = set()

        def each(now: float) -> None:
            slot = int(now // 1200)
            if attack and now % 1200 < STEP and slot not in asked:  # all chunks of 8 works every 20 min
                asked.add(slot)
                for short in old:
                    engine.receive_frame(fr.encode(fr.Request(short, fr.TARGET_CHUNKS, 0, b"")), "radio",
                                         RxInfo("!attacker"), now)
            if 60.0 <= now < 60.0 + STEP:
                engine.receive_frame(fr.encode(fr.Request(new, fr.TARGET_CHUNKS, 0, b"")), "radio",
                                     RxInfo("!honest"), now)

        at = served_at(engine, new, count, 3 * 3600.0, each)
        assert at is not None
        return at - 60.0

    undisturbed, attacked = run(False), run(True)
    assert attacked <= 3 * undisturbed + 10.0, (undisturbed, attacked)


def test_manifest_piece_requests_are_charged_to_the_requester():
    engine, old, _, _ = holder_with(1)
    ask = fr.encode(fr.Request(old[0], fr.TARGET_MANIFEST, 0, b""))
    pieces = 0.0  # airtime of the pieces sent
    link = engine.config.links[0]
    now = 0.0
    while now < 3600.0:
        if now % 40 < STEP:  # 1.5 a minute, inside the control-rate limit
            engine.receive_frame(ask, "radio", RxInfo("!spammer"), now)
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            if isinstance(fr.decode(data), fr.ManifestPiece):
                pieces += link.frame_cost(len(data))
        now += STEP
    share = link.hourly_budget_s * engine.config.answer_unbound_share * 2  # its own share, refilled once
    assert pieces <= share + 3 * link.slot_s
    assert engine.status(now).drops.get("answer-credit", 0) > 0


def test_a_beacon_bound_requester_keeps_its_budget_when_the_attacker_varies_radio_ids():
    engine, old, new, count = holder_with(2)
    server = engine._server
    server.bind("!honest", b"\x01" * 32, 0.0)

    def each(now: float) -> None:
        if now % 10 < STEP and now < 2400:  # a fresh radio id every 10 s, each asking for everything
            for short in old:
                engine.receive_frame(fr.encode(fr.Request(short, fr.TARGET_CHUNKS, 0, b"")), "radio",
                                     RxInfo(f"!{int(now):08x}"), now)
        if 600.0 <= now < 600.0 + STEP:
            engine.receive_frame(fr.encode(fr.Request(new, fr.TARGET_CHUNKS, 0, b"")), "radio",
                                 RxInfo("!honest"), now)

    at = served_at(engine, new, count, 3600.0, each)
    assert at is not None and at - 600.0 < 120.0, at


def test_a_requester_the_holders_ignore_cannot_keep_honest_requests_back():
    config = EngineConfig(links=[LinkConfig("radio", preset="LONG_FAST")])
    engine = GossipEngine(factories.node_key("asker"), factories.trust(), MemoryStore(), random.Random(3), config, 0.0)
    short = b"wxyz"
    advert = fr.Advert(b"\0" * 4, 0, 1, (fr.AdvertEntry(short, fr.STATE_COMPLETE),))
    engine.receive_frame(fr.encode(advert), "radio", RxInfo("!holder"), 0.0)
    ignored = fr.encode(fr.Request(short, fr.TARGET_MANIFEST, 0, b""))  # "all": covers whatever we ask
    asked_at = None
    now = 0.0
    while now < 1800.0 and asked_at is None:
        if now % 5 < STEP:  # inside the control-rate limit; nobody ever answers it
            engine.receive_frame(ignored, "radio", RxInfo("!ignored"), now)
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            frame = fr.decode(data)
            if isinstance(frame, fr.Request) and frame.short_id == short:
                asked_at = now
        now += STEP
    slot = config.links[0].slot_s
    assert asked_at is not None and asked_at < 2 * config.request_quiet_slots * slot * 1.25 + 10 * slot, asked_at


def test_coalescing_sends_ready_control_frames_as_one_batch_and_receivers_take_each():
    from dataclasses import replace

    link = replace(LinkConfig("radio", preset="LONG_FAST"), coalesce_control=True, signed_broadcasts=True)
    engine = GossipEngine(factories.node_key("batcher"), factories.trust(), MemoryStore(), random.Random(4),
                          EngineConfig(links=[link]), 0.0)
    for short in (b"aaaa", b"bbbb"):  # two advertised works: two manifest requests due together
        advert = fr.Advert(b"\0" * 4, 0, 1, (fr.AdvertEntry(short, fr.STATE_COMPLETE),))
        engine.receive_frame(fr.encode(advert), "radio", RxInfo("!holder"), 0.0)
    frames = []
    now = 40.0  # the radio was busy meanwhile: both requests (and the first advert) are due at once
    engine.handle_timer(now)
    while (data := engine.poll_frame("radio", now)) is not None:
        frames.append(fr.decode(data))
    batches = [f for f in frames if isinstance(f, fr.Batch)]
    assert batches
    inner = [fr.decode(d) for b in batches for d in b.frames]
    assert {f.short_id for f in inner if isinstance(f, fr.Request)} == {b"aaaa", b"bbbb"}
    holder, _, _, _ = holder_with(0)
    holder.receive_frame(fr.encode(batches[0]), "radio", RxInfo("!batcher"), 0.0)
    assert "malformed" not in holder.status(0.0).drops
