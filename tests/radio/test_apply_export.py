"""``mesh-art radio apply`` and ``export`` through the meshtastic library against a virtual radio."""

from __future__ import annotations

import base64

import yaml
from meshtastic.protobuf import config_pb2

from firmware_config.device import RadioAddress
from node.cli import main
from simulator.virtual_radio.admin import AdminOutcome

from .conftest import run_meshtastic


def test_apply_reads_back_without_differences_and_export_shows_the_profile(pair_radios, tmp_path, capsys):
    port = pair_radios.port_of("beta")
    key_file = tmp_path / "exhibition.key"
    key_file.write_text(base64.b64encode(bytes(range(32))).decode())  # apply never invents a key
    status = main(["radio", "apply", "waag", "--host", f"127.0.0.1:{port}", "--psk-file", str(key_file),
                   "--pause", "0.05"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "waag: radio matches the profile" in out
    assert key_file.exists()
    state = pair_radios.call(lambda net: net.radio("beta").state)
    assert state.owner.long_name == "Mesh Art Waag"
    assert state.config.lora.hop_limit == 3
    assert state.config.device.rebroadcast_mode == config_pb2.Config.DeviceConfig.RebroadcastMode.LOCAL_ONLY
    assert not state.module_config.mqtt.enabled
    assert abs(state.fixed_position.latitude_i - 523727500) <= 1

    out_file = tmp_path / "export.yaml"
    assert main(["radio", "export", "--host", f"127.0.0.1:{port}", "--out", str(out_file)]) == 0
    exported = yaml.safe_load(out_file.read_text())
    assert exported["owner"] == "Mesh Art Waag"
    assert exported["config"]["lora"]["modemPreset"] == "MEDIUM_FAST"
    # The real CLI sees the same radio.
    assert "Mesh Art Waag" in run_meshtastic(port, "--info").stdout


def test_apply_reports_settings_the_radio_did_not_take(pair_radios, tmp_path, capsys):
    port = pair_radios.port_of("alpha")

    def refuse_owner_changes(net):  # a radio whose firmware ignores set_owner
        net.radio("alpha").admin._do_set_owner = lambda message: AdminOutcome()

    pair_radios.call(refuse_owner_changes)
    (tmp_path / "k").write_text(base64.b64encode(bytes(32)).decode())
    status = main(["radio", "apply", "nemo", "--host", f"127.0.0.1:{port}", "--psk-file", str(tmp_path / "k"),
                   "--pause", "0.05"])
    out = capsys.readouterr().out
    assert status == 1
    assert "differs: owner: profile 'Mesh Art NEMO', radio 'alpha'" in out


def test_apply_refuses_a_profile_that_fails_the_check(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("mesh_art: {channel: {psk: AQ==}}\nconfig: {lora: {region: EU_868}}\n")
    assert main(["radio", "apply", str(bad), "--host", "127.0.0.1:1"]) == 1
    assert "not applied" in capsys.readouterr().err


def test_radio_address_parsing():
    assert RadioAddress.parse("10.0.0.5", None) == RadioAddress(host="10.0.0.5", port=4403)
    assert RadioAddress.parse("localhost:4410", None) == RadioAddress(host="localhost", port=4410)
    assert RadioAddress.parse(None, "/dev/ttyUSB0") == RadioAddress(serial="/dev/ttyUSB0")
