"""MQTT transport against a real Mosquitto broker."""

import asyncio
import contextlib

import pytest

from node.protocol import frames
from node.transport.mqtt import MqttSettings, MqttTransport, TopicScheme, retained_slot
from tests.transport.hosts import RecordingHost


def settings(broker, **kw):
    base = dict(host="127.0.0.1", port=broker.port, exhibition="expo", backoff_initial_s=0.1, backoff_max_s=0.3,
                keepalive=5, max_frames_per_s=200.0, max_bytes_per_s=50_000.0)
    base.update(kw)
    return MqttSettings(**base)


@contextlib.asynccontextmanager
async def running(*pairs):
    tasks = [asyncio.create_task(t.run(h)) for t, h in pairs]
    try:
        for t, _ in pairs:
            await wait_until(lambda t=t: t.state.connected)
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def wait_until(condition, timeout=10.0):
    async def poll():
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def advert(page: int, pages: int) -> bytes:
    return frames.encode(frames.Advert(b"dgst", page, pages, (frames.AdvertEntry(b"abcd", 3),)))


def test_topic_scheme_parses_only_its_own_topics():
    scheme = TopicScheme("meshart", "expo")
    assert scheme.frame("n1") == "meshart/expo/v1/frame/n1"
    assert scheme.sender_of("meshart/expo/v1/frame/n1") == ("frame", "n1")
    assert scheme.sender_of("meshart/expo/v1/inventory/n1/0") == ("inventory", "n1")
    assert scheme.sender_of("meshart/other/v1/frame/n1") is None
    assert scheme.sender_of("meshart/expo/v1/inventory/n1/x") is None
    assert scheme.sender_of("meshart/expo/v1/frame/n1/extra") is None
    with pytest.raises(ValueError):
        TopicScheme("meshart", "a/b")


def test_retained_slot_reads_the_kind_byte():
    assert retained_slot(advert(2, 3)) == "inventory/2"
    assert retained_slot(bytes([frames.VERSION << 4 | frames.KIND_DATA]) + b"x" * 10) is None
    assert retained_slot(bytes([(frames.VERSION + 1) << 4 | frames.KIND_ADVERT]) + b"x" * 10) is None


async def test_frames_reach_other_nodes_and_not_the_sender(broker):
    a, b = MqttTransport("mqtt", settings(broker), "nodea"), MqttTransport("mqtt", settings(broker), "nodeb")
    host_a, host_b = RecordingHost(), RecordingHost()
    async with running((a, host_a), (b, host_b)):
        host_a.queue("mqtt", b"\x13hello", b"\x13world")
        a.wake()
        await host_b.wait_for(2)
        await asyncio.sleep(0.2)
    assert [(d, rx.sender) for _, d, rx in host_b.received] == [(b"\x13hello", "nodea"), (b"\x13world", "nodea")]
    assert host_a.received == []  # its own frames are ignored
    assert a.state.frames_out == 2 and b.state.frames_in == 2


async def test_retained_inventory_reaches_a_late_node(broker):
    a = MqttTransport("mqtt", settings(broker), "nodea")
    host_a = RecordingHost()
    async with running((a, host_a)):
        host_a.queue("mqtt", advert(0, 2), advert(1, 2))
        a.wake()
        await wait_until(lambda: a.state.frames_out == 2)
        await asyncio.sleep(0.2)
        late, host_late = MqttTransport("mqtt", settings(broker), "late"), RecordingHost()
        async with running((late, host_late)):
            await host_late.wait_for(2)
            got = sorted(d for _, d, _ in host_late.received)
            assert got == sorted([advert(0, 2), advert(1, 2)])
            # The inventory shrinks to one page: page 1's retained slot is cleared.
            host_a.queue("mqtt", advert(0, 1))
            a.wake()
            await host_late.wait_for(3)
            await asyncio.sleep(0.3)  # the clearing of page 1 follows the new page 0
    latest, host_latest = MqttTransport("mqtt", settings(broker), "latest"), RecordingHost()
    async with running((latest, host_latest)):
        await host_latest.wait_for(1)
        await asyncio.sleep(0.3)
    assert [d for _, d, _ in host_latest.received] == [advert(0, 1)]


async def test_garbage_is_dropped_and_counted(broker):
    b, host_b = MqttTransport("mqtt", settings(broker), "nodeb"), RecordingHost()
    async with running((b, host_b)):
        await asyncio.to_thread(broker.publish_raw, "meshart/expo/v1/frame/evil", b"\x13" * 300)
        await asyncio.to_thread(broker.publish_raw, "meshart/expo/v1/frame/evil", b"")
        await asyncio.to_thread(broker.publish_raw, "meshart/expo/v1/frame/evil", b"\x13ok")
        await host_b.wait_for(1)
    assert [d for _, d, _ in host_b.received] == [b"\x13ok"]
    assert b.state.drops["oversize"] == 1 and b.state.drops["empty"] == 1


async def test_inbound_rate_cap_drops_a_flood(broker):
    b, host_b = MqttTransport("mqtt", settings(broker, max_inbound_frames_per_s=1.0), "nodeb"), RecordingHost()
    a, host_a = MqttTransport("mqtt", settings(broker), "nodea"), RecordingHost()
    async with running((a, host_a), (b, host_b)):
        host_a.queue("mqtt", *[bytes([0x13, i]) for i in range(20)])
        a.wake()
        await wait_until(lambda: b.state.frames_in + b.state.drops["rate-limit"] == 20)
    assert b.state.frames_in < 5 and b.state.drops["rate-limit"] > 15


async def test_outbound_cap_keeps_frames_queued_in_the_engine(broker):
    clock = [0.0]
    a = MqttTransport("mqtt", settings(broker, max_frames_per_s=1.0), "nodea", clock=lambda: clock[0])
    host_a = RecordingHost()
    async with running((a, host_a)):
        host_a.queue("mqtt", *[bytes([0x13, i]) for i in range(5)])
        a.wake()
        await asyncio.sleep(0.3)
        assert a.state.frames_out == 1 and len(host_a.outbox["mqtt"]) == 4  # the rest waits, not dropped
        clock[0] += 2.0
        await wait_until(lambda: a.state.frames_out == 2)


async def test_reconnects_after_the_broker_restarts(broker):
    a, host_a = MqttTransport("mqtt", settings(broker), "nodea"), RecordingHost()
    b, host_b = MqttTransport("mqtt", settings(broker), "nodeb"), RecordingHost()
    async with running((a, host_a), (b, host_b)):
        broker.stop()
        await wait_until(lambda: not a.state.connected and not b.state.connected)
        host_a.queue("mqtt", b"\x13after")  # queued while the broker is away
        a.wake()
        await asyncio.sleep(0.3)
        assert len(host_a.outbox["mqtt"]) == 1
        broker.start()
        await wait_until(lambda: a.state.connected and b.state.connected)
        await wait_until(lambda: a.state.frames_out == 1)  # the held frame went out after reconnecting
        # b may have subscribed just after that QoS 0 publish (the engine would retry); new traffic flows:
        host_a.queue("mqtt", b"\x13later")
        a.wake()
        await wait_until(lambda: b"\x13later" in [d for _, d, _ in host_b.received])
    assert set(d for _, d, _ in host_b.received) <= {b"\x13after", b"\x13later"}
    assert a.state.reconnects == 1 and b.state.reconnects == 1
    assert a.state.last_error
