"""scripts/install-pi.sh in scratch roots (bookworm and trixie): the files it writes, idempotence, refusals."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from node.artwork.keys import write_keypair
from node.cli import main
from node.config import load_config
from tests.factories import artist_key, curator_key

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-pi.sh"
BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
TRIXIE = ('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n'
          'VERSION_ID="13"\n')
RELEASES = {"bookworm": BOOKWORM, "trixie": TRIXIE}


@pytest.fixture(params=sorted(RELEASES))
def fake_root(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text(RELEASES[request.param])
    return root


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The curator's kit, with one partner venue."""
    where = tmp_path_factory.mktemp("curator")
    pub = write_keypair(curator_key(), where / "curator.key")
    out = where / "kit"
    assert main(["kit", "new", "--curator", str(pub), "--out", str(out),
                 "--partner", "mediamatic,52.37160,4.92610,Mediamatic Amsterdam"]) == 0
    return out


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_writes_a_valid_node_config_unit_and_captive_portal(fake_root: Path, kit: Path) -> None:
    result = install(fake_root, "--kit", str(kit), "--venue", "waag", "--radio", "serial:/dev/ttyACM0")
    assert result.returncode == 0, result.stderr
    toml_path = fake_root / "etc/mesh-art/node.toml"
    doc = tomllib.loads(toml_path.read_text())
    assert doc["node"]["venue"] == "Waag Futurelab"
    assert doc["node"]["lat"] == pytest.approx(52.37275)
    assert doc["node"]["kit"] == "/etc/mesh-art/kit"
    # The preset is the kit's, so the first start does not warn of a mismatch.
    assert doc["radio"] == {"device": "serial:/dev/ttyACM0", "preset": "MEDIUM_FAST", "duty_cycle_share": 0.9}
    assert doc["http"]["public_url"] == "http://10.42.0.1/"
    installed = fake_root / "etc/mesh-art/kit"
    assert (installed / "curator.pub").read_text() == (kit / "curator.pub").read_text()
    assert (installed / "channel.key").read_text() == (kit / "channel.key").read_text()
    assert (installed / "channel.key").stat().st_mode & 0o777 == 0o640
    assert (installed / "profiles" / "mediamatic.yaml").is_file()
    # the daemon's own validator accepts the file the installer wrote, kit included
    text = toml_path.read_text().replace('"/etc/mesh-art/', f'"{fake_root}/etc/mesh-art/')
    patched = fake_root / "node-check.toml"
    patched.write_text(text)
    config = load_config(patched)
    assert config.radio is not None and config.radio.preset == "MEDIUM_FAST"
    assert config.kit == installed
    assert config.http_port == 8080 and config.trust == (str(installed / "curator.pub"),)
    unit = (fake_root / "etc/systemd/system/mesh-art-node.service").read_text()
    assert "WatchdogSec=" in unit and "ProtectSystem=strict" in unit and "mesh-art node run" in unit
    dns = (fake_root / "etc/NetworkManager/dnsmasq-shared.d/mesh-art-gallery.conf").read_text()
    assert "address=/#/10.42.0.1" in dns
    nft = (fake_root / "etc/nftables.d/mesh-art-gallery.nft").read_text()
    assert "redirect to :8080" in nft
    assert 'include "/etc/nftables.d/*.nft"' in (fake_root / "etc/nftables.conf").read_text()
    assert "would run: systemctl enable --now mesh-art-node.service" in result.stdout
    assert "would run: nmcli connection add type wifi ifname wlan0 con-name mesh-art-hotspot" in result.stdout
    # The radio is configured from the kit while the daemon is stopped (one client at a time).
    lines = result.stdout.splitlines()
    apply = lines.index("would run: /opt/mesh-art/.venv/bin/mesh-art radio apply waag --kit /etc/mesh-art/kit "
                        "--port /dev/ttyACM0")
    assert lines[apply - 1] == "would run: systemctl stop mesh-art-node.service"
    assert lines[apply + 1] == "would run: systemctl start mesh-art-node.service"


def test_a_partner_venue_from_the_kit_installs(fake_root: Path, kit: Path) -> None:
    result = install(fake_root, "--kit", str(kit), "--venue", "mediamatic", "--radio", "tcp:127.0.0.1")
    assert result.returncode == 0, result.stderr
    doc = tomllib.loads((fake_root / "etc/mesh-art/node.toml").read_text())
    assert doc["node"]["venue"] == "Mediamatic Amsterdam"
    assert doc["node"]["lon"] == pytest.approx(4.9261)
    assert "radio apply mediamatic --kit /etc/mesh-art/kit --host 127.0.0.1" in result.stdout


def test_netplan_and_cloud_init_are_named(fake_root: Path, kit: Path) -> None:
    (fake_root / "etc/netplan").mkdir(parents=True)
    (fake_root / "etc/netplan/50-cloud-init.yaml").write_text("network: {version: 2}\n")
    result = install(fake_root, "--kit", str(kit), "--venue", "oba")
    assert result.returncode == 0, result.stderr
    assert "warning: /etc/netplan exists: netplan/cloud-init can replace NetworkManager's hotspot profile" \
        in result.stdout


def test_second_run_changes_nothing(fake_root: Path, kit: Path) -> None:
    args = ("--kit", str(kit), "--venue", "nemo")
    assert install(fake_root, *args).returncode == 0
    before = {p: p.read_bytes() for p in fake_root.rglob("*") if p.is_file()}
    again = install(fake_root, *args)
    assert again.returncode == 0, again.stderr
    assert "wrote " not in again.stdout
    assert {p: p.read_bytes() for p in fake_root.rglob("*") if p.is_file()} == before


def test_dry_run_writes_nothing(fake_root: Path, kit: Path) -> None:
    result = install(fake_root, "--dry-run", "--kit", str(kit), "--venue", "oba")
    assert result.returncode == 0, result.stderr
    assert "would write /etc/mesh-art/node.toml" in result.stdout
    assert sorted(p.name for p in fake_root.rglob("*") if p.is_file()) == ["os-release"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--venue", "waag"), "--kit KIT is required"),
        (("--kit", "KIT"), "--venue is required"),
        (("--kit", "KIT", "--venue", "Waag!"), "lower-case"),
        (("--kit", "KIT", "--venue", "westergas"), "the kit at"),
        (("--kit", "NOKIT", "--venue", "waag"), "is not an exhibition kit: kit.json is missing"),
        (("--kit", "KIT", "--venue", "waag", "--trust", "ART"), "--trust is gone"),
        (("--kit", "KIT", "--venue", "waag", "--radio", "/dev/ttyUSB0"), "--radio must be"),
    ],
)
def test_refuses_bad_arguments(fake_root: Path, kit: Path, tmp_path: Path, args: tuple[str, ...],
                               message: str) -> None:
    artist_pub = write_keypair(artist_key(), tmp_path / "artist.key")
    (tmp_path / "empty").mkdir()
    names = {"KIT": str(kit), "NOKIT": str(tmp_path / "empty"), "ART": str(artist_pub)}
    result = install(fake_root, *[names.get(a, a) for a in args])
    assert result.returncode != 0
    assert message in result.stderr
    assert not (fake_root / "etc/mesh-art").exists()


def test_refuses_an_unsupported_system(fake_root: Path, kit: Path) -> None:
    bullseye = 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nVERSION_CODENAME=bullseye\n'
    (fake_root / "etc/os-release").write_text(bullseye)
    result = install(fake_root, "--kit", str(kit), "--venue", "waag")
    assert result.returncode != 0
    assert "unsupported system 'Debian GNU/Linux 11 (bullseye)'" in result.stderr
    assert "bookworm and trixie" in result.stderr
    assert not (fake_root / "etc/mesh-art").exists()


def test_example_node_toml_matches_the_exhibition_profiles() -> None:
    """The documented example must not start with a preset mismatch warning."""
    from firmware_config.profile import load_profile

    example = tomllib.loads((ROOT / "docs/examples/node.toml").read_text())
    assert example["radio"]["preset"] == load_profile("exhibition").section("config", "lora")["modem_preset"]
