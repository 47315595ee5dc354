"""What the daemon's Meshtastic transport relies on: PRIVATE_APP with hop limit 0 via the library."""

from __future__ import annotations

import threading
import time

from meshtastic.protobuf import portnums_pb2
from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from simulator.virtual_radio import NetworkOptions, load_scenario
from simulator.virtual_radio.background import BackgroundRadios

from .conftest import write_scenario


def test_private_app_hop_limit_zero_reaches_the_neighbour_not_two_hops(tmp_path):
    scenario = write_scenario(tmp_path / "line.json", ["a", "b", "c"], [("a", "b"), ("b", "c")])
    got: dict[int, list[dict]] = {}
    arrived = threading.Event()

    # optional parameters: pubsub topics are process-global, and another listener may have
    # defined this topic with optional arguments first (the daemon transport does)
    def on_private(packet=None, interface=None):
        got.setdefault(interface.myInfo.my_node_num, []).append(packet)
        arrived.set()

    options = NetworkOptions(base_port=0, announce=False)
    with BackgroundRadios(load_scenario(str(scenario)), options) as radios:
        nums = {name: radios.call(lambda net, n=name: net.radio(n).node_num) for name in "abc"}
        interfaces = {name: TCPInterface(hostname="127.0.0.1", portNumber=radios.port_of(name), timeout=20)
                      for name in "abc"}
        pub.subscribe(on_private, "meshtastic.receive.data.PRIVATE_APP")
        try:
            sent = interfaces["a"].sendData(b"\x01chunk" * 30, portNum=portnums_pb2.PortNum.PRIVATE_APP,
                                            hopLimit=0)
            assert arrived.wait(10), "b never received the PRIVATE_APP packet"
            time.sleep(1.0)  # time enough for a relay to reach c, if one (wrongly) happened
        finally:
            pub.unsubscribe(on_private, "meshtastic.receive.data.PRIVATE_APP")
            for interface in interfaces.values():
                interface.close()
        air = radios.call(lambda net: net.air.counters)
    [at_b] = got[nums["b"]]
    assert at_b["decoded"]["payload"] == b"\x01chunk" * 30
    assert at_b["from"] == nums["a"] and at_b["id"] == sent.id
    assert at_b.get("hopLimit", 0) == 0
    assert nums["c"] not in got and nums["a"] not in got
    assert air.transmissions == 1
