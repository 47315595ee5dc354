"""Firmware 2.7 receive filters, driven by the real meshtastic CLI and library."""

from __future__ import annotations

import threading
import time

import yaml
from meshtastic.protobuf import portnums_pb2
from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from simulator.virtual_radio.state import node_id

from .conftest import num_of, radios, run_meshtastic, wait_for_reboot, wait_until

PRIVATE_APP = portnums_pb2.PortNum.PRIVATE_APP


class Listener:
    """Everything one radio's library client receives (pubsub topics are process-global)."""

    def __init__(self, port: int) -> None:
        self.packets: list[dict] = []
        self.arrived = threading.Event()
        self.interface = TCPInterface(hostname="127.0.0.1", portNumber=port, timeout=20)
        self.num = self.interface.myInfo.my_node_num
        pub.subscribe(self._on_receive, "meshtastic.receive")

    def _on_receive(self, packet=None, interface=None):
        if interface is self.interface:
            self.packets.append(packet)
            self.arrived.set()

    def ports(self, sender: int) -> list[str]:
        return [str(p["decoded"]["portnum"]) for p in self.packets if p.get("from") == sender]

    def close(self) -> None:
        pub.unsubscribe(self._on_receive, "meshtastic.receive")
        self.interface.close()


def send_art_and_text(port: int) -> None:
    """PRIVATE_APP, a port in 258-511 and a text, each with hop limit 0, then a moment for them to land."""
    sender = TCPInterface(hostname="127.0.0.1", portNumber=port, timeout=20)
    try:
        sender.sendData(b"art chunk", portNum=PRIVATE_APP, hopLimit=0)
        sender.sendData(b"other private port", portNum=300, hopLimit=0)
        sender.sendText("a visitor's text", hopLimit=0)
        time.sleep(2.0)
    finally:
        sender.close()


def test_role_router_installs_core_portnums_only_and_goes_deaf_to_art(pair_scenario):
    with radios(pair_scenario) as net:
        result = run_meshtastic(net.port_of("beta"), "--set", "device.role", "ROUTER")
        assert result.returncode == 0, result.stderr
        wait_for_reboot(net, "beta")  # a role change reboots the radio
        exported = yaml.safe_load(run_meshtastic(net.port_of("beta"), "--export-config").stdout)
        assert exported["config"]["device"]["role"] == "ROUTER"
        assert exported["config"]["device"]["rebroadcastMode"] == "CORE_PORTNUMS_ONLY"
        alpha = num_of(net, "alpha")
        listener = Listener(net.port_of("beta"))
        try:
            send_art_and_text(net.port_of("alpha"))
            wait_until(lambda: "TEXT_MESSAGE_APP" in listener.ports(alpha), what="the text")
        finally:
            listener.close()
        skipped = net.call(lambda n: n.radio("beta").counters.skipped)
    assert listener.ports(alpha) == ["TEXT_MESSAGE_APP"]
    assert skipped == 2  # PRIVATE_APP and port 300: heard, decoded, dropped


def test_core_portnums_only_set_directly_skips_private_ports(pair_scenario):
    with radios(pair_scenario) as net:
        result = run_meshtastic(net.port_of("beta"), "--set", "device.rebroadcast_mode", "CORE_PORTNUMS_ONLY")
        assert result.returncode == 0, result.stderr
        wait_for_reboot(net, "beta")
        alpha = num_of(net, "alpha")
        listener = Listener(net.port_of("beta"))
        try:
            send_art_and_text(net.port_of("alpha"))
            wait_until(lambda: "TEXT_MESSAGE_APP" in listener.ports(alpha), what="the text")
        finally:
            listener.close()
    assert listener.ports(alpha) == ["TEXT_MESSAGE_APP"]


def test_known_only_refuses_an_unknown_sender_even_its_nodeinfo(pair_scenario):
    with radios(pair_scenario) as net:
        assert run_meshtastic(net.port_of("beta"), "--set", "device.rebroadcast_mode", "KNOWN_ONLY").returncode == 0
        wait_for_reboot(net, "beta")
        alpha = num_of(net, "alpha")
        net.call(lambda n: n.radio("alpha").announce())
        listener = Listener(net.port_of("beta"))
        try:
            send_art_and_text(net.port_of("alpha"))
        finally:
            listener.close()
        known = net.call(lambda n: alpha in n.radio("beta").state.nodes)
        received = net.call(lambda n: n.radio("beta").counters.received)
    assert listener.ports(alpha) == []
    assert received == 4  # heard: the NodeInfo, the art, the other port and the text
    assert not known  # KNOWN_ONLY is checked before the sender is learnt


def test_known_only_accepts_a_node_learnt_before(pair_scenario):
    with radios(pair_scenario) as net:
        alpha = num_of(net, "alpha")
        net.call(lambda n: n.radio("alpha").announce())
        wait_until(lambda: net.call(lambda n: n.radio("beta").state.nodes.get(alpha)) is not None, what="NodeInfo")
        assert run_meshtastic(net.port_of("beta"), "--set", "device.rebroadcast_mode", "KNOWN_ONLY").returncode == 0
        wait_for_reboot(net, "beta")
        listener = Listener(net.port_of("beta"))
        try:
            send_art_and_text(net.port_of("alpha"))
        finally:
            listener.close()
    assert listener.ports(alpha) == ["PRIVATE_APP", "300", "TEXT_MESSAGE_APP"]


def test_an_ignored_node_is_not_heard(pair_scenario):
    with radios(pair_scenario) as net:
        alpha = num_of(net, "alpha")
        net.call(lambda n: n.radio("alpha").announce())
        wait_until(lambda: net.call(lambda n: n.radio("beta").state.nodes.get(alpha)) is not None, what="NodeInfo")
        result = run_meshtastic(net.port_of("beta"), "--set-ignored-node", node_id(alpha))
        assert result.returncode == 0, result.stderr
        listener = Listener(net.port_of("beta"))
        try:
            send_art_and_text(net.port_of("alpha"))
        finally:
            listener.close()
        ignored = net.call(lambda n: n.radio("beta").counters.ignored)
    assert listener.ports(alpha) == []
    assert ignored == 3


def test_lora_ignore_incoming_drops_the_node(pair_scenario):
    with radios(pair_scenario) as net:
        alpha = num_of(net, "alpha")
        configurer = TCPInterface(hostname="127.0.0.1", portNumber=net.port_of("beta"), timeout=20)
        try:
            configurer.localNode.localConfig.lora.ignore_incoming.append(alpha)
            configurer.localNode.writeConfig("lora")
            time.sleep(0.5)
        finally:
            configurer.close()
        listener = Listener(net.port_of("beta"))
        try:
            send_art_and_text(net.port_of("alpha"))
        finally:
            listener.close()
        ignored = net.call(lambda n: n.radio("beta").counters.ignored)
        boots = net.call(lambda n: n.radio("beta").counters.boots)
    assert listener.ports(alpha) == []
    assert ignored == 3
    assert boots == 0  # ignore_incoming is not a radio parameter: no reboot
