"""Who hears whom, with what SNR and RSSI: the channel model behind the virtual radios.

The radios only ask :class:`LinkModel` one question, so a better PHY (the simulator's
``simulator.phy``) can replace the small log-distance model here by wrapping it in one class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from node.lora import Preset

CARRIER_HZ = 869.525e6
SPEED_OF_LIGHT = 299_792_458.0
NOISE_FIGURE_DB = 6.0
# Minimum SNR at which LoRa still demodulates, by spreading factor (Semtech SX1276 datasheet,
# table 13 "LoRa receiver sensitivity"; the same figures Meshtastic's SNR_MIN scale assumes).
DEMOD_SNR_FLOOR_DB = {6: -5.0, 7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}


@dataclass(frozen=True)
class Site:
    """Where one radio stands."""

    name: str
    lat: float
    lon: float
    height_m: float = 10.0


@dataclass(frozen=True)
class Link:
    """A received signal's quality."""

    snr_db: float
    rssi_dbm: float


class LinkModel(Protocol):
    """The question the virtual radios ask the channel model."""

    def link(self, tx: int, rx: int, tx_power_dbm: float, preset: Preset) -> Link | None:
        """The signal radio ``rx`` receives from ``tx`` (indices in scenario order), or None if too weak."""
        ...


def noise_floor_dbm(bw_hz: float) -> float:
    """Thermal noise plus receiver noise figure over the channel bandwidth."""
    return -174.0 + 10.0 * math.log10(bw_hz) + NOISE_FIGURE_DB


def distance_m(a: Site, b: Site) -> float:
    """Great-circle distance (haversine) between two sites, in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


class PathLossLinks:
    """Log-distance path loss between fixed sites (free space up to 1 m, exponent beyond)."""

    def __init__(self, sites: Sequence[Site], exponent: float = 3.0, antenna_gain_dbi: float = 2.0) -> None:
        self.sites = list(sites)
        self.exponent = exponent
        self.antenna_gain_dbi = antenna_gain_dbi

    def path_loss_db(self, tx: int, rx: int) -> float:
        """Path loss between two sites in dB."""
        d = max(distance_m(self.sites[tx], self.sites[rx]), 1.0)
        fspl_1m = 20.0 * math.log10(4 * math.pi * CARRIER_HZ / SPEED_OF_LIGHT)
        return fspl_1m + 10.0 * self.exponent * math.log10(d)

    def link(self, tx: int, rx: int, tx_power_dbm: float, preset: Preset) -> Link | None:
        """RSSI from the link budget, SNR against the noise floor, None below the demodulation floor."""
        if tx == rx:
            return None
        rssi = tx_power_dbm + 2 * self.antenna_gain_dbi - self.path_loss_db(tx, rx)
        snr = rssi - noise_floor_dbm(preset.bw_hz)
        if snr < DEMOD_SNR_FLOOR_DB.get(preset.sf, -20.0):
            return None
        return Link(snr_db=round(snr, 2), rssi_dbm=round(rssi))


class TableLinks:
    """An explicit link table: ``links[(tx, rx)] = Link``; absent pairs do not hear each other."""

    def __init__(self, links: dict[tuple[int, int], Link]) -> None:
        self.links = dict(links)

    def link(self, tx: int, rx: int, tx_power_dbm: float, preset: Preset) -> Link | None:
        """The table entry; the power and preset are already accounted for in the table."""
        return self.links.get((tx, rx))


class PhyLinks:
    """The simulator's channel model (``simulator.phy.ChannelModel``), median path loss per link.

    Shadowing is left out: a virtual radio on a desk should hear the same neighbours on every run.
    """

    def __init__(self, sites: Sequence[Site]) -> None:
        from simulator import phy  # the simulator's PHY; imported here so this module stands alone

        self.sites = list(sites)
        self._phy = phy
        self.model = phy.ChannelModel()

    def link(self, tx: int, rx: int, tx_power_dbm: float, preset: Preset) -> Link | None:
        """Median received power from the PHY model; None below its decoding threshold."""
        if tx == rx:
            return None
        a, b = self.sites[tx], self.sites[rx]
        distance = self._phy.distance_m(a.lat, a.lon, b.lat, b.lon)
        rx_dbm = self.model.mean_rx_dbm(distance, a.height_m, b.height_m) - (self.model.tx_power_dbm - tx_power_dbm)
        try:
            threshold = self.model.rx_threshold_dbm(preset)
        except ValueError:  # no datasheet figure for this bandwidth: fall back to the SNR floor
            threshold = noise_floor_dbm(preset.bw_hz) + DEMOD_SNR_FLOOR_DB.get(preset.sf, -20.0)
        if rx_dbm < threshold:
            return None
        return Link(snr_db=round(self.model.snr_db(rx_dbm, preset), 2), rssi_dbm=round(rx_dbm))


def link_model_for(sites: Sequence[Site]) -> LinkModel:
    """The channel model the virtual radios use: the simulator's PHY, else the local path-loss model."""
    try:
        return PhyLinks(sites)
    except ImportError:
        return PathLossLinks(sites)
