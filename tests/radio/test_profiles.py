"""Venue profiles and ``mesh-art radio check``: the shipped profiles pass, each rule catches its case."""

from __future__ import annotations

import base64

import pytest
import yaml

from firmware_config.checker import check
from firmware_config.profile import PROFILE_DIR, ProfileError, channel_url, load_profile, load_psk, render
from node.cli import main

VENUES = ("nemo", "oba", "waag", "zwijger")


def write_profile(tmp_path, overrides: dict, name: str = "bad.yaml"):
    """A venue profile extending the shipped exhibition base, with ``overrides`` on top."""
    base = {"mesh_art": {"extends": str(PROFILE_DIR / "exhibition.yaml"), "fixed": True},
            "owner": "Test venue", "owner_short": "TV",
            "location": {"lat": 52.37, "lon": 4.9, "alt": 10},
            "config": {"position": {"fixedPosition": True}}}
    data = _merge(base, overrides)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_every_venue_profile_passes(capsys):
    assert main(["radio", "check", *VENUES]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{venue}.yaml: ok" for venue in VENUES]


def test_venue_profile_merges_the_base_and_its_position():
    profile = load_profile("zwijger")
    assert profile.section("config", "lora")["modem_preset"] == "MEDIUM_FAST"
    assert profile.section("config", "lora")["region"] == "EU_868"
    assert profile.data["location"] == {"lat": 52.3765, "lon": 4.92232, "alt": 20}
    assert profile.data["owner_short"] == "ZWGR"


BAD = [
    ({"config": {"lora": {"region": "US"}}}, "lora.region is US"),
    ({"config": {"lora": {"modemPreset": "SHORT_TURBO"}}}, "SHORT_TURBO uses 500 kHz"),
    ({"config": {"lora": {"modemPreset": "LONG_TURBO"}}}, "LONG_TURBO uses 500 kHz"),
    ({"config": {"lora": {"txPower": 30}}}, "tx_power 30 dBm is above"),
    ({"config": {"lora": {"overrideDutyCycle": True}}}, "override_duty_cycle is on"),
    ({"mesh_art": {"channel": {"name": "MeshArt", "psk": "AQ=="}}}, "default public key"),
    ({"mesh_art": {"channel": {"name": "MeshArt", "psk": "0x01"}}}, "default public key"),
    ({"mesh_art": {"channel": {"name": "MeshArt", "psk": ""}}}, "default public key"),
    ({"config": {"lora": {"hopLimit": 8}}}, "hop_limit 8 is above"),
    ({"location": None}, "location (lat, lon) is missing"),
    ({"config": {"position": {"fixedPosition": False}}}, "fixedPosition is not true"),
    ({"config": {"device": {"rebroadcastMode": "CORE_PORTNUMS_ONLY"}}}, "CORE_PORTNUMS_ONLY drops PRIVATE_APP"),
]


@pytest.mark.parametrize(("overrides", "expected"), BAD, ids=[e for _, e in BAD])
def test_each_rule_reports_its_problem_in_one_line(tmp_path, capsys, overrides, expected):
    path = write_profile(tmp_path, overrides)
    assert main(["radio", "check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("bad.yaml: ") and expected in lines[0]


def test_default_key_inside_a_channel_url_is_caught(tmp_path):
    url = channel_url(load_profile("nemo"), b"\x01")
    path = write_profile(tmp_path, {"channel_url": url, "mesh_art": {"channel": None}})
    assert any("default public key" in problem for problem in check(load_profile(str(path))))


def test_several_problems_give_several_lines(tmp_path, capsys):
    path = write_profile(tmp_path, {"config": {"lora": {"region": "US", "txPower": 30, "hopLimit": 9}}})
    assert main(["radio", "check", "-q", str(path)]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_psk_is_generated_once_and_shared(tmp_path):
    key_file = tmp_path / "channel.key"
    with pytest.raises(ProfileError):
        load_psk(key_file, create=False)
    first = load_psk(key_file, create=True)
    assert len(first) == 32 and load_psk(key_file, create=False) == first
    assert key_file.stat().st_mode & 0o777 == 0o600
    urls = {render(load_profile(venue), first)["channel_url"] for venue in VENUES}
    assert len(urls) == 1  # every venue joins the same channel


def test_rendered_profile_is_plain_configure_yaml(tmp_path, capsys):
    key_file = tmp_path / "k"
    key_file.write_text(base64.b64encode(bytes(32)).decode())
    assert main(["radio", "render", "oba", "--psk-file", str(key_file)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# start of Meshtastic configure yaml\n")
    document = yaml.safe_load(text)
    assert "mesh_art" not in document and document["channel_url"].startswith("https://meshtastic.org/e/#")


def test_qr_code_files(tmp_path, capsys):
    key_file = tmp_path / "k"
    key_file.write_text(base64.b64encode(bytes(range(32))).decode())
    for name in ("channel.png", "channel.svg"):
        assert main(["radio", "qr", "nemo", "--psk-file", str(key_file), "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "channel.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "channel.svg").read_bytes()
    assert main(["radio", "qr", "nemo", "--psk-file", str(key_file), "--out", str(tmp_path / "x.gif")]) == 1
