"""Regression tests for defects the reliability runs found (see docs/RELIABILITY.md, "Defects")."""

import asyncio
import random
import sqlite3
import threading
import time
from types import SimpleNamespace

from node.eventhub import EventHub
from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.store.memory import MemoryStore
from node.store.sqlite import DB_NAME, SqliteStore
from tests.factories import make_bundle, node_key, trust
from tests.reliability.inprocess import node_config, running
from tests.reliability.power_cuts import takedown_frame


class ExplodingEngine:
    """An engine with a bug: it raises on every received frame."""

    def receive_frame(self, data, link, rx_info, now):
        raise KeyError("engine bug")

    def get_timer(self):
        return None

    def next_event(self):
        return None


async def test_an_engine_exception_on_a_received_frame_is_counted_not_fatal():
    # Was: the exception left deliver(), ended the transport task and the daemon's TaskGroup.
    from node.daemon.driver import EngineDriver

    driver = EngineDriver(ExplodingEngine(), EventHub())
    driver.deliver("mqtt", b"\x13\x00", RxInfo(sender="peer"))
    driver.deliver("mqtt", b"\x13\x01", RxInfo(sender="peer"))
    assert driver.engine_errors == 2


async def test_daemon_verifies_the_store_at_start_and_demotes_a_corrupted_work(tmp_path):
    from node.daemon.runner import NodeDaemon

    bundle = make_bundle(5000, "bitrot")
    store = SqliteStore(tmp_path / "n")
    store.ingest_bundle(bundle)
    store.close()
    with sqlite3.connect(tmp_path / "n" / DB_NAME) as raw:  # a flipped bit on the SD card
        (data,) = raw.execute("SELECT data FROM chunks WHERE work_id=? AND idx=3", (bundle.work_id,)).fetchone()
        raw.execute("UPDATE chunks SET data=? WHERE work_id=? AND idx=3",
                    (bytes([data[0] ^ 1]) + data[1:], bundle.work_id))
    daemon = NodeDaemon(node_config(tmp_path, "n"))
    async with running(daemon):
        assert not daemon.store.is_complete(bundle.work_id)
        assert daemon.store.content(bundle.work_id) is None
        assert 3 not in daemon.store.have_chunks(bundle.work_id)
        assert daemon.status()["works"] == {**daemon.status()["works"], "complete": 0, "partial": 1}


def test_a_takedown_from_a_neighbour_that_also_requests_a_lot_is_applied():
    store = MemoryStore()
    bundle = make_bundle(3000, "doomed")
    store.ingest_bundle(bundle)
    config = EngineConfig(links=[LinkConfig("mqtt", "ip", rate_bytes_per_s=20_000.0)])
    engine = GossipEngine(node_key("limiter"), trust(), store, random.Random(1), config, 0.0)
    peer = RxInfo(sender="busy-neighbour")
    for index in range(30):  # a neighbour fetching many works asks for them (legitimately)
        request = fr.Request.for_indices(bytes([index, 1, 2, 3]), fr.TARGET_CHUNKS, [0])
        engine.receive_frame(fr.encode(request), "mqtt", peer, 1.0)
    engine.receive_frame(takedown_frame(bundle.work_id), "mqtt", peer, 1.0)
    assert store.is_taken_down(bundle.work_id)


class QueueStuckInterface:
    """Like the meshtastic library after its own TCP reconnect: sendData waits for TX-queue
    space (``queueStatus.free``) that the radio never reports again."""

    def __init__(self):
        from tests.transport.test_meshtastic_adapter import StandInInterface

        self._inner = StandInInterface()
        self.localNode = self._inner.localNode
        self.getMyNodeInfo = self._inner.getMyNodeInfo
        self.close = self._inner.close
        self.queueStatus = SimpleNamespace(free=0)
        self.sends_finished = threading.Event()

    def __getattr__(self, name):  # everything else (channels, node info) as the stand-in has it
        return getattr(self._inner, name)

    def sendData(self, data, **kwargs):
        while self.queueStatus is not None and self.queueStatus.free <= 0:
            time.sleep(0.01)
        self.sends_finished.set()
        return SimpleNamespace(id=1)


async def test_a_send_that_never_returns_reopens_the_radio():
    # Was: the pump awaited sendData forever; the daemon stayed "connected" and sent nothing
    # (the 50-drop radio run stalled after 4 drops).
    from node.transport.meshtastic_radio import MeshtasticTransport, RadioSettings
    from tests.transport.hosts import RecordingHost
    from tests.transport.test_meshtastic_adapter import StandInInterface, wait_until

    made = []

    def factory(settings):
        iface = QueueStuckInterface() if not made else StandInInterface()
        made.append(iface)
        return iface

    settings = RadioSettings("tcp:127.0.0.1:4403", backoff_initial_s=0.05, backoff_max_s=0.1,
                             close_timeout_s=0.5, send_timeout_s=0.3)
    transport = MeshtasticTransport("radio", settings, factory)
    host = RecordingHost()
    host.queue("radio", b"\x13first")
    task = asyncio.create_task(transport.run(host))
    try:
        await wait_until(lambda: len(made) == 2 and transport.state.connected)
        assert "no answer" in (transport.state.last_error or "")
        host.queue("radio", b"\x13second")
        transport.wake()
        await wait_until(lambda: made[1].sent)
        assert made[1].sent[0][0] == b"\x13second"
        assert made[0].sends_finished.wait(2)  # the stuck library thread was let go
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
