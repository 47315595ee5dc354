"""How a radio's config maps onto the air: PHY parameters, frequency slot, channel keys.

Two radios hear each other only on the same region, frequency and LoRa parameters; they can
decode each other only with a channel of the same name and key. This follows the firmware's
``RadioInterface::applyModemConfig`` (frequency slot from a djb2 hash of the primary channel
name) and ``Channels`` (a 1-byte PSK selects a variant of the well-known default key).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshtastic.protobuf import channel_pb2, config_pb2

from node.lora import EU868_PRESETS, Preset

LoRaConfig = config_pb2.Config.LoRaConfig
EU868_START_MHZ = 869.4
EU868_END_MHZ = 869.65

# The firmware's well-known default channel key (Channels.cpp defaultpsk); a 1-byte PSK n >= 1
# means this key with its last byte increased by n - 1, and PSK 0 means no encryption.
DEFAULT_KEY = bytes((0xD4, 0xF1, 0xBB, 0x3A, 0x20, 0x29, 0x07, 0x59,
                     0xF0, 0xBC, 0xFF, 0xAB, 0xCF, 0x4E, 0x69, 0x01))

# Display names the firmware uses for an unnamed primary channel (DisplayFormatters.cpp).
PRESET_DISPLAY_NAMES = {
    "LONG_FAST": "LongFast", "LONG_SLOW": "LongSlow", "VERY_LONG_SLOW": "VLongSlow",
    "MEDIUM_SLOW": "MediumSlow", "MEDIUM_FAST": "MediumFast", "SHORT_SLOW": "ShortSlow",
    "SHORT_FAST": "ShortFast", "LONG_MODERATE": "LongMod", "SHORT_TURBO": "ShortTurbo",
    "LONG_TURBO": "LongTurbo",
}


@dataclass(frozen=True)
class RfSetup:
    """What must match for one radio to hear another: region, frequency and LoRa parameters."""

    region: str
    frequency_mhz: float
    sf: int
    bw_hz: float
    cr: int

    @property
    def preset(self) -> Preset:
        """The PHY parameters as an airtime Preset."""
        return Preset(f"SF{self.sf}/{self.bw_hz / 1000:g}kHz/4:{self.cr}", self.sf, self.bw_hz, self.cr)


def preset_name(lora: config_pb2.Config.LoRaConfig) -> str:
    """The modem preset in effect; 500 kHz presets fall back to LONG_FAST in EU_868, as in firmware."""
    name = LoRaConfig.ModemPreset.Name(lora.modem_preset)
    if lora.region == LoRaConfig.RegionCode.EU_868 and name not in EU868_PRESETS:
        return "LONG_FAST"
    return name


def lora_parameters(lora: config_pb2.Config.LoRaConfig) -> Preset:
    """Spreading factor, bandwidth and coding rate this config transmits with."""
    if not lora.use_preset and lora.spread_factor and lora.bandwidth:
        return Preset("CUSTOM", lora.spread_factor, lora.bandwidth * 1000.0, lora.coding_rate or 5)
    name = preset_name(lora)
    if name in EU868_PRESETS:
        return EU868_PRESETS[name]
    turbo = {"SHORT_TURBO": Preset(name, 7, 500_000, 5), "LONG_TURBO": Preset(name, 11, 500_000, 8)}
    return turbo.get(name, EU868_PRESETS["LONG_FAST"])


def djb2(text: str) -> int:
    """The firmware's string hash (``hash()`` in RadioInterface.cpp), as a uint32."""
    value = 5381
    for byte in text.encode():
        value = (value * 33 + byte) & 0xFFFFFFFF
    return value


def channel_name(channel: channel_pb2.Channel, lora: config_pb2.Config.LoRaConfig) -> str:
    """The channel's name as the firmware uses it: an empty name becomes the preset's display name."""
    if channel.settings.name:
        return channel.settings.name
    if not lora.use_preset:
        return "Custom"
    return PRESET_DISPLAY_NAMES.get(preset_name(lora), "Invalid")


def rf_setup(lora: config_pb2.Config.LoRaConfig, primary: channel_pb2.Channel) -> RfSetup | None:
    """Where and how this radio transmits, or None if it may not transmit (region unset)."""
    if lora.region == LoRaConfig.RegionCode.UNSET:
        return None
    params = lora_parameters(lora)
    region = LoRaConfig.RegionCode.Name(lora.region)
    if lora.override_frequency:
        frequency = round(float(lora.override_frequency), 4)
    elif lora.region == LoRaConfig.RegionCode.EU_868:
        bw_mhz = params.bw_hz / 1e6
        slots = max(int((EU868_END_MHZ - EU868_START_MHZ) / bw_mhz + 1e-9), 1)
        slot = (lora.channel_num - 1) % slots if lora.channel_num else djb2(channel_name(primary, lora)) % slots
        frequency = round(EU868_START_MHZ + bw_mhz / 2 + slot * bw_mhz, 4)
    else:
        frequency = 0.0  # other regions: only radios of the same region meet, which is enough here
    return RfSetup(region, frequency, params.sf, params.bw_hz, params.cr)


def channel_key(channel: channel_pb2.Channel) -> bytes:
    """The AES key a channel encrypts with (empty for none), expanding 1-byte PSK shortcuts."""
    psk = channel.settings.psk
    if len(psk) == 1:
        if psk[0] == 0:
            return b""
        return DEFAULT_KEY[:-1] + bytes(((DEFAULT_KEY[-1] + psk[0] - 1) & 0xFF,))
    return bytes(psk)


def channel_identity(channel: channel_pb2.Channel, lora: config_pb2.Config.LoRaConfig) -> tuple[str, bytes]:
    """(name, key): packets sent on a channel decode only on a channel with the same identity."""
    return channel_name(channel, lora), channel_key(channel)

