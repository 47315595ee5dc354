"""The exhibition kit: what the curator makes once and every venue installs from.

A kit is a directory::

    kit.json            exhibition name, region, preset, channel name, the venues (id, label, lat, lon)
    curator.pub         the curator's public key: the nodes' trust anchor
    channel.key         the one channel key (base64, mode 0600): every radio joins the same channel
    channel-url.txt     the channel URL (holds the key), for `meshtastic --seturl`
    channel-qr.svg/png  the same URL as a QR code, for the About page and printed signs
    profiles/ID.yaml    one venue radio profile per venue (partners included), base merged in

The profiles are complete ``--configure`` profiles with ``psk: generate``; the key is taken from
``channel.key`` at render/apply time, so it is written in exactly one file.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from firmware_config.profile import (
    PROFILE_DIR,
    Profile,
    ProfileError,
    channel_url,
    deep_merge,
    load_profile,
    load_psk,
)
from firmware_config.qr import write_qr
from firmware_config.safety import ChannelExpectation

KIT_FILE = "kit.json"
CURATOR_FILE = "curator.pub"
KEY_FILE = "channel.key"
URL_FILE = "channel-url.txt"
QR_SVG = "channel-qr.svg"
QR_PNG = "channel-qr.png"
PROFILES = "profiles"
KIT_VERSION = 1
BASE_PROFILE = "exhibition.yaml"
VENUE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
CURATOR_HEADER = "mesh-art-public-v1 curator "


class KitError(ValueError):
    """A kit cannot be made or read; the message names the file and the problem."""


@dataclass(frozen=True)
class Venue:
    """One venue of the exhibition: its id (profile name), label and position."""

    id: str
    label: str
    lat: float
    lon: float
    alt: int = 10

    def __post_init__(self) -> None:
        if not VENUE_ID.match(self.id):
            raise KitError(f"venue id {self.id!r} must be lower-case letters, digits or '-' (at most 31)")
        if not -90 <= self.lat <= 90 or not -180 <= self.lon <= 180:
            raise KitError(f"venue {self.id}: position {self.lat}, {self.lon} is not on Earth")
        if not self.label or len(self.label) > 36:
            raise KitError(f"venue {self.id}: the name must have 1..36 characters")

    @classmethod
    def parse(cls, text: str) -> Venue:
        """``ID,LAT,LON[,NAME]`` as given to ``kit new --partner``."""
        parts = [part.strip() for part in text.split(",")]
        if len(parts) not in (3, 4):
            raise KitError(f"partner {text!r}: write ID,LAT,LON[,NAME], e.g. mediamatic,52.3716,4.9261,Mediamatic")
        try:
            lat, lon = float(parts[1]), float(parts[2])
        except ValueError:
            raise KitError(f"partner {text!r}: latitude and longitude must be numbers") from None
        return cls(parts[0], parts[3] if len(parts) == 4 else parts[0], lat, lon)


@dataclass(frozen=True)
class Kit:
    """A kit read from its directory."""

    path: Path
    exhibition: str
    region: str
    preset: str
    channel_name: str
    venues: tuple[Venue, ...]

    @property
    def curator_pub(self) -> Path:
        """The curator's public key file."""
        return self.path / CURATOR_FILE

    @property
    def key_file(self) -> Path:
        """The channel key file."""
        return self.path / KEY_FILE

    @property
    def qr_svg(self) -> Path:
        """The channel QR code (SVG)."""
        return self.path / QR_SVG

    def psk(self) -> bytes:
        """The channel key."""
        try:
            return load_psk(self.key_file, create=False)
        except ProfileError as exc:
            raise KitError(str(exc)) from None

    def venue(self, venue_id: str) -> Venue:
        """A venue by id; a clear error naming the known ones."""
        for venue in self.venues:
            if venue.id == venue_id:
                return venue
        known = ", ".join(v.id for v in self.venues)
        raise KitError(f"the kit at {self.path} has no venue {venue_id!r} (it has: {known})")

    def profile(self, venue_id: str) -> Profile:
        """The venue's radio profile from the kit."""
        self.venue(venue_id)
        try:
            return load_profile(str(self.path / PROFILES / f"{venue_id}.yaml"))
        except ProfileError as exc:
            raise KitError(str(exc)) from None

    def expectation(self) -> ChannelExpectation:
        """What every radio of this exhibition must hold (for the radio-safety check)."""
        return ChannelExpectation(region=self.region, preset=self.preset, psk=self.psk())


def _built_in_venues() -> list[tuple[Venue, Profile]]:
    found = []
    for path in sorted(PROFILE_DIR.glob("*.yaml")):
        if path.name == BASE_PROFILE:
            continue
        profile = load_profile(str(path))
        location = profile.data.get("location") or {}
        label = str(profile.mesh_art.get("label") or path.stem)
        venue = Venue(path.stem, label, float(location["lat"]), float(location["lon"]), int(location.get("alt", 10)))
        found.append((venue, profile))
    return found


def _partner_document(venue: Venue) -> dict[str, Any]:
    return {
        "mesh_art": {"venue": venue.id, "label": venue.label, "fixed": True},
        "owner": f"Mesh Art {venue.label}"[:39],
        "owner_short": re.sub(r"[^A-Z0-9]", "", venue.id.upper())[:4] or "ART",
        "location": {"lat": venue.lat, "lon": venue.lon, "alt": venue.alt},
        "config": {"position": {"fixed_position": True}},
    }


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _profile_text(profile_data: dict[str, Any], venue: Venue) -> str:
    header = (f"# start of Meshtastic configure yaml\n# Venue profile from the exhibition kit: {venue.label}.\n"
              "# The channel key is in ../channel.key; `mesh-art radio render|apply --kit KIT` fills it in.\n")
    return header + yaml.safe_dump(profile_data, sort_keys=True, allow_unicode=True)


def make_kit(out: Path, curator_pub: Path, exhibition: str, partners: list[Venue], key: bytes) -> Kit:
    """Write a new kit to ``out`` (which must not exist or be empty)."""
    try:
        header = curator_pub.read_text(encoding="utf-8").lstrip()
    except OSError as exc:
        raise KitError(f"{curator_pub}: cannot read the curator key: {exc.strerror}") from None
    except UnicodeDecodeError:
        header = ""
    if not header.startswith(CURATOR_HEADER):
        raise KitError(f"{curator_pub} is not a curator public key (.pub) file")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise KitError(f"{out} already exists and is not empty; a kit is made once")
    built_in = _built_in_venues()
    taken = {venue.id for venue, _ in built_in}
    for partner in partners:
        if partner.id in taken:
            raise KitError(f"partner id {partner.id!r} is already a venue")
        taken.add(partner.id)
    base = load_profile(str(PROFILE_DIR / BASE_PROFILE))
    lora = base.section("config", "lora")
    channel = base.mesh_art.get("channel") or {}
    (out / PROFILES).mkdir(parents=True, exist_ok=True)
    venues = []
    for venue, profile in built_in:
        _write(out / PROFILES / f"{venue.id}.yaml", _profile_text(profile.data, venue))
        venues.append(venue)
    for partner in partners:
        data = deep_merge(base.data, _partner_document(partner))
        _write(out / PROFILES / f"{partner.id}.yaml", _profile_text(data, partner))
        venues.append(partner)
    _write(out / KEY_FILE, base64.b64encode(key).decode() + "\n", 0o600)
    shutil.copyfile(curator_pub, out / CURATOR_FILE)
    url = channel_url(base, key)
    _write(out / URL_FILE, url + "\n", 0o600)
    write_qr(url, out / QR_SVG)
    write_qr(url, out / QR_PNG)
    manifest = {
        "version": KIT_VERSION, "exhibition": exhibition, "region": lora.get("region", "EU_868"),
        "preset": lora.get("modem_preset", "MEDIUM_FAST"), "channel": str(channel.get("name", "")),
        "venues": [{"id": v.id, "label": v.label, "lat": v.lat, "lon": v.lon, "alt": v.alt} for v in venues],
    }
    _write(out / KIT_FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return load_kit(out)


def _venue_from(entry: Any, source: Path) -> Venue:
    if not isinstance(entry, dict):
        raise KitError(f"{source}: every venue must be an object")
    try:
        return Venue(str(entry["id"]), str(entry["label"]), float(entry["lat"]), float(entry["lon"]),
                     int(entry.get("alt", 10)))
    except (KeyError, TypeError, ValueError) as exc:
        raise KitError(f"{source}: venue {entry.get('id', '?')!r} is incomplete: {exc}") from None


def load_kit(path: Path) -> Kit:
    """Read a kit directory; one clear line for anything missing or malformed."""
    source = path / KIT_FILE
    if not path.is_dir():
        raise KitError(f"{path}: no such kit directory (the curator makes one with `mesh-art kit new`)")
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(f"{path} is not an exhibition kit: {KIT_FILE} is missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KitError(f"{source}: cannot read the kit: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != KIT_VERSION:
        raise KitError(f"{source}: not a version {KIT_VERSION} kit")
    for name in (CURATOR_FILE, KEY_FILE):
        if not (path / name).is_file():
            raise KitError(f"{path}: the kit lacks {name}")
    venues = data.get("venues")
    if not isinstance(venues, list) or not venues:
        raise KitError(f"{source}: the kit lists no venues")
    return Kit(path=path, exhibition=str(data.get("exhibition", "")), region=str(data.get("region", "")),
               preset=str(data.get("preset", "")), channel_name=str(data.get("channel", "")),
               venues=tuple(_venue_from(entry, source) for entry in venues))
