"""The shared LoRa channel the virtual radios transmit on.

Radios hear each other only on the same RF setup (region, frequency, LoRa parameters), so the
air keeps one :class:`simulator.channel.medium.Medium` per setup and lets it decide capture
with preamble lock, half duplex, CAD and channel utilisation, exactly as the simulator's world
and the demo do. The link model says who hears whom at what RSSI; by default the medium adds no
fading (a virtual radio on a desk should hear the same neighbours on every run), and every link
the model returns is decodable. ``fading=True`` switches the channel model's per-frame
shadowing on, with the model's decoding threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from meshtastic.protobuf import mesh_pb2

from simulator.channel.links import Neighbour, PathSet
from simulator.channel.medium import Frame, Medium
from simulator.channel.propagation import ChannelModel
from simulator.virtual_radio.links import Link, LinkModel
from simulator.virtual_radio.rf import RfSetup

TICKS = 1_000_000  # the medium counts integer microseconds of the loop's clock
FRAME_MEMORY_S = 60.0  # finished frames stay in ``Air.frames`` this long, for tests and tools


@dataclass
class AirFrame:
    """One transmission on the air."""

    sender: int
    packet: mesh_pb2.MeshPacket
    channel: tuple[str, bytes]  # (name, key) identity of the channel it was encrypted with
    rf: RfSetup
    tx_power_dbm: float
    payload_len: int  # encoded Data bytes (the 16-byte header is added for airtime)
    start: float
    end: float


class Listener(Protocol):
    """A radio as the air sees it."""

    index: int

    def rf_now(self) -> RfSetup | None:
        """The radio's current RF setup (None: not on the air)."""
        ...

    def receive_frame(self, frame: AirFrame, link: Link) -> None:
        """A frame arrived intact."""
        ...


@dataclass
class AirCounters:
    """What happened on the channel, for tests and the status table."""

    transmissions: int = 0
    receptions: int = 0
    collisions: int = 0
    half_duplex_losses: int = 0


class Cancellable(Protocol):
    """A scheduled callback (asyncio.TimerHandle fits)."""

    def cancel(self) -> None:
        """Do not run it."""
        ...


Scheduler = Callable[[float, Callable[[], None]], Cancellable]


@dataclass
class _OnAir:
    frame: AirFrame
    on_air: Frame
    links: dict[int, Link] = field(default_factory=dict)


def ticks(seconds: float) -> int:
    """Loop seconds as the medium's integer microseconds."""
    return round(seconds * TICKS)


class Air:
    """The medium of every RF setup in use; decides at each frame's end who received it."""

    def __init__(self, links: LinkModel, clock: Callable[[], float], schedule: Scheduler, *,
                 model: ChannelModel | None = None, fading: bool = False, seed: int = 1) -> None:
        self.links = links
        self.clock = clock
        self.schedule = schedule
        self.model = model or ChannelModel()
        self.fading = fading
        self.seed = seed
        self.listeners: list[Listener] = []
        self.counters = AirCounters()
        self.frames: list[AirFrame] = []  # the last minute's frames
        self._media: dict[RfSetup, Medium] = {}

    def attach(self, listener: Listener) -> None:
        """Add a radio; its ``index`` must be its position in scenario order."""
        self.listeners.append(listener)

    def medium(self, rf: RfSetup) -> Medium:
        """The channel of one RF setup (made on first use)."""
        medium = self._media.get(rf)
        if medium is None:
            threshold = None if self.fading else -math.inf  # without fading the link model decides
            medium = Medium(0, rf.preset, self.model, seed=self.seed, fading=self.fading, threshold_dbm=threshold)
            self._media[rf] = medium
        medium.ensure_nodes(len(self.listeners))
        return medium

    def transmit(self, frame: AirFrame) -> None:
        """Put ``frame`` on the air now; receptions are decided when it ends."""
        now = self.clock()
        self.frames = [f for f in self.frames if f.end > now - FRAME_MEMORY_S]
        self.frames.append(frame)
        self.counters.transmissions += 1
        paths = []
        links: dict[int, Link] = {}
        for listener in self.listeners:
            if listener.index == frame.sender or listener.rf_now() != frame.rf:
                continue
            link = self._link(frame, listener.index)
            if link is not None:
                links[listener.index] = link
                paths.append(Neighbour(listener.index, link.rssi_dbm, 0.0))
        on_air = self.medium(frame.rf).transmit(frame.sender, PathSet(paths), ticks(frame.start), ticks(frame.end))
        record = _OnAir(frame, on_air, links)
        self.schedule(max(frame.end - now, 0.0), lambda: self._finish(record))

    def is_busy_for(self, listener: Listener) -> bool:
        """Channel activity detection: does ``listener`` hear a frame on the air right now?"""
        rf = listener.rf_now()
        if rf is None or rf not in self._media:
            return False
        return self.medium(rf).cad_busy(listener.index, ticks(self.clock()))

    def utilisation_percent(self, listener: Listener) -> float:
        """``channelUtilizationPercent`` of ``listener``'s channel (0 while it is off the air)."""
        rf = listener.rf_now()
        if rf is None or rf not in self._media:
            return 0.0
        return self.medium(rf).utilisation_percent(listener.index, ticks(self.clock()))

    def _link(self, frame: AirFrame, rx: int) -> Link | None:
        return self.links.link(frame.sender, rx, frame.tx_power_dbm, frame.rf.preset)

    def _finish(self, record: _OnAir) -> None:
        frame = record.frame
        for arrival in record.on_air.arrivals:
            if arrival.lost == "half-duplex":
                self.counters.half_duplex_losses += 1
            elif arrival.lost == "collision":
                self.counters.collisions += 1
        for reception in self.medium(frame.rf).finish(record.on_air):
            listener = self.listeners[reception.receiver]
            if listener.rf_now() != frame.rf:
                continue  # it changed its setup while the frame was on the air
            self.counters.receptions += 1
            link = record.links[reception.receiver]
            if self.fading:
                link = Link(snr_db=round(self.model.snr_db(reception.power, frame.rf.preset), 2),
                            rssi_dbm=round(reception.power))
            listener.receive_frame(frame, link)
