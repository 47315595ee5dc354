"""Airtime efficiency: fresh nodes speak early, repairs under loss stay near the bound."""

from __future__ import annotations

import random

from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol.frames import KIND_ADVERT
from node.store.memory import MemoryStore
from tests import factories


def first_advert_time(engine: GossipEngine, start: float, horizon: float) -> float | None:
    now = start
    while now < horizon:
        timer = engine.get_timer()
        if timer is None or timer > horizon:
            return None
        now = max(now, timer)
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            if data[0] & 0x0F == KIND_ADVERT:
                return now
        now += 1e-3
    return None


def test_a_rebooted_node_advertises_within_imin():
    config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])
    store = MemoryStore()
    first = GossipEngine(factories.node_key("boot"), factories.trust(), store, random.Random(1), config, 0.0)
    first.ingest_bundle(factories.make_bundle(2000, "kept"), 0.0)
    for seed in range(10):  # a new engine on the same store, as after a reboot
        engine = GossipEngine(factories.node_key("boot"), factories.trust(), store, random.Random(seed), config,
                              5000.0)
        at = first_advert_time(engine, 5000.0, 5000.0 + 3600.0)
        assert at is not None and at - 5000.0 <= config.trickle_imin_s


def test_a_new_local_work_is_advertised_within_imin_even_after_a_long_quiet_spell():
    config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])
    engine = GossipEngine(factories.node_key("quiet"), factories.trust(), MemoryStore(), random.Random(2), config,
                          0.0)
    assert first_advert_time(engine, 0.0, 100.0) is not None
    engine.handle_timer(3 * 3600.0)  # Trickle has grown to Imax meanwhile
    engine.ingest_bundle(factories.make_bundle(1500, "news"), 3 * 3600.0)
    at = first_advert_time(engine, 3 * 3600.0, 4 * 3600.0)
    assert at is not None and at - 3 * 3600.0 <= config.trickle_imin_s
