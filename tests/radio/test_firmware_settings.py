"""want_ack with hop limit 0, factory resets, reboots, the 500 kHz fallback, ham mode and device metrics."""

from __future__ import annotations

import threading
import time

import yaml
from meshtastic.protobuf import channel_pb2, config_pb2, portnums_pb2
from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from .conftest import num_of, radios, run_meshtastic, wait_for_reboot, wait_until

LoRaConfig = config_pb2.Config.LoRaConfig


def test_want_ack_with_hop_limit_0_gets_the_configured_hop_limit_and_an_implicit_ack(line_scenario):
    with radios(line_scenario) as net:
        acks: list[dict] = []
        acked = threading.Event()

        def on_ack(packet: dict) -> None:
            acks.append(packet)
            acked.set()

        sender = TCPInterface(hostname="127.0.0.1", portNumber=net.port_of("a"), timeout=20)
        try:
            sent = sender.sendData(b"to the whole mesh", portNum=portnums_pb2.PortNum.TEXT_MESSAGE_APP, wantAck=True,
                                   hopLimit=0, onResponse=on_ack, onResponseAckPermitted=True)
            assert acked.wait(15), "no implicit ACK"
        finally:
            sender.close()
        a = num_of(net, "a")
        wait_until(lambda: net.call(lambda n: n.radio("c").counters.delivered) == 1, what="c to get the text")
        at_c = net.call(lambda n: n.radio("c").counters.delivered)
        frames = net.call(lambda n: [(f.packet.hop_start, f.packet.hop_limit, f.packet.want_ack)
                                     for f in n.air.frames if getattr(f.packet, "from") == a])
    assert acks[0]["decoded"]["routing"]["errorReason"] == "NONE" and acks[0]["decoded"]["requestId"] == sent.id
    assert at_c == 1  # two hops away: the packet was flooded, not kept to one hop
    assert frames[0] == (3, 3, False)  # hop limit 3 from the config; want_ack is not sent on air for a broadcast
    assert (3, 2, False) in frames  # b's relay


def test_factory_reset_leaves_the_region_unset_and_the_radio_silent(pair_scenario):
    with radios(pair_scenario) as net:
        beta = num_of(net, "beta")
        net.call(lambda n: n.radio("beta").announce())
        wait_until(lambda: net.call(lambda n: beta in n.radio("alpha").state.nodes), what="beta's NodeInfo")
        key_before = net.call(lambda n: n.radio("alpha").state.config.security.private_key)
        result = run_meshtastic(net.port_of("alpha"), "--factory-reset")
        assert result.returncode == 0, result.stderr
        wait_for_reboot(net, "alpha")
        info = run_meshtastic(net.port_of("alpha"), "--info")
        assert info.returncode == 0, info.stderr
        assert f"Owner: Meshtastic {num_of(net, 'alpha') & 0xFFFF:04x}" in info.stdout
        assert '"region": "UNSET"' in info.stdout
        assert net.call(lambda n: n.radio("alpha").state.nodes) == {}
        transmissions = net.call(lambda n: n.air.counters.transmissions)
        text = run_meshtastic(net.port_of("alpha"), "--sendtext", "anyone?")
        time.sleep(1.0)
        assert net.call(lambda n: n.air.counters.transmissions) == transmissions  # nothing went on the air
        assert text.returncode == 0
        # The config reset keeps the private key: setting the region brings the same public key back.
        assert run_meshtastic(net.port_of("alpha"), "--set", "lora.region", "EU_868").returncode == 0
        wait_for_reboot(net, "alpha", 2)
        state = net.call(lambda n: n.radio("alpha").state)
    assert state.config.security.private_key == key_before
    assert state.owner.public_key == state.config.security.public_key and len(state.owner.public_key) == 32
    assert state.lora.ignore_mqtt  # set with the first region, as firmware does for duty-cycled regions


def test_factory_reset_device_also_erases_the_private_key(pair_scenario):
    with radios(pair_scenario) as net:
        key_before = net.call(lambda n: n.radio("alpha").state.config.security.private_key)
        assert run_meshtastic(net.port_of("alpha"), "--factory-reset-device").returncode == 0
        wait_for_reboot(net, "alpha")
        assert net.call(lambda n: n.radio("alpha").state.config.security.private_key) == b""
        assert run_meshtastic(net.port_of("alpha"), "--set", "lora.region", "EU_868").returncode == 0
        wait_for_reboot(net, "alpha", 2)
        key_after = net.call(lambda n: n.radio("alpha").state.config.security.private_key)
    assert len(key_after) == 32 and key_after != key_before


def test_a_lora_change_reboots_the_radio_and_the_library_reconnects(pair_scenario):
    with radios(pair_scenario) as net:
        interface = TCPInterface(hostname="127.0.0.1", portNumber=net.port_of("alpha"), timeout=20)
        try:
            interface.localNode.localConfig.lora.hop_limit = 5  # not a radio parameter: no reboot
            interface.localNode.writeConfig("lora")
            time.sleep(1.0)
            assert net.call(lambda n: n.radio("alpha").counters.boots) == 0
            interface.localNode.localConfig.lora.modem_preset = LoRaConfig.ModemPreset.LONG_FAST
            interface.localNode.writeConfig("lora")
            wait_for_reboot(net, "alpha")
            wait_until(lambda: net.call(lambda n: n.radio("alpha").client is not None), what="the reconnect")
        finally:
            interface.close()


def test_short_turbo_in_eu_868_falls_back_to_long_fast_with_a_notification(pair_scenario):
    notices: list[str] = []
    noticed = threading.Event()

    def on_notice(notification=None, interface=None):
        notices.append(notification.message)
        noticed.set()

    with radios(pair_scenario) as net:
        interface = TCPInterface(hostname="127.0.0.1", portNumber=net.port_of("alpha"), timeout=20)
        pub.subscribe(on_notice, "meshtastic.clientNotification")
        try:
            interface.localNode.localConfig.lora.modem_preset = LoRaConfig.ModemPreset.SHORT_TURBO
            interface.localNode.writeConfig("lora")
            assert noticed.wait(10), "no client notification"
        finally:
            pub.unsubscribe(on_notice, "meshtastic.clientNotification")
            interface.close()
        lora = net.call(lambda n: n.radio("alpha").state.lora)
    assert notices == ["EU_868 region too narrow for 500kHz preset (SHORT_TURBO). Falling back to LongFast."]
    assert lora.modem_preset == LoRaConfig.ModemPreset.LONG_FAST and lora.use_preset


def test_ham_mode_removes_the_keys_of_every_channel(pair_scenario):
    with radios(pair_scenario) as net:
        port = net.port_of("alpha")
        assert run_meshtastic(port, "--ch-add", "art").returncode == 0
        channels = net.call(lambda n: list(n.radio("alpha").state.channels))
        assert channels[1].role == channel_pb2.Channel.Role.SECONDARY and len(channels[1].settings.psk) > 0
        result = run_meshtastic(port, "--set-ham", "PD0ART")
        assert result.returncode == 0, result.stderr
        wait_for_reboot(net, "alpha")
        state = net.call(lambda n: n.radio("alpha").state)
        exported = yaml.safe_load(run_meshtastic(port, "--export-config").stdout)
    assert state.owner.is_licensed and state.owner.long_name == "PD0ART"
    assert [c.settings.psk for c in state.channels[:2]] == [b"", b""]
    assert state.owner.public_key == b""  # licensed operators send no public key
    assert exported["owner"] == "PD0ART"


def test_device_metrics_in_the_radios_own_node_entry(pair_scenario):
    with radios(pair_scenario, announce=True) as net:  # announce: the DeviceTelemetry module runs
        # Let the boot broadcasts (NodeInfo, position) go out first, so only our texts add airtime.
        wait_until(lambda: net.call(lambda n: n.radio("alpha").modules.last_position_sent is not None), what="boot")
        before = net.call(lambda n: n.radio("alpha").air_util_tx())
        run_meshtastic(net.port_of("alpha"), "--sendtext", "some airtime")
        wait_until(lambda: net.call(lambda n: n.radio("alpha").air_util_tx()) > before, what="the text on the air")
        interface = TCPInterface(hostname="127.0.0.1", portNumber=net.port_of("alpha"), timeout=20)
        try:
            at_handshake = dict(interface.getMyNodeInfo()["deviceMetrics"])
            interface.sendText("more airtime")
            wait_until(lambda: net.call(lambda n: n.radio("alpha").air_util_tx()) > at_handshake["airUtilTx"],
                       what="the second text on the air")
            time.sleep(1.5)  # the one-minute (here shortened) telemetry to the client
            updated = dict(interface.getMyNodeInfo()["deviceMetrics"])
        finally:
            interface.close()
        radio_tx = net.call(lambda n: n.radio("alpha").air_util_tx())
    assert at_handshake["channelUtilization"] > 0 and at_handshake["airUtilTx"] > 0, at_handshake
    assert at_handshake["airUtilTx"] < updated["airUtilTx"] <= radio_tx + 1e-6
    assert updated["batteryLevel"] == 101
