"""The shared LoRa channel the virtual radios transmit on.

A frame occupies the air from its start for its time on air. When it ends, every radio on the
same RF setup that the link model lets hear it receives it, unless the receiver was itself
transmitting (half duplex) or another audible frame overlapped it without being at least
``capture_db`` weaker (collision; LoRa's capture effect lets the clearly stronger one through).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from meshtastic.protobuf import mesh_pb2

from simulator.virtual_radio.links import Link, LinkModel
from simulator.virtual_radio.rf import RfSetup

CAPTURE_DB = 6.0
FRAME_MEMORY_S = 60.0  # how long finished frames are kept for overlap checks


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


class Air:
    """The medium: remembers frames, decides at each frame's end who received it."""

    def __init__(self, links: LinkModel, clock: Callable[[], float], schedule: Scheduler,
                 capture_db: float = CAPTURE_DB) -> None:
        self.links = links
        self.clock = clock
        self.schedule = schedule
        self.capture_db = capture_db
        self.listeners: list[Listener] = []
        self.frames: list[AirFrame] = []
        self.counters = AirCounters()

    def attach(self, listener: Listener) -> None:
        """Add a radio; its ``index`` must be its position in scenario order."""
        self.listeners.append(listener)

    def transmit(self, frame: AirFrame) -> None:
        """Put ``frame`` on the air now; receptions are decided when it ends."""
        now = self.clock()
        self.frames = [f for f in self.frames if f.end > now - FRAME_MEMORY_S]
        self.frames.append(frame)
        self.counters.transmissions += 1
        self.schedule(max(frame.end - now, 0.0), lambda: self._finish(frame))

    def is_busy_for(self, listener: Listener) -> bool:
        """Channel activity detection: does ``listener`` hear a frame on the air right now?"""
        now = self.clock()
        rf = listener.rf_now()
        for frame in self.frames:
            if frame.start <= now < frame.end and frame.rf == rf and frame.sender != listener.index \
                    and self._link(frame, listener.index) is not None:
                return True
        return False

    def _link(self, frame: AirFrame, rx: int) -> Link | None:
        return self.links.link(frame.sender, rx, frame.tx_power_dbm, frame.rf.preset)

    def _finish(self, frame: AirFrame) -> None:
        for listener in self.listeners:
            if listener.index == frame.sender or listener.rf_now() != frame.rf:
                continue
            link = self._link(frame, listener.index)
            if link is None:
                continue
            if self._was_transmitting(listener.index, frame):
                self.counters.half_duplex_losses += 1
                continue
            if self._collided(frame, link, listener.index):
                self.counters.collisions += 1
                continue
            self.counters.receptions += 1
            listener.receive_frame(frame, link)

    def _was_transmitting(self, rx: int, frame: AirFrame) -> bool:
        return any(f.sender == rx and f.start < frame.end and frame.start < f.end for f in self.frames)

    def _collided(self, frame: AirFrame, link: Link, rx: int) -> bool:
        for other in self.frames:
            if other is frame or other.sender == rx or other.rf != frame.rf:
                continue
            if not (other.start < frame.end and frame.start < other.end):
                continue
            other_link = self._link(other, rx)
            if other_link is not None and link.rssi_dbm - other_link.rssi_dbm < self.capture_db:
                return True
        return False
