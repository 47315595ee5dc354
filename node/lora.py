"""LoRa time on air (Semtech AN1200.13), Meshtastic modem presets and on-air packet sizes.

The ground floor every package may import: the engine's duty-cycle ledger, the simulator, the
demo's air, the virtual radio, the LP bound and ``publish``'s cost lines all count airtime here,
so they count exactly the same seconds.

A Meshtastic packet on air is its 16-byte header (fw ``RadioInterface.h``
``MESHTASTIC_HEADER_LENGTH``) followed by the channel-encrypted ``Data`` protobuf (AES-CTR adds
no bytes, fw ``CryptoEngine::encryptAESCtr``). For a packet a node originates the firmware always
sets ``decoded.has_bitfield`` (fw ``Router::perhapsEncode`` / ``MeshService``), so the ``Data``
envelope around an application payload is: ``portnum`` (tag + varint), ``payload`` (tag +
length varint + bytes) and ``bitfield`` (tag + one varint byte). A full 231-byte PRIVATE_APP
payload is therefore 16 + 239 = 255 bytes, fw ``MAX_LORA_PAYLOAD_LEN``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MESHTASTIC_HEADER = 16
MAX_LORA_PAYLOAD = 255  # fw RadioInterface.h MAX_LORA_PAYLOAD_LEN
PRIVATE_APP = 256
MAX_APP_PAYLOAD = 231  # the largest PRIVATE_APP payload the firmware sends (255 - 16 - envelope)
MESHTASTIC_PREAMBLE = 16
XEDDSA_SIGNATURE_FIELD = 66  # fw develop (2.8) CryptoEngine.h XEDDSA_SIGNATURE_FIELD_BYTES: 64 bytes + tag + length
EU868_DUTY_CYCLE = 0.10
EU868_MAX_TX_DBM = 27.0


def _varint_len(value: int) -> int:
    length = 1
    while value >= 0x80:
        value >>= 7
        length += 1
    return length


def data_envelope_bytes(payload_len: int, portnum: int = PRIVATE_APP) -> int:
    """Bytes of the encoded ``Data`` protobuf that carries ``payload_len`` application bytes.

    Field 1 ``portnum`` (omitted for 0), field 2 ``payload`` (omitted when empty) and field 9
    ``bitfield``, which the firmware sets on every packet it originates.
    """
    if payload_len < 0:
        raise ValueError(f"payload length {payload_len} is negative")
    size = 2  # bitfield: tag 0x48 and one varint byte
    if portnum:
        size += 1 + _varint_len(portnum)
    if payload_len:
        size += 1 + _varint_len(payload_len) + payload_len
    return size


def onair_bytes(payload_len: int, portnum: int = PRIVATE_APP, signed_broadcast: bool = False) -> int:
    """LoRa payload bytes of a Meshtastic packet carrying ``payload_len`` application bytes.

    ``signed_broadcast``: the sender runs firmware 2.8, which adds a 64-byte XEdDSA signature to
    a broadcast whose ``Data`` still fits the LoRa frame with it (fw develop ``Router.cpp``
    ``perhapsEncode`` / ``signedDataFits``): 66 more bytes for a PRIVATE_APP payload of 165 bytes
    or less. Raises ValueError when the packet would not fit one LoRa frame (the firmware's TOO_LARGE).
    """
    size = MESHTASTIC_HEADER + data_envelope_bytes(payload_len, portnum)
    if size > MAX_LORA_PAYLOAD:
        raise ValueError(f"a {payload_len}-byte payload on port {portnum} is {size} bytes on air, "
                         f"over the {MAX_LORA_PAYLOAD}-byte LoRa limit")
    if signed_broadcast and size + XEDDSA_SIGNATURE_FIELD <= MAX_LORA_PAYLOAD:
        size += XEDDSA_SIGNATURE_FIELD
    return size


def time_on_air(
    payload_bytes: int,
    sf: int,
    bw_hz: float,
    cr: int,
    preamble: int = 16,
    explicit_header: bool = True,
    crc: bool = True,
    low_data_rate_opt: bool | None = None,
) -> float:
    """Seconds a LoRa packet of ``payload_bytes`` occupies the channel.

    ``cr`` is the coding-rate denominator (5..8 for 4/5..4/8). Low-data-rate optimisation
    switches on by itself when a symbol lasts 16 ms or more, unless given explicitly.
    """
    if not 6 <= sf <= 12:
        raise ValueError(f"spreading factor {sf} outside 6..12")
    if not 5 <= cr <= 8:
        raise ValueError(f"coding rate denominator {cr} outside 5..8")
    if payload_bytes < 0 or payload_bytes > 255:
        raise ValueError(f"LoRa payload {payload_bytes} outside 0..255")
    t_sym = (2**sf) / bw_hz
    if low_data_rate_opt is None:
        low_data_rate_opt = t_sym >= 0.016
    de = 1 if low_data_rate_opt else 0
    ih = 0 if explicit_header else 1
    crc_on = 1 if crc else 0
    t_preamble = (preamble + 4.25) * t_sym
    num = 8 * payload_bytes - 4 * sf + 28 + 16 * crc_on - 20 * ih
    den = 4 * (sf - 2 * de)
    n_payload = 8 + max(math.ceil(num / den) * cr, 0)
    return t_preamble + n_payload * t_sym


@dataclass(frozen=True)
class Preset:
    """A Meshtastic modem preset's PHY parameters."""

    name: str
    sf: int
    bw_hz: float
    cr: int

    def airtime(self, lora_payload_bytes: int) -> float:
        """Seconds on air for a LoRa frame of ``lora_payload_bytes`` (Meshtastic header included)."""
        return time_on_air(lora_payload_bytes, self.sf, self.bw_hz, self.cr, preamble=MESHTASTIC_PREAMBLE)

    def frame_airtime(self, app_payload_bytes: int, portnum: int = PRIVATE_APP,
                      signed_broadcast: bool = False) -> float:
        """Seconds on air for a Meshtastic packet carrying ``app_payload_bytes`` on ``portnum``
        (``signed_broadcast``: as firmware 2.8 sends a broadcast, see :func:`onair_bytes`)."""
        return self.airtime(onair_bytes(app_payload_bytes, portnum, signed_broadcast))

    @property
    def snr_floor_db(self) -> float:
        """The lowest SNR the modem still demodulates at this spreading factor (Semtech SX1276
        datasheet table 13: -7.5 dB at SF7, 2.5 dB lower per step)."""
        return -7.5 - 2.5 * (self.sf - 7)

    @property
    def slot_time(self) -> float:
        """Meshtastic's CSMA slot (computeSlotTimeMsec), in seconds."""
        return (2.5 * (2**self.sf) / (self.bw_hz / 1000.0) + 7.6) / 1000.0


# Presets EU_868 allows (firmware MeshRadio.h modemPresetToParams; 500 kHz ones excluded).
EU868_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("LONG_FAST", 11, 250_000, 5),
        Preset("LONG_SLOW", 12, 125_000, 8),
        Preset("LONG_MODERATE", 11, 125_000, 8),
        Preset("MEDIUM_SLOW", 10, 250_000, 5),
        Preset("MEDIUM_FAST", 9, 250_000, 5),
        Preset("SHORT_SLOW", 8, 250_000, 5),
        Preset("SHORT_FAST", 7, 250_000, 5),
    )
}
NOT_IN_EU868 = ("SHORT_TURBO", "LONG_TURBO")


def preset(name: str) -> Preset:
    """Look up an EU_868 preset by name (case-insensitive)."""
    key = name.upper().replace("-", "_")
    if key in EU868_PRESETS:
        return EU868_PRESETS[key]
    if key in NOT_IN_EU868:
        raise ValueError(f"preset {key} uses 500 kHz and is not allowed in EU_868")
    raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(EU868_PRESETS)}")
