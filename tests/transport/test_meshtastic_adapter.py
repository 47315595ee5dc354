"""The Meshtastic adapter in isolation: a stand-in interface object, the library's real pubsub bus.

Packets are published from a foreign thread, as the library's publishing thread does, and must
arrive on the event loop thread with SNR, RSSI and the sender.
"""

import asyncio
import logging
import threading
from types import SimpleNamespace

import pytest
from meshtastic.protobuf import config_pb2, localonly_pb2
from pubsub import pub

from node.transport.meshtastic_radio import (
    BROADCAST_NUM,
    MeshtasticTransport,
    RadioSettings,
    config_warnings,
    parse_device,
    radio_lora_settings,
    receive_topic,
)
from tests.transport.hosts import RecordingHost

LORA = config_pb2.Config.LoRaConfig


class StandInInterface:
    """What the adapter uses of a meshtastic interface: sendData, close, localNode, getMyNodeInfo."""

    def __init__(self, region=LORA.RegionCode.EU_868, preset=LORA.ModemPreset.LONG_FAST, hang_on_close=False):
        local = localonly_pb2.LocalConfig()
        local.lora.region = region
        local.lora.modem_preset = preset
        local.lora.use_preset = True
        self.localNode = SimpleNamespace(localConfig=local)
        self.sent = []
        self.closed = threading.Event()
        self.hang_on_close = hang_on_close
        self._next_id = 1000

    def getMyNodeInfo(self):
        return {"user": {"id": "!0000abcd"}, "deviceMetrics": {"airUtilTx": 1.5}}

    def sendData(self, data, **kwargs):
        self._next_id += 1
        self.sent.append((data, kwargs))
        return SimpleNamespace(id=self._next_id)

    def close(self):
        if self.hang_on_close:
            threading.Event().wait(30)  # like the library's close() stuck joining its reader
        self.closed.set()


class Factory:
    """Hands out stand-in interfaces; optionally fails the first attempts."""

    def __init__(self, failures=0, **kwargs):
        self.failures = failures
        self.kwargs = kwargs
        self.made = []

    def __call__(self, settings):
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("no radio on the bus")
        iface = StandInInterface(**self.kwargs)
        self.made.append(iface)
        return iface


def settings(**kw):
    base = dict(device="tcp:127.0.0.1:4403", backoff_initial_s=0.05, backoff_max_s=0.1, close_timeout_s=0.5)
    base.update(kw)
    return RadioSettings(**base)


def publish_from_thread(topic, **message):
    thread = threading.Thread(target=pub.sendMessage, args=(topic,), kwargs=message)
    thread.start()
    thread.join()


async def wait_until(condition, timeout=10.0):
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture
async def radio():
    """A running transport over a stand-in interface, with its host and factory."""
    factory = Factory()
    transport = MeshtasticTransport("radio", settings(), factory)
    host = RecordingHost()
    task = asyncio.create_task(transport.run(host))
    await wait_until(lambda: transport.state.connected)
    yield transport, host, factory
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def packet(payload, sender=0x0BADCAFE, snr=7.25, rssi=-71):
    return {"decoded": {"payload": payload, "portnum": "PRIVATE_APP"}, "from": sender,
            "fromId": f"!{sender:08x}", "rxSnr": snr, "rxRssi": rssi}


def test_device_specs():
    assert parse_device("serial") == ("serial", None, None)
    assert parse_device("serial:/dev/ttyACM0") == ("serial", "/dev/ttyACM0", None)
    assert parse_device("tcp:10.0.0.5") == ("tcp", "10.0.0.5", None)
    assert parse_device("tcp:radio.local:4404") == ("tcp", "radio.local", 4404)
    assert parse_device("ble:AA:BB:CC:DD:EE:FF") == ("ble", "AA:BB:CC:DD:EE:FF", None)
    for bad in ("usb:/dev/x", "tcp:", "tcp:host:port"):
        with pytest.raises(ValueError):
            parse_device(bad)
    with pytest.raises(ValueError):
        RadioSettings(device="serial", port=255)


def test_receive_topic_follows_the_library_naming():
    assert receive_topic(256) == "meshtastic.receive.data.PRIVATE_APP"
    assert receive_topic(257) == "meshtastic.receive.data.ATAK_FORWARDER"
    assert receive_topic(300) == "meshtastic.receive.data.300"


async def test_a_packet_from_the_publishing_thread_reaches_the_loop(radio):
    transport, host, factory = radio
    loop_thread = threading.get_ident()
    threads = []
    original = host.deliver
    host.deliver = lambda *a: (threads.append(threading.get_ident()), original(*a))
    publish_from_thread(transport.topic, packet=packet(b"\x13frame"), interface=factory.made[0])
    await host.wait_for(1)
    link, data, rx = host.received[0]
    assert (link, data) == ("radio", b"\x13frame")
    assert (rx.sender, rx.snr, rx.rssi) == ("!0badcafe", 7.25, -71)
    assert threads == [loop_thread]


async def test_packets_of_another_interface_are_ignored(radio):
    transport, host, factory = radio
    publish_from_thread(transport.topic, packet=packet(b"\x13other"), interface=StandInInterface())
    publish_from_thread(transport.topic, packet=packet(b"\x13mine"), interface=factory.made[0])
    await host.wait_for(1)
    await asyncio.sleep(0.05)
    assert [d for _, d, _ in host.received] == [b"\x13mine"]


async def test_payload_limit_is_231_bytes_both_ways(radio):
    transport, host, factory = radio
    iface = factory.made[0]
    publish_from_thread(transport.topic, packet=packet(b"\x13" * 232), interface=iface)
    publish_from_thread(transport.topic, packet=packet(b"\x13" * 231), interface=iface)
    await host.wait_for(1)
    assert [len(d) for _, d, _ in host.received] == [231]
    assert transport.state.drops["oversize"] == 1
    host.queue("radio", b"\x13" * 232, b"\x13" * 231)
    transport.wake()
    await wait_until(lambda: len(iface.sent) == 1)
    assert transport.state.drops["oversize-out"] == 1
    data, kwargs = iface.sent[0]
    assert len(data) == 231
    assert kwargs == {"destinationId": BROADCAST_NUM, "portNum": 256, "wantAck": False, "hopLimit": 0}


async def test_duty_cycle_nak_is_handed_back_to_the_engine(radio):
    transport, host, factory = radio
    iface = factory.made[0]
    host.queue("radio", b"\x13one", b"\x13two")
    transport.wake()
    await wait_until(lambda: len(iface.sent) == 2)
    second_id = iface._next_id
    nak = {"decoded": {"requestId": second_id, "routing": {"errorReason": "DUTY_CYCLE_LIMIT"}}, "from": 1}
    publish_from_thread("meshtastic.receive.routing", packet=nak, interface=iface)
    await host.wait_for(1)
    assert host.refusals == [("radio", b"\x13two")]
    assert transport.state.details["duty_cycle_naks"] == 1
    # A NAK for a packet we do not know (or a plain ACK) changes nothing.
    ack = {"decoded": {"requestId": second_id - 1, "routing": {}}, "from": 1}
    publish_from_thread("meshtastic.receive.routing", packet=ack, interface=iface)
    await asyncio.sleep(0.05)
    assert len(host.refusals) == 1


async def test_a_lost_device_is_reopened_and_queued_frames_still_go_out(radio):
    transport, host, factory = radio
    first = factory.made[0]
    publish_from_thread("meshtastic.connection.lost", interface=first)
    await wait_until(lambda: len(factory.made) == 2 and transport.state.connected)
    assert first.closed.is_set()
    assert transport.state.reconnects == 1
    host.queue("radio", b"\x13after")
    transport.wake()
    await wait_until(lambda: factory.made[1].sent)
    assert factory.made[1].sent[0][0] == b"\x13after" and first.sent == []


async def test_connect_failures_are_retried_with_backoff():
    factory = Factory(failures=2)
    transport = MeshtasticTransport("radio", settings(), factory)
    task = asyncio.create_task(transport.run(RecordingHost()))
    try:
        await wait_until(lambda: transport.state.connected)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "no radio on the bus" in transport.state.last_error
    assert len(factory.made) == 1


async def test_a_hanging_close_is_abandoned_after_the_timeout(caplog):
    factory = Factory(hang_on_close=True)
    transport = MeshtasticTransport("radio", settings(close_timeout_s=0.2), factory)
    task = asyncio.create_task(transport.run(RecordingHost()))
    await wait_until(lambda: transport.state.connected)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    with caplog.at_level(logging.WARNING):
        await transport.aclose()  # the run task already closed it; closing twice is harmless
    assert not factory.made[0].closed.is_set()  # close() is still stuck in its thread
    assert "radio close timed out" in caplog.text


def test_radio_settings_and_mismatch_warnings():
    good = radio_lora_settings(StandInInterface())
    assert good["region"] == "EU_868" and good["preset"] == "LONG_FAST" and good["air_util_tx"] == 1.5
    assert config_warnings(good, "LONG_FAST") == []
    us = radio_lora_settings(StandInInterface(region=LORA.RegionCode.US, preset=LORA.ModemPreset.SHORT_FAST))
    warnings = config_warnings(us, "LONG_FAST")
    assert any("region is US" in w for w in warnings)
    assert any("preset is SHORT_FAST" in w for w in warnings)
