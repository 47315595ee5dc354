"""LoRa propagation: link budgets, sensitivity and the demodulator floors.

Time on air and the preset table come from :mod:`node.lora` (one formula for the
engine's ledger and the simulator). Everything else here is the channel model, with its
defaults taken from published LoRa simulators (see ``docs/simulator.md`` for the citations):

* path loss: log-distance ``PL(d) = PL(d0) + 10·γ·log10(d/d0)`` with LoRaSim/FLoRa's
  d0 = 40 m, PL(d0) = 127.41 dB, γ = 2.08, and log-normal shadowing σ = 3.57 dB drawn per
  frame and receiver, as FLoRa's ``LoRaLogNormalShadowing`` does;
* antenna height: those figures were measured near the ground, so each end above ``h_ref``
  (1.5 m) adds ``height_gain_db_per_decade · log10(h / h_ref)`` dB (10 dB per decade, i.e.
  3 dB per doubling: half the 6 dB/doubling of the two-ray far field, because city rooftops
  are rarely in clear line of sight);
* sensitivity: Semtech SX1272/73 datasheet table 10 (the table FLoRa and ns-3 use; the SX1262
  datasheet gives the same BW125 figures), and the demodulator SNR floor per SF from the
  SX1276 datasheet, against a noise floor of −174 + 10·log10(BW) + NF (6 dB);
* capture (``capture_db``, used by :mod:`simulator.channel.medium`): LoRaSim's 6 dB co-SF threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from node.lora import (
    EU868_DUTY_CYCLE,
    EU868_MAX_TX_DBM,
    EU868_PRESETS,
    MESHTASTIC_HEADER,
    MESHTASTIC_PREAMBLE,
    NOT_IN_EU868,
    Preset,
    preset,
    time_on_air,
)

__all__ = [
    "EU868_DUTY_CYCLE",
    "EU868_MAX_TX_DBM",
    "EU868_PRESETS",
    "MESHTASTIC_HEADER",
    "MESHTASTIC_PREAMBLE",
    "NOT_IN_EU868",
    "ChannelModel",
    "Preset",
    "distance_m",
    "noise_floor_dbm",
    "preset",
    "sensitivity_dbm",
    "snr_floor_db",
    "symbol_time",
    "time_on_air",
]

# Semtech SX1272/73 datasheet table 10 (FLoRa LoRaReceiver.cc, ns-3 end-device-lora-phy.cc), dBm.
_SENSITIVITY: dict[int, dict[int, float]] = {
    125_000: {7: -124, 8: -127, 9: -130, 10: -133, 11: -135, 12: -137},
    250_000: {7: -122, 8: -125, 9: -128, 10: -130, 11: -132, 12: -135},
    500_000: {7: -116, 8: -119, 9: -122, 10: -125, 11: -128, 12: -129},
}
# Required demodulator SNR per spreading factor (SX1276 datasheet), dB.
_SNR_FLOOR: dict[int, float] = {6: -5.0, 7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}

EARTH_RADIUS_M = 6_371_000.0


def sensitivity_dbm(sf: int, bw_hz: float) -> float:
    """Datasheet sensitivity for a spreading factor and bandwidth."""
    try:
        return float(_SENSITIVITY[int(bw_hz)][sf])
    except KeyError:
        raise ValueError(f"no sensitivity figure for SF{sf}/BW{bw_hz / 1000:g} kHz") from None


def snr_floor_db(sf: int) -> float:
    """Lowest SNR at which the LoRa demodulator still decodes this spreading factor."""
    return _SNR_FLOOR[sf]


def noise_floor_dbm(bw_hz: float, noise_figure_db: float = 6.0) -> float:
    """Thermal noise in the channel bandwidth plus the receiver noise figure."""
    return -174.0 + 10.0 * math.log10(bw_hz) + noise_figure_db


def symbol_time(p: Preset) -> float:
    """Seconds per LoRa symbol."""
    return float(2**p.sf) / p.bw_hz


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class ChannelModel:
    """Parameters of the propagation and reception model (all documented in docs/simulator.md)."""

    d0_m: float = 40.0  # LoRaSim / FLoRa reference distance
    pl_d0_db: float = 127.41  # LoRaSim / FLoRa path loss at d0
    gamma: float = 2.08  # LoRaSim / FLoRa path-loss exponent
    shadowing_sigma_db: float = 3.57  # FLoRa's σ "taken from paper LoRaSim", drawn per frame
    h_ref_m: float = 1.5  # height the reference figures were measured at
    height_gain_db_per_decade: float = 10.0
    antenna_gain_dbi: float = 0.0  # per end; 27 dBm is the EU_868 radiated limit already
    tx_power_dbm: float = EU868_MAX_TX_DBM
    noise_figure_db: float = 6.0
    capture_db: float = 6.0  # LoRaSim powerThreshold; Goursaud co-SF isolation in ns-3
    usable_margin_sigmas: float = 1.2816  # mean ≥ threshold + 1.28σ: ≥ 90 % of frames decodable
    min_distance_m: float = 10.0

    def __post_init__(self) -> None:
        if self.tx_power_dbm > EU868_MAX_TX_DBM:
            raise ValueError(f"tx power {self.tx_power_dbm} dBm exceeds the EU_868 limit of {EU868_MAX_TX_DBM} dBm")

    def path_loss_db(self, d_m: float) -> float:
        """Median log-distance path loss (no shadowing)."""
        d = max(d_m, self.min_distance_m)
        return self.pl_d0_db + 10.0 * self.gamma * math.log10(d / self.d0_m)

    def height_gain_db(self, antenna_m: float) -> float:
        """Gain of one antenna mounted above the reference height."""
        if antenna_m <= self.h_ref_m:
            return 0.0
        return self.height_gain_db_per_decade * math.log10(antenna_m / self.h_ref_m)

    def mean_rx_dbm(self, d_m: float, tx_antenna_m: float, rx_antenna_m: float) -> float:
        """Median received power of a link, before shadowing."""
        return (
            self.tx_power_dbm
            + 2 * self.antenna_gain_dbi
            + self.height_gain_db(tx_antenna_m)
            + self.height_gain_db(rx_antenna_m)
            - self.path_loss_db(d_m)
        )

    def rx_threshold_dbm(self, p: Preset) -> float:
        """Weakest decodable signal: datasheet sensitivity or the SNR floor, whichever is higher."""
        by_snr = noise_floor_dbm(p.bw_hz, self.noise_figure_db) + snr_floor_db(p.sf)
        if int(p.bw_hz) not in _SENSITIVITY:  # a custom bandwidth without a datasheet row: the SNR floor
            return by_snr
        return max(sensitivity_dbm(p.sf, p.bw_hz), by_snr)

    def usable_threshold_dbm(self, p: Preset) -> float:
        """Mean received power above which a link counts as usable (for hop counts and the bound)."""
        return self.rx_threshold_dbm(p) + self.usable_margin_sigmas * self.shadowing_sigma_db

    def snr_db(self, rx_dbm: float, p: Preset) -> float:
        """SNR of a signal against the noise floor alone."""
        return rx_dbm - noise_floor_dbm(p.bw_hz, self.noise_figure_db)
