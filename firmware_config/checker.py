"""``mesh-art radio check``: the rules a venue radio profile must satisfy, one line per problem.

The rules come from the EU_868 regulations as Meshtastic implements them and from what the
gossip layer needs (reference/meshtastic.md §2, §4, §5); the radio-safety rules (role,
rebroadcast mode, ignored nodes, position precision) are shared with the daemon's check of the
connected radio (firmware_config.safety).
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable
from urllib.parse import urlparse

from google.protobuf.message import DecodeError
from meshtastic.protobuf import apponly_pb2, channel_pb2

from firmware_config.profile import (
    PSK_PLACEHOLDER,
    Profile,
    ProfileError,
    channel_psk_setting,
    channel_settings,
    decode_psk_text,
    local_config,
)
from firmware_config.safety import radio_findings

EU868_MAX_TX_DBM = 27
HOP_MAX = 7
PRESETS_NOT_IN_EU868 = ("SHORT_TURBO", "LONG_TURBO")
# The firmware's publicly known default key, and the shorthand bytes that select it (or none).
DEFAULT_KEY = bytes((0xD4, 0xF1, 0xBB, 0x3A, 0x20, 0x29, 0x07, 0x59, 0xF0, 0xBC, 0xFF, 0xAB, 0xCF, 0x4E, 0x69, 0x01))


def is_public_key(psk: bytes) -> bool:
    """Empty (no encryption), a 1-byte default-key shorthand, or the default key itself."""
    return len(psk) <= 1 or psk == DEFAULT_KEY


def _channel_url_settings(url: str) -> list[channel_pb2.ChannelSettings]:
    fragment = urlparse(url).fragment
    padded = fragment + "=" * (-len(fragment) % 4)
    try:
        channel_set = apponly_pb2.ChannelSet.FromString(base64.urlsafe_b64decode(padded))
    except DecodeError:
        raise ValueError("not a channel set") from None
    return list(channel_set.settings)


def _channel_url_keys(url: str) -> list[bytes]:
    return [settings.psk for settings in _channel_url_settings(url)]


def check_region(profile: Profile) -> str | None:
    """The exhibition runs on EU_868."""
    region = profile.section("config", "lora").get("region")
    if region != "EU_868":
        return f"lora.region is {region or 'not set'}; the exhibition radios must use EU_868"
    return None


def check_preset(profile: Profile) -> str | None:
    """500 kHz presets do not fit the 250 kHz EU_868 band (firmware falls back to LONG_FAST)."""
    preset = profile.section("config", "lora").get("modem_preset")
    if preset in PRESETS_NOT_IN_EU868:
        return f"lora.modem_preset {preset} uses 500 kHz, wider than the EU_868 band; use MEDIUM_FAST"
    return None


def check_power(profile: Profile) -> str | None:
    """EU_868 allows 27 dBm."""
    power = profile.section("config", "lora").get("tx_power")
    if isinstance(power, int | float) and power > EU868_MAX_TX_DBM:
        return f"lora.tx_power {power} dBm is above the EU_868 limit of {EU868_MAX_TX_DBM} dBm"
    return None


def check_duty_cycle(profile: Profile) -> str | None:
    """The 10 % duty cycle is the law in EU_868, not a preference."""
    if profile.section("config", "lora").get("override_duty_cycle") is True:
        return "lora.override_duty_cycle is on; the EU_868 10 % duty cycle must stay enforced"
    return None


def check_psk(profile: Profile) -> str | None:
    """A private channel: not the publicly known default key, not unencrypted."""
    setting = channel_psk_setting(profile)
    keys: list[bytes] = []
    if setting is not None and setting != PSK_PLACEHOLDER:
        try:
            keys.append(decode_psk_text(setting))
        except ValueError:
            return f"mesh_art.channel.psk {setting!r} is not base64 or hex"
    url = profile.data.get("channel_url")
    if isinstance(url, str) and url:
        try:
            keys.extend(_channel_url_keys(url))
        except ValueError:
            return "channel_url cannot be decoded"
    if setting is None and not url:
        return "no channel is defined; add mesh_art.channel with psk: generate"
    if any(is_public_key(key) for key in keys):
        return "the channel uses the default public key (AQ==) or none; use psk: generate"
    return None


def check_hop_limit(profile: Profile) -> str | None:
    """Meshtastic caps hops at 7 (HOP_MAX); firmware resets anything higher to 3."""
    hops = profile.section("config", "lora").get("hop_limit")
    if isinstance(hops, int) and hops > HOP_MAX:
        return f"lora.hop_limit {hops} is above the Meshtastic maximum of {HOP_MAX}"
    return None


def check_position(profile: Profile) -> str | None:
    """A venue radio does not move: it needs a fixed position for the map and the gallery."""
    if not profile.mesh_art.get("fixed"):
        return None
    location = profile.data.get("location")
    has_location = isinstance(location, dict) and location.get("lat") is not None and location.get("lon") is not None
    if not has_location:
        return "this is a fixed venue but location (lat, lon) is missing"
    if profile.section("config", "position").get("fixed_position") is not True:
        return "this is a fixed venue but config.position.fixedPosition is not true"
    return None


def _profile_channel(profile: Profile) -> channel_pb2.ChannelSettings | None:
    url = profile.data.get("channel_url")
    if profile.mesh_art.get("channel"):
        return channel_settings(profile, b"")
    if isinstance(url, str) and url:
        with contextlib.suppress(ValueError):
            settings = _channel_url_settings(url)
            return settings[0] if settings else None
    return None


def check_radio_safety(profile: Profile) -> list[str]:
    """The radio-safety rules (firmware_config.safety) on the profile's config and channel."""
    try:
        config, primary = local_config(profile), _profile_channel(profile)
    except ProfileError as exc:
        return [str(exc)]
    return [finding.text for finding in radio_findings(config, primary, profile=True)]


RULES: tuple[Callable[[Profile], str | None], ...] = (
    check_region, check_preset, check_power, check_duty_cycle, check_psk, check_hop_limit, check_position,
)


def check(profile: Profile) -> list[str]:
    """Every problem of a resolved profile, one sentence each (empty: the profile is fine)."""
    return [problem for rule in RULES if (problem := rule(profile)) is not None] + check_radio_safety(profile)
