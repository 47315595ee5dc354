"""Who hears whom, with what SNR and RSSI: the link model behind the virtual radios.

The radios only ask :class:`LinkModel` one question. :class:`PhyLinks` answers it with the
simulator's channel model (``simulator.channel``), :class:`TableLinks` with an explicit table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from node.lora import Preset
from simulator.channel.propagation import ChannelModel, distance_m


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


class TableLinks:
    """An explicit link table: ``links[(tx, rx)] = Link``; absent pairs do not hear each other."""

    def __init__(self, links: dict[tuple[int, int], Link]) -> None:
        self.links = dict(links)

    def link(self, tx: int, rx: int, tx_power_dbm: float, preset: Preset) -> Link | None:
        """The table entry; the power and preset are already accounted for in the table."""
        return self.links.get((tx, rx))


class PhyLinks:
    """The channel model's link budget (``simulator.channel.propagation``), median path loss per link.

    Shadowing is the air's switch (``Air(fading=...)``), not the link's.
    """

    def __init__(self, sites: Sequence[Site], model: ChannelModel | None = None) -> None:
        self.sites = list(sites)
        self.model = model or ChannelModel()

    def link(self, tx: int, rx: int, tx_power_dbm: float, preset: Preset) -> Link | None:
        """Median received power from the channel model; None below its decoding threshold."""
        if tx == rx:
            return None
        a, b = self.sites[tx], self.sites[rx]
        distance = distance_m(a.lat, a.lon, b.lat, b.lon)
        rx_dbm = self.model.mean_rx_dbm(distance, a.height_m, b.height_m) - (self.model.tx_power_dbm - tx_power_dbm)
        if rx_dbm < self.model.rx_threshold_dbm(preset):
            return None
        return Link(snr_db=round(self.model.snr_db(rx_dbm, preset), 2), rssi_dbm=round(rx_dbm))


def link_model_for(sites: Sequence[Site]) -> LinkModel:
    """The link model the virtual radios use: the channel model's link budget."""
    return PhyLinks(sites)
