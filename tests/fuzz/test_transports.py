"""Fuzzing the transports' inbound paths: MQTT messages (topic + payload) and Meshtastic packet
dicts as the library publishes them on pubsub; whatever they accept goes into a real engine."""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st
from meshtastic.protobuf import localonly_pb2
from pubsub import pub

from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.transport.meshtastic_radio import MeshtasticTransport, RadioSettings
from node.transport.mqtt import NODE_ID_RE, MqttSettings, MqttTransport
from tests.fuzz.corpus import load
from tests.fuzz.mutate import Mutator, odd_value
from tests.fuzz.targets import EngineTarget

BASE = "meshart/fuzz/v1"


def mqtt_transport() -> MqttTransport:
    ticks = itertools.count()
    return MqttTransport("mqtt", MqttSettings(host="broker.invalid", exhibition="fuzz"), "me",
                         clock=lambda: next(ticks) * 0.05)


topics = st.one_of(
    st.text(max_size=80),
    st.sampled_from([f"{BASE}/frame/", f"{BASE}/inventory/", f"{BASE}/beacon/", f"{BASE}/online/",
                     "meshart/x/v1/frame/"])
    .flatmap(lambda prefix: st.text(max_size=30).map(lambda rest: prefix + rest)),
    st.sampled_from([f"{BASE}/frame/peer", f"{BASE}/inventory/peer/0", f"{BASE}/beacon/peer", f"{BASE}/frame/me"]),
)
payloads = st.one_of(st.binary(max_size=300), st.sampled_from(load("frames")), st.none(), st.integers(),
                     st.text(max_size=5), st.binary(max_size=300).map(bytearray))


@settings(max_examples=800, deadline=None)
@given(st.lists(st.tuples(topics, payloads), min_size=1, max_size=8))
def test_mqtt_messages_are_dropped_cleanly_or_reach_the_engine_intact(messages):
    transport = mqtt_transport()
    engine = EngineTarget(seed=5)
    for topic, payload in messages:
        accepted = transport.accept(topic, payload)
        if accepted is None:
            continue
        data, sender = accepted
        assert isinstance(data, bytes) and 0 < len(data) <= fr.MAX_FRAME
        assert NODE_ID_RE.match(sender) and sender != "me"
        assert topic.startswith(BASE + "/")
        engine.engine.receive_frame(data, "mqtt", RxInfo(sender=sender), 1.0)
    assert sum(transport.state.drops.values()) <= len(messages)


def test_mqtt_mutated_corpus_frames_through_the_transport_into_the_engine():
    transport = mqtt_transport()
    target = EngineTarget(seed=6)
    mutator = Mutator(random.Random(6), load("frames"), 260)
    delivered = 0
    for i, data in enumerate(mutator.stream(3000)):
        accepted = transport.accept(f"{BASE}/frame/peer{i % 9}", data)
        if accepted is not None:
            delivered += 1
            target.engine.receive_frame(accepted[0], "mqtt", RxInfo(sender=accepted[1]), float(i))
    assert transport.state.drops["oversize"] > 0 and delivered > 2000


# ---- Meshtastic: packet dicts on the real pubsub bus --------------------------------------------

class StandIn:
    """The few interface members the adapter touches."""

    def __init__(self) -> None:
        self.localNode = SimpleNamespace(localConfig=localonly_pb2.LocalConfig())

    def getMyNodeInfo(self):
        return {}

    def sendData(self, data, **kwargs):
        return SimpleNamespace(id=1)

    def close(self):
        pass


class EngineHost:
    """A LinkHost that feeds a real engine."""

    def __init__(self) -> None:
        self.target = EngineTarget(seed=7)
        self.delivered = 0

    def deliver(self, link, data, rx_info):
        assert isinstance(data, bytes) and 0 < len(data) <= fr.MAX_FRAME
        assert rx_info.sender is None or isinstance(rx_info.sender, str)
        assert rx_info.snr is None or isinstance(rx_info.snr, float)
        self.delivered += 1
        self.target.engine.receive_frame(data, "radio", rx_info, float(self.delivered))

    def poll(self, link):
        return None

    def refused(self, link, data):
        pass


def packet(rng: random.Random, frames: list[bytes], mutator: Mutator) -> object:
    """A packet dict shaped like the library's, with any field of any type, sometimes not a dict."""
    if rng.random() < 0.05:
        return odd_value(rng)
    payload = mutator.next_input() if rng.random() < 0.8 else odd_value(rng)
    decoded = {"payload": payload, "portnum": "PRIVATE_APP"} if rng.random() < 0.9 else odd_value(rng)
    out = {"decoded": decoded, "fromId": rng.choice(["!0000beef", None, "", odd_value(rng)]),
           "from": rng.choice([0xBEEF, -1, 2**40, True, odd_value(rng)]),
           "rxSnr": rng.choice([-7.25, 3, None, 10**400, odd_value(rng)]),
           "rxRssi": rng.choice([-110, None, odd_value(rng)])}
    for key in rng.sample(sorted(out), rng.randrange(3)):
        del out[key]
    return out


def routing_packet(rng: random.Random) -> object:
    routing = {"errorReason": rng.choice(["NONE", "DUTY_CYCLE_LIMIT", "TOO_LARGE", odd_value(rng)])}
    decoded = {"routing": rng.choice([routing, odd_value(rng)]), "requestId": rng.choice([1, 2, odd_value(rng)])}
    return rng.choice([{"decoded": decoded}, {"decoded": odd_value(rng)}, odd_value(rng)])


async def test_meshtastic_packet_dicts_from_pubsub_never_raise_on_the_loop():
    loop = asyncio.get_running_loop()
    errors: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    iface = StandIn()
    transport = MeshtasticTransport("radio", RadioSettings(device="tcp:127.0.0.1"), interface_factory=lambda s: iface)
    host = EngineHost()
    task = asyncio.create_task(transport.run(host))
    try:
        while not transport.state.connected:
            await asyncio.sleep(0.01)
        rng = random.Random(8)
        mutator = Mutator(rng, load("frames"), 260)
        for i in range(3000):
            pub.sendMessage(transport.topic, packet=packet(rng, load("frames"), mutator), interface=iface)
            if i % 3 == 0:
                pub.sendMessage("meshtastic.receive.routing", packet=routing_packet(rng), interface=iface)
            if i % 50 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [re.sub(r"\s+", " ", str(e.get("exception")))[:200] for e in errors] == []
    assert host.delivered > 1000
    assert transport.state.drops["empty"] > 0 and transport.state.drops["oversize"] > 0


async def test_packets_with_wrongly_typed_fields_are_delivered_with_clean_rx_info_or_ignored():
    """Regression (fuzz): a non-text ``fromId`` reached the engine as an unhashable sender and
    raised TypeError there; a non-dict ``routing`` or non-int ``requestId`` raised in the NAK handler."""
    loop = asyncio.get_running_loop()
    errors: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    iface = StandIn()
    transport = MeshtasticTransport("radio", RadioSettings(device="tcp:127.0.0.1"), interface_factory=lambda s: iface)
    host = EngineHost()
    received: list[RxInfo] = []
    deliver = host.deliver
    host.deliver = lambda link, data, rx: (received.append(rx), deliver(link, data, rx))  # type: ignore[method-assign]
    task = asyncio.create_task(transport.run(host))
    try:
        while not transport.state.connected:
            await asyncio.sleep(0.01)
        frame = load("frames")[0]
        for fields in ({"fromId": ["!x"], "from": True, "rxSnr": 10**400}, {"fromId": None, "from": 0xBEEF,
                                                                            "rxSnr": float("nan"), "rxRssi": "-90"}):
            pub.sendMessage(transport.topic, packet={"decoded": {"payload": frame}, **fields}, interface=iface)
        for bad in ({"decoded": {"routing": ["x"], "requestId": 1}}, {"decoded": {"routing": {}, "requestId": [1]}},
                    {"decoded": {"routing": {"errorReason": 5}, "requestId": 1}}):
            pub.sendMessage("meshtastic.receive.routing", packet=bad, interface=iface)
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert errors == []
    assert received == [RxInfo(None, None, None), RxInfo("!0000beef", None, None)]
