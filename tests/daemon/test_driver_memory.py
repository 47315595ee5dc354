"""The driver with real engines and stores over the in-memory transport."""

import asyncio
import random

from node.daemon.driver import EngineDriver
from node.eventhub import EventHub
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.engine import GossipEngine
from node.protocol.events import WorkCompleted
from node.store.memory import MemoryStore
from node.transport.base import RadioMetrics
from node.transport.memory import MemoryBus, MemoryTransport
from tests.factories import make_bundle, node_key, trust


def make_node(name, bus, loop):
    store = MemoryStore()
    config = EngineConfig(links=[LinkConfig("mem", "ip", rate_bytes_per_s=50_000.0)], venue=name,
                          trickle_imin_s=0.5)
    engine = GossipEngine(node_key(name), trust(), store, random.Random(name), config, loop.time())
    transport = MemoryTransport("mem", bus, name)
    driver = EngineDriver(engine, EventHub(), [transport])
    return driver, transport, store


async def test_a_work_published_on_one_node_completes_on_the_others():
    loop = asyncio.get_running_loop()
    bus = MemoryBus()
    nodes = [make_node(n, bus, loop) for n in ("a", "b", "c")]
    completed = asyncio.Event()
    seen = []

    async def watch(driver):
        async for event in driver.hub.subscribe():
            if isinstance(event, WorkCompleted):
                seen.append(event)
                if len(seen) == 2:
                    completed.set()

    watchers = [asyncio.create_task(watch(d)) for d, _, _ in nodes[1:]]
    tasks = [asyncio.create_task(t.run(d)) for d, t, _ in nodes]
    for d, _, _ in nodes:
        d.start()
    await asyncio.sleep(0)
    bundle = make_bundle(4000, "mem")
    work_id = nodes[0][0].ingest(bundle)
    try:
        await asyncio.wait_for(completed.wait(), 60)
    finally:
        for task in tasks + watchers:
            task.cancel()
        await asyncio.gather(*tasks, *watchers, return_exceptions=True)
    for _, _, store in nodes:
        assert store.content(work_id) == bundle.content
    # the source's advert is timer-driven; a node may complete from overheard traffic alone,
    # before its own (Trickle or request) timer ever fires
    assert nodes[0][0].timer_runs > 0
    assert any(d.timer_runs > 0 for d, _, _ in nodes[1:])
    assert nodes[1][1].state.frames_in > 0 and nodes[0][1].state.frames_out > 0


async def test_the_radios_channel_utilisation_reaches_the_engines_congestion_control():
    loop = asyncio.get_running_loop()
    config = EngineConfig(links=[LinkConfig("radio", "lora", preset="LONG_FAST")])
    engine = GossipEngine(node_key("util"), trust(), MemoryStore(), random.Random(1), config, loop.time())
    driver = EngineDriver(engine, EventHub())
    driver.radio_metrics("radio", RadioMetrics(channel_utilization=80.0, air_util_tx=4.0))  # percent
    link = engine.status(driver.now()).links["radio"]
    assert link.channel_load == 0.8 and link.channel_utilization == 80.0 and link.air_util_tx == 4.0
    driver.close()
