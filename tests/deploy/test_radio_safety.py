"""Radio safety on virtual radios: ``radio check`` and the daemon on every (re)connect.

The settings are changed with the real ``meshtastic`` CLI, as an operator would. Today's virtual
radio stores them but does not yet apply the firmware's receive filters (role ROUTER installing
CORE_PORTNUMS_ONLY, the skip of port 256 on receive): these tests check what the node *says*
about such a radio. Once the filters land, the same radios also stop delivering art frames.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from meshtastic.protobuf import mesh_pb2, portnums_pb2, telemetry_pb2

from node.artwork.keys import write_keypair
from node.cli import main
from tests.daemon.harness import REPO, Daemon, write_config
from tests.factories import curator_key
from tests.radio.conftest import run_meshtastic


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    pub = write_keypair(curator_key(), tmp_path / "curator.key")
    assert main(["kit", "new", "--curator", str(pub), "--out", str(tmp_path / "kit")]) == 0
    return tmp_path / "kit"


def apply(kit: Path, venue: str, port: int) -> None:
    assert main(["radio", "apply", venue, "--kit", str(kit), "--host", f"127.0.0.1:{port}", "--pause", "0.05"]) == 0


def meshtastic_set(port: int, *settings: str) -> None:
    """``meshtastic --set ...``; retried, since a running daemon may take the radio's one client slot."""
    args = [word for setting in settings for word in ("--set", *setting.split("=", 1))]
    for _ in range(5):
        result = run_meshtastic(port, *args)
        if result.returncode == 0 and "Set " in result.stdout:
            return
        time.sleep(1.0)
    raise AssertionError(f"meshtastic --set failed: {result.stdout}\n{result.stderr}")


def radio_daemon(tmp_path: Path, kit: Path, port: int) -> Daemon:
    data = tmp_path / "node"
    data.mkdir()
    extra = (f'[radio]\ndevice = "tcp:127.0.0.1:{port}"\npreset = "MEDIUM_FAST"\n')
    config = write_config(tmp_path / "node.toml", data, extra)
    config.write_text(config.read_text().replace("[http]", f'kit = "{kit}"\n[http]', 1))
    return Daemon(config, data)


def local_radio(daemon: Daemon) -> dict:
    with urllib.request.urlopen(daemon.url + "/api/status/local", timeout=5) as response:
        return json.loads(response.read())["links"]["radio"]


def wait_radio(daemon: Daemon, condition, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        link = local_radio(daemon)
        if condition(link):
            return link
        if time.monotonic() > deadline:
            raise AssertionError(f"radio never matched; last {json.dumps(link)[:1500]}\n{daemon.log()[-3000:]}")
        time.sleep(0.2)


def test_radio_check_names_what_would_make_a_radio_deaf(pair_radios, kit: Path, capsys) -> None:
    port = pair_radios.port_of("alpha")
    apply(kit, "waag", port)
    capsys.readouterr()
    assert main(["radio", "check", "--kit", str(kit), "--host", f"127.0.0.1:{port}"]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")

    meshtastic_set(port, "device.role=ROUTER")
    assert main(["radio", "check", "--kit", str(kit), "--host", f"127.0.0.1:{port}"]) == 1
    out = capsys.readouterr().out
    # On this radio (no role defaults yet) rebroadcast_mode is still LOCAL_ONLY: the check warns that
    # re-sending the role resets it; on firmware it is CORE_PORTNUMS_ONLY and reported as deaf below.
    # firmware 2.7 (installRoleDefaults): the ROUTER role brought CORE_PORTNUMS_ONLY, which drops port 256
    assert "role ROUTER" in out and "CORE_PORTNUMS_ONLY" in out and "drops PRIVATE_APP" in out

    meshtastic_set(port, "device.rebroadcast_mode=CORE_PORTNUMS_ONLY")
    meshtastic_set(port, "lora.modem_preset=LONG_FAST")

    def ignore_beta(net):
        net.radio("alpha").state.config.lora.ignore_incoming.append(net.radio("beta").node_num)

    pair_radios.call(ignore_beta)
    assert main(["radio", "check", "--kit", str(kit), "--host", f"127.0.0.1:{port}"]) == 1
    lines = capsys.readouterr().out.splitlines()
    text = "\n".join(lines)
    assert "rebroadcast_mode CORE_PORTNUMS_ONLY (role ROUTER installed it) drops PRIVATE_APP" in text
    assert "set device.rebroadcast_mode LOCAL_ONLY" in text
    assert "ignores 1 node(s)" in text
    assert "lora.modem_preset is LONG_FAST, the kit says MEDIUM_FAST" in text

    meshtastic_set(port, "device.rebroadcast_mode=KNOWN_ONLY")
    assert main(["radio", "check", "--host", f"127.0.0.1:{port}"]) == 1
    assert "KNOWN_ONLY drops frames from venues missing from the radio's node DB" in capsys.readouterr().out


def test_radio_on_factory_channel_has_the_firmware_position_precision(pair_radios, capsys) -> None:
    # firmware 2.7's default channel carries position_precision 13 (the virtual radio follows it): not flagged
    port = pair_radios.port_of("beta")
    main(["radio", "check", "--host", f"127.0.0.1:{port}"])
    assert "position_precision 0" not in capsys.readouterr().out


def test_daemon_says_plainly_when_its_radio_drops_the_art_traffic(pair_radios, kit: Path, tmp_path: Path,
                                                                  daemons) -> None:
    port = pair_radios.port_of("alpha")
    apply(kit, "nemo", port)
    meshtastic_set(port, "device.rebroadcast_mode=CORE_PORTNUMS_ONLY")
    daemon = radio_daemon(tmp_path, kit, port)
    daemons.append(daemon)
    daemon.start()
    link = wait_radio(daemon, lambda link: link["transport"]["connected"] and "problems" in link["transport"]["radio"])
    radio = link["transport"]["radio"]
    assert radio["drops_art_traffic"] is True
    assert any("CORE_PORTNUMS_ONLY drops PRIVATE_APP" in problem for problem in radio["problems"])
    assert daemon.status()["links"]["radio"]["transport"]["radio"]["drops_art_traffic"] is True  # public too
    assert "level=error logger=node.transport.meshtastic radio drops the art traffic link=radio" in daemon.log()
    assert 'meshart_radio_drops_art_traffic{link="radio"} 1.0' in daemon.metrics()
    shown = subprocess.run([sys.executable, "-m", "node", "node", "status", "--data-dir", str(daemon.data_dir)],
                           cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "RADIO DROPS THE ART TRAFFIC" in shown.stdout and "preset MEDIUM_FAST" in shown.stdout
    assert "region EU_868" in shown.stdout and "store: writable" in shown.stdout
    assert daemon.stop() == 0


def own_telemetry(net, name: str, utilisation: float, own_tx: float) -> None:
    """The radio reports its own device metrics to its client, as firmware's DeviceTelemetryModule does."""
    radio = net.radio(name)
    metrics = telemetry_pb2.Telemetry(device_metrics=telemetry_pb2.DeviceMetrics(
        channel_utilization=utilisation, air_util_tx=own_tx))
    packet = mesh_pb2.MeshPacket(id=0x1234, to=0xFFFFFFFF, decoded=mesh_pb2.Data(
        portnum=portnums_pb2.PortNum.TELEMETRY_APP, payload=metrics.SerializeToString()))
    setattr(packet, "from", radio.node_num)
    radio.to_client(mesh_pb2.FromRadio(packet=packet))


def test_preset_change_switches_the_engines_airtime_and_metrics_reach_it(pair_radios, kit: Path, tmp_path: Path,
                                                                         daemons) -> None:
    port = pair_radios.port_of("alpha")
    apply(kit, "oba", port)
    daemon = radio_daemon(tmp_path, kit, port)
    daemons.append(daemon)
    daemon.start()
    link = wait_radio(daemon, lambda link: link["transport"]["connected"] and "problems" in link["transport"]["radio"])
    assert link["preset"] == "MEDIUM_FAST" and link["transport"]["radio"]["problems"] == []

    pair_radios.call(lambda net: own_telemetry(net, "alpha", 12.5, 3.25))
    link = wait_radio(daemon, lambda link: link.get("channel_utilization") is not None)
    # the virtual radio also reports its own device metrics now, so the value is whichever came last;
    # what matters is that the radio's reading reached the engine unchanged
    assert link["channel_utilization"] == pytest.approx(link["transport"]["radio"]["channel_utilization"])
    assert link["air_util_tx"] is not None
    assert 'meshart_radio_channel_utilization_ratio{link="radio"}' in daemon.metrics()

    meshtastic_set(port, "lora.modem_preset=SHORT_FAST")
    link = wait_radio(daemon, lambda link: link["transport"]["connected"] and link["preset"] == "SHORT_FAST",
                      timeout=90)
    assert link["transport"]["counted_preset"] == "SHORT_FAST" and link["transport"]["preset_changes"] == 1
    assert "radio preset changed link=radio from=MEDIUM_FAST to=SHORT_FAST" in daemon.log()
    link = wait_radio(daemon, lambda link: link["transport"]["radio"].get("problems"))
    assert "lora.modem_preset is SHORT_FAST, the kit says MEDIUM_FAST" in link["transport"]["radio"]["problems"]
    assert daemon.stop() == 0
