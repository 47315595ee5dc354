"""What the daemon hands the gallery: the only coupling between the two."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.artwork.endorsement import TrustAnchors
from node.eventhub import EventHub
from node.gallery.clients import ClientLimits
from node.protocol.events import PeerStatus
from node.store.base import WorkStore


@dataclass(frozen=True)
class HeardPeer:
    """A node whose signed status beacon this node heard: the latest one, when, and how often."""

    status: PeerStatus
    heard_at: float  # Unix seconds
    beacons: int = 1  # fresh beacons heard from this key since it entered the daemon's table


@dataclass
class GalleryContext:
    """Dependencies of the gallery app.

    ``ingest`` verifies and stores an uploaded bundle (raising ``VerificationError`` or
    ``StoreError`` with a clear message) and returns the work id; the daemon routes it through
    the engine so the work is also advertised on the mesh. ``status`` returns the JSON-able
    node status (also served at /api/status); ``peers`` the nodes heard (a bounded table);
    ``metrics_text`` the Prometheus exposition for /metrics.
    """

    store: WorkStore
    trust: TrustAnchors
    events: EventHub
    ingest: Callable[[bytes], Awaitable[bytes]]
    status: Callable[[], dict[str, Any]]
    peers: Callable[[], Sequence[HeardPeer]] = field(default=lambda: ())
    metrics_text: Callable[[], str] = field(default=lambda: "")
    node_name: str = "Mesh Art Node"
    venue: str = ""
    position: tuple[float, float] | None = None  # this node's (lat, lon), for the network map
    upload_limit_bytes: int = 512 * 1024
    client_limits: ClientLimits = field(default_factory=ClientLimits)
    channel_qr_svg: str | None = None
    arrivals: dict[bytes, dict[str, Any]] = field(default_factory=dict)  # work id -> link, time, hops
    # Where captive-portal answers send phones, e.g. "http://10.42.0.1/" (the node's own address,
    # since any host name resolves to it on the gallery Wi-Fi); "/" keeps the host the phone asked.
    gallery_url: str = "/"
