"""Four venues installed from one exhibition kit: one channel key on four virtual radios, and a work crosses.

The path of ``docs/deploy/raspberry-pi.md``, in scratch roots: the curator makes the kit, each venue
runs ``install-pi.sh --kit``, applies its profile from the installed kit copy to its radio with the
real meshtastic library, and runs the daemon with the node.toml the installer wrote.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.request
from pathlib import Path

import pytest
from meshtastic.protobuf import config_pb2

from node.artwork.keys import write_keypair
from node.cli import main
from node.store.sqlite import SqliteStore
from simulator.virtual_radio import NetworkOptions, load_scenario
from simulator.virtual_radio.background import BackgroundRadios
from tests.daemon.harness import Daemon
from tests.factories import curator_key, make_bundle

ROOT = Path(__file__).resolve().parents[2]
VENUES = ("nemo", "oba", "waag", "zwijger")
TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\n'
FAST_ENGINE = ("\n[engine]\ntrickle_imin_s = 1.0\ntrickle_doublings = 2\nbeacon_interval_s = 30.0\n"
               "request_retry_max_s = 5.0\n")


@pytest.fixture
def radios(tmp_path: Path):
    """Four virtual radios, every venue hearing every other, still on the factory preset and key."""
    nodes = [{"name": n, "lat": 52.37 + i * 0.002, "lon": 4.90, "antenna_m": 15} for i, n in enumerate(VENUES)]
    links = [{"from": a, "to": b, "snr": 7.0, "rssi": -92} for i, a in enumerate(VENUES) for b in VENUES[i + 1:]]
    path = tmp_path / "venues.json"
    path.write_text(json.dumps({"nodes": nodes, "links": links}))
    with BackgroundRadios(load_scenario(str(path)), NetworkOptions(base_port=0, announce=False, seed=3,
                                                                   preset="LONG_FAST")) as net:
        yield net


def install_venue(tmp_path: Path, kit: Path, venue: str, radio_port: int) -> Path:
    """install-pi.sh for one venue in a trixie scratch root; the root."""
    root = tmp_path / f"root-{venue}"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(TRIXIE)
    result = subprocess.run(["bash", str(ROOT / "scripts/install-pi.sh"), "--root", str(root), "--kit", str(kit),
                             "--venue", venue, "--radio", f"tcp:127.0.0.1:{radio_port}"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return root


def daemon_for(root: Path, venue: str) -> Daemon:
    """The daemon with the node.toml the installer wrote (paths moved into the scratch root)."""
    text = (root / "etc/mesh-art/node.toml").read_text().replace('"/etc/mesh-art/', f'"{root}/etc/mesh-art/')
    data = root / "var/lib/mesh-art"
    data.mkdir(parents=True)
    text = text.replace('data_dir = "/var/lib/mesh-art"', f'data_dir = "{data}"')
    text = text.replace('host = "0.0.0.0"\nport = 8080', 'host = "127.0.0.1"\nport = 0')
    config = root / "node-test.toml"
    config.write_text(text + '\n[log]\nlevel = "debug"\n' + FAST_ENGINE)
    return Daemon(config, data)


def local_status(daemon: Daemon) -> dict:
    with urllib.request.urlopen(daemon.url + "/api/status/local", timeout=5) as response:
        return json.loads(response.read())


def test_four_installs_from_one_kit_share_one_key_and_a_work_crosses(tmp_path: Path, radios, daemons) -> None:
    pub = write_keypair(curator_key(), tmp_path / "curator.key")
    kit = tmp_path / "kit"
    assert main(["kit", "new", "--curator", str(pub), "--out", str(kit)]) == 0
    roots = {venue: install_venue(tmp_path, kit, venue, radios.port_of(venue)) for venue in VENUES}
    for venue, root in roots.items():
        status = main(["radio", "apply", venue, "--kit", str(root / "etc/mesh-art/kit"),
                       "--host", f"127.0.0.1:{radios.port_of(venue)}", "--pause", "0.05"])
        assert status == 0, venue

    def channels(net):
        return {v: (net.radio(v).state.channels[0].settings.psk, net.radio(v).state.channels[0].settings.name,
                    net.radio(v).state.channels[0].settings.module_settings.position_precision,
                    net.radio(v).state.config.lora.modem_preset) for v in VENUES}

    held = radios.call(channels)
    kit_key = (kit / "channel.key").read_text().strip()
    assert {entry[0] for entry in held.values()} == {base64.b64decode(kit_key)}  # one key, the kit's
    assert {entry[1:] for entry in held.values()} == {("MeshArt", 32, config_pb2.Config.LoRaConfig.MEDIUM_FAST)}
    for venue in VENUES:  # the radio-safety check against the kit finds nothing on any radio
        assert main(["radio", "check", "--kit", str(kit), "--host", f"127.0.0.1:{radios.port_of(venue)}"]) == 0

    bundle = make_bundle(1500, "crosses the city")
    seeded = daemon_for(roots["nemo"], "nemo")
    store = SqliteStore(seeded.data_dir)
    store.ingest_bundle(bundle)
    store.close()
    receiver = daemon_for(roots["zwijger"], "zwijger")
    daemons += [seeded, receiver]
    seeded.start()
    receiver.start()
    receiver.wait_status(lambda s: s["works"]["complete"] == 1, timeout=120, interval=0.3)
    radio = local_status(receiver)["links"]["radio"]["transport"]["radio"]
    assert radio["preset"] == "MEDIUM_FAST" and radio["region"] == "EU_868"
    assert radio["problems"] == [] and radio["drops_art_traffic"] is False
    about = urllib.request.urlopen(receiver.url + "/about", timeout=5).read().decode()
    assert 'src="/about/channel.svg"' in about  # the kit's QR code, on the visitors' About page
    qr = urllib.request.urlopen(receiver.url + "/about/channel.svg", timeout=5).read()
    assert qr == (kit / "channel-qr.svg").read_bytes()
    assert receiver.stop() == 0 and seeded.stop() == 0
