"""The node-agent protocol the simulator drives.

Both the real :class:`node.protocol.GossipEngine` and the flooding baseline satisfy it: the
simulator hands received frames in, asks for a frame whenever the radio may transmit, reports
duty-cycle refusals, and wakes the agent at the time its timer asks for. ``now`` is seconds of
virtual time. An agent may also offer ``channel_busy(now)``: the world then calls it instead of
drawing its own CSMA wait when carrier sense finds the channel busy (the flood redraws its relay
timer there, as the firmware does).
"""

from __future__ import annotations

from typing import Protocol

from node.protocol.events import RxInfo

LORA_LINK = "lora"


class NodeAgent(Protocol):
    """What a simulated node's protocol logic must offer."""

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """A frame was decoded on ``link``."""

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """The radio may transmit now: the next frame, or None."""

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """The frame just polled was refused (duty cycle) and not sent."""

    def get_timer(self) -> float | None:
        """Earliest time at which handle_timer or poll_frame has work, or None."""

    def handle_timer(self, now: float) -> None:
        """Run whatever is due at ``now``."""


def inband_header_bytes(agent: object) -> int:
    """Bytes at the front of the agent's frames that stand for Meshtastic's own 16-byte header.

    The flooding baseline carries (from, id, hop limit) in its frames because it *is* the
    Meshtastic router; those bytes live in the header the airtime already counts, so they are
    not counted twice.
    """
    value = getattr(agent, "INBAND_HEADER_BYTES", 0)
    return int(value)
