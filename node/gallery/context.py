"""What the daemon hands the gallery: the only coupling between the two, as typed frozen records.

The daemon (``NodeDaemon.gallery_context``) builds a :class:`GalleryContext`; the gallery reads
works from the store, and everything the store does not know from the callables here, each
answering with the records below. Times are Unix seconds (wall clock); the engine's monotonic
clock never reaches the gallery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Arrival:
    """How a work reached this node in this run of the daemon (a transfer seen from here)."""

    at: float  # Unix seconds: its manifest arrived or it was uploaded
    link: str | None  # the link it came over; None for a work uploaded or ingested here
    completed_at: float | None = None  # Unix seconds its last chunk verified
    uploaded: bool = False


@dataclass(frozen=True)
class NodeSelf:
    """This node: what the header, the map's "you are here" and the about page show."""

    name: str
    venue: str  # the venue's display name (never a raw profile id)
    fingerprint: str
    position: tuple[float, float] | None  # (lat, lon)


@dataclass(frozen=True)
class VenueNames:
    """Venue display names by id, from the venue radio profiles and the signed beacons heard."""

    labels: Mapping[str, str] = field(default_factory=dict)

    def name(self, raw: str) -> str:
        """The display name for a venue id or name (``oba`` -> ``OBA Oosterdok``); unknown text as is."""
        return self.labels.get(raw.strip().casefold(), raw)


@dataclass(frozen=True)
class GalleryContext:
    """Dependencies of the gallery app.

    ``ingest`` verifies and stores an uploaded bundle (raising ``VerificationError`` or
    ``StoreError`` with a clear message) and returns the work id; the daemon routes it through
    the engine so the work is also advertised on the mesh. ``peers`` gives the nodes heard (a
    bounded table), ``arrival`` how a work came here, ``venues`` the venue names known now.
    """

    store: WorkStore
    trust: TrustAnchors
    events: EventHub
    ingest: Callable[[bytes], Awaitable[bytes]]
    node: NodeSelf
    peers: Callable[[], Sequence[HeardPeer]] = lambda: ()
    arrival: Callable[[bytes], Arrival | None] = lambda work_id: None
    venues: Callable[[], VenueNames] = VenueNames
    upload_limit_bytes: int = 512 * 1024
    client_limits: ClientLimits = field(default_factory=ClientLimits)
    channel_qr_svg: str | None = None
    trusted_curators: tuple[str, ...] = ()  # fingerprints of the curator keys this node trusts
    # Where captive-portal answers send phones, e.g. "http://10.42.0.1/" (the node's own address,
    # since any host name resolves to it on the gallery Wi-Fi); "/" keeps the host the phone asked.
    gallery_url: str = "/"
