"""Congestion control: the engine measures the channel and backs off while others keep it busy."""

from __future__ import annotations

import random

from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol import frames as fr
from node.protocol.congestion import RATE_MIN, ChannelLoad
from node.protocol.events import RxInfo
from node.store.memory import MemoryStore
from tests import factories

TAU = 20.0
TARGET = 0.3


def test_the_estimate_follows_the_measured_airtime_and_the_radios_report():
    load = ChannelLoad(TARGET, TAU, 0.0)
    t = 0.0
    while t < 5 * TAU:  # 0.5 s of airtime every second: half the channel
        load.note_airtime(0.5, t)
        t += 1.0
    assert 0.4 < load.estimate(t) < 0.6
    assert load.rate == RATE_MIN  # halved once per half time constant while above the target, down to the floor
    assert load.estimate(t + 5 * TAU) < 0.01  # a clear channel decays away
    load.note_radio(0.9, t + 5 * TAU)
    assert load.estimate(t + 5 * TAU) == 0.9  # the radio's own measurement counts when it is higher
    assert load.estimate(t + 9 * TAU) < 0.01  # until it is stale


def holder() -> tuple[GossipEngine, bytes]:
    # no duty-cycle ceiling: only congestion control stands between the holder and a full channel
    link = LinkConfig("radio", preset="SHORT_FAST", duty_cycle=1.0, duty_share=1.0)
    config = EngineConfig(links=[link], congestion_target=TARGET, congestion_tau_s=TAU,
                          answer_share=1000.0,
                          answer_unbound_share=1000.0, neighbour_control_burst=1000, neighbour_control_per_min=6000)
    engine = GossipEngine(factories.node_key("holder"), factories.trust(), MemoryStore(), random.Random(5), config, 0.0)
    work_id = engine.ingest_bundle(factories.make_bundle(60 * 1024, "big"), 0.0)
    return engine, work_id[:4]


def offered_load(engine: GossipEngine, short: bytes, start: float, end: float, background: float) -> list[float]:
    """Run from ``start`` to ``end`` with requesters always asking; the own airtime fraction per TAU window.

    ``background`` is the busy fraction of other nodes' traffic the transport reports.
    """
    cost = engine.config.links[0].frame_cost
    ask = fr.encode(fr.Request(short, fr.TARGET_CHUNKS, 0, b""))
    windows: list[float] = []
    own = 0.0
    window_start = start
    busy_until = start
    t = start
    step = 0.01
    n = 0
    while t < end:
        if round(t * 100) % 100 == 0:  # every second a requester asks for everything
            n += 1
            engine.receive_frame(ask, "radio", RxInfo(f"asker{n % 7}"), t)
            if background:
                engine.note_foreign_frame("radio", background, t)
        timer = engine.get_timer()
        if timer is not None and timer <= t:
            engine.handle_timer(t)
        if t >= busy_until:
            data = engine.poll_frame("radio", t)
            if data is not None:
                airtime = cost(len(data))
                own += airtime
                busy_until = t + airtime
        if t - window_start >= TAU:
            windows.append(own / (t - window_start))
            own, window_start = 0.0, t
        t = round(t + step, 6)
    return windows


def test_a_saturated_neighbourhood_brings_the_offered_load_under_the_target_and_it_recovers():
    engine, short = holder()
    saturated = offered_load(engine, short, 0.0, 20 * TAU, background=0.7)  # others keep the channel 70 % busy
    assert saturated[0] > TARGET  # it starts at full speed
    settled = saturated[5:]  # within 5 time constants ...
    assert max(settled) < TARGET  # ... it backs off under the target and stays there
    assert engine.status(20 * TAU).links["radio"].data_rate <= 2 * RATE_MIN
    clear = offered_load(engine, short, 20 * TAU, 40 * TAU, background=0.0)
    assert min(clear[10:]) > TARGET  # the channel cleared: back to full speed (its own traffic never paces it)
    assert engine.status(40 * TAU).links["radio"].data_rate == 1.0
