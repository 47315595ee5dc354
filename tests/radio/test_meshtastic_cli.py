"""The real ``meshtastic`` CLI and library against virtual radios."""

from __future__ import annotations

import threading
import time

import yaml
from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from firmware_config.profile import load_profile, render_yaml
from simulator.virtual_radio.state import node_id

from .conftest import run_meshtastic


def test_info_shows_owner_region_and_channel(pair_radios):
    result = run_meshtastic(pair_radios.port_of("alpha"), "--info")
    assert result.returncode == 0, result.stderr
    alpha_num = pair_radios.call(lambda net: net.radio("alpha").node_num)
    assert "Owner: alpha" in result.stdout
    assert f'"myNodeNum": {alpha_num}' in result.stdout
    assert '"region": "EU_868"' in result.stdout
    assert "PRIMARY" in result.stdout


def test_nodes_lists_the_neighbour_after_its_nodeinfo_was_heard(pair_radios):
    pair_radios.call(lambda net: net.radio("beta").announce())
    beta_num = pair_radios.call(lambda net: net.radio("beta").node_num)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if pair_radios.call(lambda net: beta_num in net.radio("alpha").state.nodes):
            break
        time.sleep(0.1)
    result = run_meshtastic(pair_radios.port_of("alpha"), "--nodes")
    assert result.returncode == 0, result.stderr
    assert "beta" in result.stdout and node_id(beta_num) in result.stdout
    assert "│ 6 dB" in result.stdout  # the link table's 6.5 dB SNR, as the CLI rounds it


def test_sendtext_reaches_the_other_radios_client(pair_radios):
    received: list[dict] = []
    arrived = threading.Event()

    def on_text(packet=None, interface=None):  # optional: pubsub topics are process-global
        received.append(packet)
        arrived.set()

    listener = TCPInterface(hostname="127.0.0.1", portNumber=pair_radios.port_of("beta"), timeout=20)
    pub.subscribe(on_text, "meshtastic.receive.text")
    try:
        result = run_meshtastic(pair_radios.port_of("alpha"), "--sendtext", "hello from alpha")
        assert result.returncode == 0, result.stderr
        assert arrived.wait(15), "beta's client never got the text"
    finally:
        pub.unsubscribe(on_text, "meshtastic.receive.text")
        listener.close()
    packet = received[0]
    alpha_num = pair_radios.call(lambda net: net.radio("alpha").node_num)
    assert packet["decoded"]["text"] == "hello from alpha"
    assert packet["from"] == alpha_num
    assert packet["toId"] == "^all"
    assert packet["rxSnr"] == 6.5 and packet["rxRssi"] == -95
    assert packet["hopStart"] == 3 and packet["hopLimit"] == 3  # heard directly, not relayed


def test_export_config_answers_every_request(pair_radios):
    result = run_meshtastic(pair_radios.port_of("beta"), "--export-config")
    assert result.returncode == 0, result.stderr
    exported = yaml.safe_load(result.stdout)
    assert exported["owner"] == "beta"
    assert exported["config"]["lora"]["region"] == "EU_868"
    assert exported["config"]["lora"]["modemPreset"] == "MEDIUM_FAST"
    assert exported["channel_url"].startswith("https://meshtastic.org/e/#")


def test_configure_with_a_venue_profile_then_export_shows_it(pair_radios, tmp_path):
    port = pair_radios.port_of("alpha")
    configure_file = tmp_path / "nemo.yaml"
    key = bytes(range(32))
    configure_file.write_text(render_yaml(load_profile("nemo"), key))
    result = run_meshtastic(port, "--configure", str(configure_file))
    assert result.returncode == 0, result.stderr
    exported = yaml.safe_load(run_meshtastic(port, "--export-config").stdout)
    assert exported["owner"] == "Mesh Art NEMO"
    assert exported["owner_short"] == "NEMO"
    lora = exported["config"]["lora"]
    assert (lora["region"], lora["modemPreset"], lora["hopLimit"]) == ("EU_868", "MEDIUM_FAST", 3)
    assert exported["config"]["device"]["rebroadcastMode"] == "LOCAL_ONLY"
    assert exported["location"] == {"lat": 52.37406, "lon": 4.91237, "alt": 25}
    assert "enabled" not in exported["module_config"].get("mqtt", {})  # false is the default: not exported
    assert exported["module_config"]["telemetry"]["deviceUpdateInterval"] == 3600
    channel = pair_radios.call(lambda net: net.radio("alpha").state.channels[0])
    assert channel.settings.name == "MeshArt" and channel.settings.psk == key
