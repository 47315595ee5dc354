"""scripts/install-pi.sh in a scratch root: the files it writes, idempotence, refusals."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from node.artwork.keys import write_keypair
from node.config import load_config
from tests.factories import artist_key, curator_key

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-pi.sh"
BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text(BOOKWORM)
    return root


@pytest.fixture
def curator_pub(tmp_path: Path) -> Path:
    return write_keypair(curator_key(), tmp_path / "curator.key")


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_writes_a_valid_node_config_unit_and_captive_portal(fake_root: Path, curator_pub: Path) -> None:
    result = install(fake_root, "--venue", "waag", "--trust", str(curator_pub), "--radio", "serial:/dev/ttyACM0")
    assert result.returncode == 0, result.stderr
    toml_path = fake_root / "etc/mesh-art/node.toml"
    doc = tomllib.loads(toml_path.read_text())
    assert doc["node"]["venue"] == "Waag Futurelab"
    assert doc["node"]["lat"] == pytest.approx(52.37275)
    assert doc["radio"] == {"device": "serial:/dev/ttyACM0", "preset": "MEDIUM_FAST", "duty_cycle_share": 0.9}
    assert doc["http"]["public_url"] == "http://10.42.0.1/"
    # the daemon's own validator accepts the file the installer wrote
    trust_copy = fake_root / "etc/mesh-art/curator.key.pub"
    assert trust_copy.read_text() == curator_pub.read_text()
    text = toml_path.read_text().replace('"/etc/mesh-art/', f'"{fake_root}/etc/mesh-art/')
    patched = fake_root / "node-check.toml"
    patched.write_text(text)
    config = load_config(patched)
    assert config.radio is not None and config.radio.preset == "MEDIUM_FAST"
    assert config.http_port == 8080 and config.trust == (str(fake_root / "etc/mesh-art/curator.key.pub"),)
    unit = (fake_root / "etc/systemd/system/mesh-art-node.service").read_text()
    assert "WatchdogSec=" in unit and "ProtectSystem=strict" in unit and "mesh-art node run" in unit
    dns = (fake_root / "etc/NetworkManager/dnsmasq-shared.d/mesh-art-gallery.conf").read_text()
    assert "address=/#/10.42.0.1" in dns
    nft = (fake_root / "etc/nftables.d/mesh-art-gallery.nft").read_text()
    assert "redirect to :8080" in nft
    assert 'include "/etc/nftables.d/*.nft"' in (fake_root / "etc/nftables.conf").read_text()
    assert "would run: systemctl enable --now mesh-art-node.service" in result.stdout
    assert "radio apply /opt/mesh-art/firmware_config/profiles/waag.yaml --port /dev/ttyACM0" in result.stdout


def test_second_run_changes_nothing(fake_root: Path, curator_pub: Path) -> None:
    args = ("--venue", "nemo", "--trust", str(curator_pub))
    assert install(fake_root, *args).returncode == 0
    before = {p: p.read_bytes() for p in fake_root.rglob("*") if p.is_file()}
    again = install(fake_root, *args)
    assert again.returncode == 0, again.stderr
    assert "wrote " not in again.stdout
    assert {p: p.read_bytes() for p in fake_root.rglob("*") if p.is_file()} == before


def test_dry_run_writes_nothing(fake_root: Path, curator_pub: Path) -> None:
    result = install(fake_root, "--dry-run", "--venue", "oba", "--trust", str(curator_pub))
    assert result.returncode == 0, result.stderr
    assert "would write /etc/mesh-art/node.toml" in result.stdout
    assert sorted(p.name for p in fake_root.rglob("*") if p.is_file()) == ["os-release"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--trust", "CUR"), "--venue is required"),
        (("--venue", "waag"), "--trust CURATOR.pub is required"),
        (("--venue", "Waag!", "--trust", "CUR"), "lower-case"),
        (("--venue", "waag", "--trust", "ART"), "is not a curator public key"),
        (("--venue", "waag", "--trust", "CUR", "--preset", "SHORT_TURBO"), "not allowed in EU_868"),
        (("--venue", "waag", "--trust", "CUR", "--radio", "/dev/ttyUSB0"), "--radio must be"),
    ],
)
def test_refuses_bad_arguments(fake_root: Path, curator_pub: Path, tmp_path: Path, args: tuple[str, ...],
                               message: str) -> None:
    artist_pub = write_keypair(artist_key(), tmp_path / "artist.key")
    real = [str(curator_pub) if a == "CUR" else str(artist_pub) if a == "ART" else a for a in args]
    result = install(fake_root, *real)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (fake_root / "etc/mesh-art").exists()


def test_refuses_an_unsupported_system(fake_root: Path, curator_pub: Path) -> None:
    bullseye = 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nVERSION_CODENAME=bullseye\n'
    (fake_root / "etc/os-release").write_text(bullseye)
    result = install(fake_root, "--venue", "waag", "--trust", str(curator_pub))
    assert result.returncode != 0
    assert "unsupported system 'Debian GNU/Linux 11 (bullseye)'" in result.stderr
    assert not (fake_root / "etc/mesh-art").exists()
