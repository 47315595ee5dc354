"""LoRa time on air (Semtech AN1200.13) and the Meshtastic modem presets.

Pure arithmetic, shared by the engine's airtime ledger and the simulator's PHY so both count
exactly the same seconds. Meshtastic transmits ``payload + 16`` header bytes with a 16-symbol
preamble, explicit header and CRC (reference/meshtastic.md §1, §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MESHTASTIC_HEADER = 16
MESHTASTIC_PREAMBLE = 16
EU868_DUTY_CYCLE = 0.10
EU868_MAX_TX_DBM = 27.0


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

    def frame_airtime(self, app_payload_bytes: int) -> float:
        """Seconds on air for a Meshtastic frame carrying ``app_payload_bytes``."""
        return time_on_air(app_payload_bytes + MESHTASTIC_HEADER, self.sf, self.bw_hz, self.cr,
                           preamble=MESHTASTIC_PREAMBLE)

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
