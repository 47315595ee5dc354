"""Issue 17, the forger: a neighbour that asks for manifests it never uses cannot buy a holder's airtime.

A node that trusts another curator (or will not verify) asks for every advertised manifest again
and again; before, every holder in range re-sent each one whole, on its own budget, and the
exhibition took 2.4-3x as long (benchmarks/hostile_mesh.py --exhibition --attacks forger).
"""

from __future__ import annotations

import random

from node.protocol import frames as fr
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.engine import GossipEngine
from node.protocol.events import RxInfo
from node.protocol.fairness import ManifestUse
from node.store.memory import MemoryStore
from tests import factories

STEP = 0.25


def holder(works: int) -> tuple[GossipEngine, list[bytes], list[bytes]]:
    """A LONG_FAST holder of ``works`` 4 KB works: the engine, their short ids and manifests."""
    config = EngineConfig(links=[LinkConfig("radio", preset="LONG_FAST")])
    engine = GossipEngine(factories.node_key("holder"), factories.trust(), MemoryStore(), random.Random(1),
                          config, 0.0)
    bundles = [factories.make_bundle(4000, f"work{i}") for i in range(works)]
    shorts = [engine.ingest_bundle(b, 0.0)[:4] for b in bundles]
    return engine, shorts, [b.signed.raw for b in bundles]


def manifest_airtime(engine: GossipEngine, until: float, each) -> float:
    """Seconds of MANIFEST pieces the holder sent by ``until``."""
    link = engine.config.links[0]
    sent = 0.0
    now = 0.0
    while now < until:
        each(now)
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            if isinstance(fr.decode(data), fr.ManifestPiece):
                sent += link.frame_cost(len(data))
        now += STEP
    return sent


def test_a_bound_requester_that_never_uses_the_manifests_gets_a_small_part_of_its_budget():
    engine, shorts, _ = holder(8)
    engine._server.bind("!forger", b"\x02" * 32, -3600.0)  # a signed beacon long ago: full budget

    def each(now: float) -> None:
        if now % 40 < STEP:  # one "whole manifest" request every 40 s, inside the control-rate limit
            short = shorts[int(now // 40) % len(shorts)]
            engine.receive_frame(fr.encode(fr.Request(short, fr.TARGET_MANIFEST, 0, b"")), "radio",
                                 RxInfo("!forger"), now)

    link = engine.config.links[0]
    budget = link.hourly_budget_s * engine.config.answer_share  # what a requester could buy an hour
    sent = manifest_airtime(engine, 3600.0, each)
    assert sent < budget / 2, (sent, budget)  # it could buy twice the budget in the hour before
    assert engine.status(3600.0).drops.get("answer-credit", 0) > 0


def test_an_honest_requester_that_fetches_each_work_pays_the_normal_price():
    engine, shorts, raws = holder(8)
    engine._server.bind("!honest", b"\x03" * 32, -3600.0)

    def each(now: float) -> None:
        if now % 40 < STEP and now < 40 * len(shorts):  # each manifest once, then the work's chunks
            short = shorts[int(now // 40)]
            engine.receive_frame(fr.encode(fr.Request(short, fr.TARGET_MANIFEST, 0, b"")), "radio",
                                 RxInfo("!honest"), now)
        if now % 40 == 20.0 and now < 40 * len(shorts):
            short = shorts[int(now // 40)]
            engine.receive_frame(fr.encode(fr.Request.for_indices(short, fr.TARGET_CHUNKS, [0])), "radio",
                                 RxInfo("!honest"), now)  # one chunk: the holder's own duty cycle stays free

    link = engine.config.links[0]
    whole = sum(link.frame_cost(len(fr.encode(fr.manifest_piece(raw, short, i))))
                for raw, short in zip(raws, shorts, strict=True)
                for i in range(fr.ManifestPiece.piece_count(len(raw))))
    until = 40.0 * len(shorts) + 600.0
    assert manifest_airtime(engine, until, each) >= whole - 1e-6  # every manifest, whole
    assert engine.status(until).drops.get("answer-credit", 0) == 0


def test_manifest_pieces_a_neighbour_sends_are_charged_to_their_requesters():
    engine, shorts, raws = holder(1)
    short, raw = shorts[0], raws[0]
    engine.receive_frame(fr.encode(fr.Request(short, fr.TARGET_MANIFEST, 0, b"")), "radio", RxInfo("!asker"), 0.0)
    for i in range(fr.ManifestPiece.piece_count(len(raw))):  # another holder answers first
        engine.receive_frame(fr.encode(fr.manifest_piece(raw, short, i)), "radio", RxInfo("!other"), 0.1)
    link = engine.config.links[0]
    whole = sum(link.frame_cost(len(fr.encode(fr.manifest_piece(raw, short, i))))
                for i in range(fr.ManifestPiece.piece_count(len(raw))))
    spent = engine._server._credits["radio"].spent("!asker", None, 0.1)
    assert abs(spent - whole) < 1e-6  # as if this holder had sent them: one budget among holders in earshot
    sent = manifest_airtime(engine, 60.0, lambda now: None)
    assert sent == 0.0  # and nothing is repeated


def test_unused_manifests_double_the_price_beyond_the_slack_and_use_clears_them():
    use = ManifestUse(window_s=3600.0, slack=2, max_factor=64.0, max_accounts=8)
    for i in range(6):
        use.sent("key:a", bytes([i]) * 4, float(i))
    assert use.factor("key:a", 10.0) == 64.0
    assert use.factor("key:b", 10.0) == 1.0
    for i in range(4):
        use.used("key:a", bytes([i]) * 4)
    assert use.factor("key:a", 10.0) == 1.0
    use.sent("key:a", b"\x05" * 4, 11.0)  # the same manifest again counts again
    assert use.factor("key:a", 11.0) == 4.0
    assert use.factor("key:a", 11.0 + 3601.0) == 1.0  # forgotten after the window


def test_a_requester_that_advertises_the_work_has_used_its_manifest():
    engine, shorts, _ = holder(1)
    engine._server.bind("!relay", b"\x04" * 32, -3600.0)
    engine.receive_frame(fr.encode(fr.Request(shorts[0], fr.TARGET_MANIFEST, 0, b"")), "radio", RxInfo("!relay"), 0.0)
    manifest_airtime(engine, 60.0, lambda now: None)
    use = engine._server._manifest_use["radio"]
    account = ManifestUse.account("!relay", (b"\x04" * 32).hex())
    assert use.factor(account, 60.0) == 4.0  # sent whole, not used yet
    advert = fr.Advert(b"\0" * 4, 0, 1, (fr.AdvertEntry(shorts[0], 0),))  # it holds the manifest now
    engine.receive_frame(fr.encode(advert), "radio", RxInfo("!relay"), 61.0)
    assert use.factor(account, 61.0) == 1.0
