"""Venue radio profiles: loading, merging with the exhibition base, the channel key and URL.

A profile is a ``meshtastic --configure`` YAML file. Ours may carry a ``mesh_art`` block (the
CLI ignores unknown top-level keys) with ``extends`` (a base profile merged underneath),
``venue``/``fixed`` (a venue radio must have a fixed position) and ``channel`` (the private
channel's name, PSK and position precision, where ``psk: generate`` is filled in from the
exhibition kit's channel key).
"""

from __future__ import annotations

import base64
import copy
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format
from meshtastic.protobuf import apponly_pb2, channel_pb2, config_pb2, localonly_pb2

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
YAML_HEADER = "# start of Meshtastic configure yaml\n"
CHANNEL_URL_PREFIX = "https://meshtastic.org/e/#"
PSK_PLACEHOLDER = "generate"
PSK_BYTES = 32  # AES-256


class ProfileError(ValueError):
    """A profile cannot be read or resolved."""


def snake(name: str) -> str:
    """``hopLimit`` -> ``hop_limit`` (the CLI accepts both spellings)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def normalise_keys(value: Any) -> Any:
    """A copy of a config tree with every mapping key in snake_case."""
    if isinstance(value, dict):
        return {snake(str(k)): normalise_keys(v) for k, v in value.items()}
    return copy.deepcopy(value)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``, merging nested mappings."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class Profile:
    """A resolved profile: base and venue merged, config keys in snake_case."""

    name: str
    path: Path
    data: dict[str, Any]

    @property
    def mesh_art(self) -> dict[str, Any]:
        """Our extension block (empty if absent)."""
        block = self.data.get("mesh_art") or {}
        return block if isinstance(block, dict) else {}

    def section(self, *keys: str) -> dict[str, Any]:
        """A nested mapping such as ``section("config", "lora")`` (empty if absent)."""
        node: Any = self.data
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}


def find_profile(name_or_path: str) -> Path:
    """A profile file from a path or a venue name (``nemo`` -> ``profiles/nemo.yaml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    candidate = PROFILE_DIR / f"{name_or_path.removesuffix('.yaml')}.yaml"
    if candidate.is_file():
        return candidate
    known = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))
    raise ProfileError(f"no profile {name_or_path!r} (a file, or one of: {known})")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not a YAML profile (not UTF-8 text)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile must be a YAML mapping")
    return data


def load_profile(name_or_path: str, _seen: tuple[Path, ...] = ()) -> Profile:
    """Read a profile and merge the base it ``extends`` (recursively) underneath it."""
    path = find_profile(name_or_path).resolve()
    if path in _seen:
        raise ProfileError(f"{path}: 'extends' loops back to itself")
    data = normalise_keys(_read_yaml(path))
    parent = (data.get("mesh_art") or {}).get("extends") if isinstance(data.get("mesh_art"), dict) else None
    if parent:
        base = load_profile(str(path.parent / str(parent)), (*_seen, path))
        data = deep_merge(base.data, data)
        data["mesh_art"].pop("extends", None)
    return Profile(path.stem, path, data)


def load_psk(psk_file: Path, create: bool) -> bytes:
    """The exhibition channel key from ``psk_file`` (base64); generated and saved 0600 if asked."""
    if psk_file.exists():
        try:
            key = base64.b64decode(psk_file.read_text().strip(), validate=True)
        except ValueError:
            raise ProfileError(f"{psk_file}: not a base64 key") from None
        if len(key) not in (16, 32):
            raise ProfileError(f"{psk_file}: key must be 16 or 32 bytes, not {len(key)}")
        return key
    if not create:
        raise ProfileError(f"{psk_file} does not exist; the curator's `mesh-art kit new` makes the channel key")
    key = secrets.token_bytes(PSK_BYTES)
    psk_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(psk_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key


def lora_config(profile: Profile) -> config_pb2.Config.LoRaConfig:
    """The profile's LoRa section as a protobuf (enum names resolved)."""
    lora = config_pb2.Config.LoRaConfig()
    for key, value in profile.section("config", "lora").items():
        field = lora.DESCRIPTOR.fields_by_name.get(key)
        if field is None:
            raise ProfileError(f"{profile.path}: unknown lora setting {key!r}")
        if field.enum_type is not None and isinstance(value, str):
            value = field.enum_type.values_by_name[value].number
        setattr(lora, key, value)
    return lora


def local_config(profile: Profile) -> localonly_pb2.LocalConfig:
    """The profile's ``config`` sections as the firmware's LocalConfig (unset fields at defaults)."""
    config = localonly_pb2.LocalConfig()
    try:
        json_format.ParseDict(profile.data.get("config") or {}, config)
    except json_format.ParseError as exc:
        raise ProfileError(f"{profile.path}: {exc}") from None
    return config


def channel_position_precision(profile: Profile) -> int:
    """``mesh_art.channel.position_precision`` (0, the firmware default, when absent)."""
    channel = profile.mesh_art.get("channel")
    value = channel.get("position_precision", 0) if isinstance(channel, dict) else 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 32:
        raise ProfileError(f"{profile.path}: mesh_art.channel.position_precision must be 0..32, got {value!r}")
    return value


def channel_settings(profile: Profile, psk: bytes) -> channel_pb2.ChannelSettings:
    """The exhibition channel as the firmware holds it: name, key and position precision."""
    channel = profile.mesh_art.get("channel") or {}
    settings = channel_pb2.ChannelSettings(name=str(channel.get("name", "")), psk=psk)
    settings.module_settings.position_precision = channel_position_precision(profile)
    return settings


def channel_url(profile: Profile, psk: bytes) -> str:
    """The ``https://meshtastic.org/e/#...`` URL of the exhibition channel with the real key."""
    channel_set = apponly_pb2.ChannelSet(settings=[channel_settings(profile, psk)], lora_config=lora_config(profile))
    encoded = base64.urlsafe_b64encode(channel_set.SerializeToString()).decode().rstrip("=")
    return CHANNEL_URL_PREFIX + encoded


def channel_psk_setting(profile: Profile) -> str | None:
    """The ``mesh_art.channel.psk`` text as written in the profile (None if absent)."""
    channel = profile.mesh_art.get("channel")
    if not isinstance(channel, dict) or "psk" not in channel:
        return None
    return str(channel["psk"]) if channel["psk"] is not None else ""


def render(profile: Profile, psk: bytes) -> dict[str, Any]:
    """The plain ``--configure`` document: ``mesh_art`` removed, ``channel_url`` filled in."""
    document = {k: copy.deepcopy(v) for k, v in profile.data.items() if k != "mesh_art"}
    if profile.mesh_art.get("channel"):
        document["channel_url"] = channel_url(profile, psk)
    return document


def render_yaml(profile: Profile, psk: bytes) -> str:
    """:func:`render` as YAML text with the header line the CLI writes."""
    return YAML_HEADER + yaml.safe_dump(render(profile, psk), sort_keys=True, allow_unicode=True)


def decode_psk_text(text: str) -> bytes:
    """A PSK as written in a profile: ``base64:...``, ``0x..`` hex, or plain base64."""
    text = text.strip()
    if text.startswith("base64:"):
        text = text.removeprefix("base64:")
    elif text.lower().startswith("0x"):
        return bytes.fromhex(text[2:])
    return base64.b64decode(text, validate=True)


def profile_psk(profile: Profile, psk_file: Path | None, create: bool) -> bytes:
    """The key for the profile's channel: its explicit PSK, or the shared generated one."""
    setting = channel_psk_setting(profile)
    if setting is None or setting == PSK_PLACEHOLDER:
        if psk_file is None:
            raise ProfileError(f"{profile.name}: the channel key comes from the exhibition kit; give --kit DIR")
        return load_psk(psk_file, create)
    try:
        return decode_psk_text(setting)
    except ValueError:
        raise ProfileError(f"{profile.name}: cannot read channel psk {setting!r}") from None
