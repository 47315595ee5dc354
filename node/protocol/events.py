"""Events the engine gives out, and the receive metadata it takes in.

Drivers read them with ``GossipEngine.next_event()`` until it returns None; the gallery turns
them into Server-Sent Events, the simulator into metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.protocol.drops import DropReason


@dataclass(frozen=True)
class RxInfo:
    """What the transport knows about a received frame."""

    sender: str | None = None  # transport-level sender id, e.g. "!0badcafe" or an MQTT client id
    snr: float | None = None
    rssi: float | None = None


@dataclass(frozen=True)
class ManifestReceived:
    """A new verified manifest was stored (the work is known, chunks may follow)."""

    work_id: bytes
    link: str | None


@dataclass(frozen=True)
class ChunkReceived:
    """A verified chunk was stored."""

    work_id: bytes
    index: int
    have: int
    total: int
    link: str | None


@dataclass(frozen=True)
class WorkCompleted:
    """Every chunk of a work is stored and the whole content verified."""

    work_id: bytes
    link: str | None


@dataclass(frozen=True)
class WorkTakenDown:
    """A verified curator takedown removed a work."""

    work_id: bytes


@dataclass(frozen=True)
class PeerStatus:
    """A verified node status beacon was heard."""

    node_key: bytes
    venue: str
    lat: float | None
    lon: float | None
    version: str
    uptime_s: int
    airtime_permille: int
    works_held: int
    link: str
    snr: float | None
    rssi: float | None


@dataclass(frozen=True)
class FrameDropped:
    """A received frame was rejected; ``reason`` names its counter."""

    reason: DropReason
    link: str


Event = ManifestReceived | ChunkReceived | WorkCompleted | WorkTakenDown | PeerStatus | FrameDropped
