"""The typed agent protocol through which drivers hold an engine.

The daemon's :class:`~node.daemon.driver.EngineDriver`, the simulator and the demo talk to the
engine only through :class:`GossipAgent`; :class:`~node.protocol.engine.GossipEngine` is the
one implementation. Every method that changes state takes ``now`` (seconds on the driver's
monotonic clock); afterwards the driver polls frames, drains events and re-arms its timer.
"""

from __future__ import annotations

from typing import Protocol

from node.artwork.bundle import Bundle
from node.artwork.revocation import Revocation
from node.artwork.takedown import Takedown
from node.protocol.config import EngineStatus
from node.protocol.events import Event, RxInfo


class GossipAgent(Protocol):
    """What a driver may ask of a gossip engine."""

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """A frame was received on ``link``; never raises for bad input."""

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """``link`` may transmit now: the next frame, or None."""

    def frames_to_send(self, now: float) -> list[tuple[str, bytes]]:
        """Every (link, frame) that may go now."""

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """The transport refused the frame just polled (duty cycle)."""

    def note_channel_load(self, link: str, utilisation: float, now: float) -> None:
        """The radio on ``link`` measured this busy fraction (0..1) of its channel."""

    def set_link_preset(self, link: str, preset: str, now: float) -> None:
        """The LoRa radio on ``link`` now runs ``preset``."""

    def note_radio_metrics(self, link: str, channel_utilization: float | None, air_util_tx: float | None,
                           now: float) -> None:
        """The radio's own device metrics, in percent."""

    def get_timer(self) -> float | None:
        """The earliest time :meth:`handle_timer` or :meth:`poll_frame` has work; no side effects."""

    def handle_timer(self, now: float) -> None:
        """Run whatever is due at ``now``."""

    def next_event(self) -> Event | None:
        """The oldest undelivered event, or None."""

    def ingest_bundle(self, bundle: Bundle, now: float) -> bytes:
        """Store and advertise a verified local bundle; its work id."""

    def apply_takedown(self, takedown: Takedown, now: float) -> None:
        """Apply and spread a local curator takedown."""

    def apply_revocation(self, revocation: Revocation, now: float) -> None:
        """Apply and spread a local curator revocation."""

    def set_trusted_time(self, wall_s: float | None, now: float) -> None:
        """The driver's clock is trustworthy: ``wall_s`` is the Unix time at ``now`` (None: not any more)."""

    def status(self, now: float) -> EngineStatus:
        """A snapshot of the engine's counters."""
