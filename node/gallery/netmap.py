"""The network page's data: the nodes heard (from their signed status beacons) on an SVG map.

``GalleryContext.peers()`` gives :class:`~node.gallery.context.HeardPeer` records from the
daemon's bounded table. Beacons travel one hop (hop limit 0), so every peer shown was heard
directly, and a line from "you are here" to it shows that link, coloured by its quality. Anyone
can sign a beacon, so venue names are shown as text, never trusted. Labels are anchored away
from the nearer edge so they never leave the map; a scale bar and a north arrow make it a map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from node.artwork.keys import fingerprint
from node.gallery.context import HeardPeer, VenueNames

VIEW_W, VIEW_H, PAD = 600, 360, 48
METRES_PER_DEGREE = 111_320.0
SCALE_STEPS_M = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)
LABEL_GAP = 15
DUTY_LIMIT_PERMILLE = 100  # EU868 sub-band: 10 % duty cycle
PEERS_PER_PAGE = 50


@dataclass(frozen=True)
class PeerView:
    """One node heard, ready for the table and the map."""

    venue: str
    fingerprint: str
    lat: float | None
    lon: float | None
    last_heard: float
    snr: float | None
    rssi: float | None
    airtime_permille: int
    works_held: int
    link: str
    x: float | None = None
    y: float | None = None

    @property
    def label_anchor(self) -> str:
        """``start`` (label to the right) in the map's left half, else ``end``: it never clips."""
        return "start" if self.x is None or self.x < VIEW_W / 2 else "end"

    @property
    def label_x(self) -> float:
        """Where the label's anchor sits, beside the dot."""
        x = self.x or 0.0
        return x + LABEL_GAP if self.label_anchor == "start" else x - LABEL_GAP

    @property
    def quality(self) -> str:
        """A coarse link-quality class from the SNR (LoRa decodes down to about -20 dB)."""
        if self.snr is None:
            return "unknown"
        if self.snr >= 0:
            return "good"
        return "fair" if self.snr >= -10 else "weak"

    @property
    def limit_permille(self) -> int:
        """The duty-cycle limit the node's airtime is compared with."""
        return DUTY_LIMIT_PERMILLE

    @property
    def airtime_percent(self) -> float:
        """Airtime used in the last hour, percent."""
        return self.airtime_permille / 10

    @property
    def over_limit(self) -> bool:
        """True when the node reports more airtime than its duty-cycle limit."""
        return self.airtime_permille > self.limit_permille


def peer_view(peer: HeardPeer, venues: VenueNames | None = None) -> PeerView:
    """What the page shows of one peer (a position outside the globe is dropped)."""
    beacon = peer.status
    lat, lon = beacon.lat, beacon.lon
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return PeerView(
        venue=(venues or VenueNames()).name(beacon.venue) if beacon.venue else "?",
        fingerprint=fingerprint(beacon.node_key), lat=lat, lon=lon,
        last_heard=peer.heard_at, snr=beacon.snr, rssi=beacon.rssi, airtime_permille=beacon.airtime_permille,
        works_held=beacon.works_held, link=beacon.link,
    )


@dataclass(frozen=True)
class Point:
    """A position on the map, in SVG user units."""

    x: float
    y: float


def project(coords: list[tuple[float, float]]) -> list[Point]:
    """Place (lat, lon) pairs in the map's viewBox, north up, keeping distances' proportions."""
    return projection(coords)[0]


def projection(coords: list[tuple[float, float]]) -> tuple[list[Point], float]:
    """:func:`project`, and the map's scale in SVG units per metre (0 without points)."""
    if not coords:
        return [], 0.0
    mean_lat = math.radians(sum(lat for lat, _ in coords) / len(coords))
    flat = [(lon * math.cos(mean_lat), -lat) for lat, lon in coords]
    min_x, max_x = min(p[0] for p in flat), max(p[0] for p in flat)
    min_y, max_y = min(p[1] for p in flat), max(p[1] for p in flat)
    span = max(max_x - min_x, (max_y - min_y) * (VIEW_W - 2 * PAD) / (VIEW_H - 2 * PAD), 1e-9)
    scale = (VIEW_W - 2 * PAD) / span
    off_x = (VIEW_W - (max_x - min_x) * scale) / 2
    off_y = (VIEW_H - (max_y - min_y) * scale) / 2
    points = [Point(round(off_x + (x - min_x) * scale, 1), round(off_y + (y - min_y) * scale, 1)) for x, y in flat]
    return points, scale / METRES_PER_DEGREE


@dataclass(frozen=True)
class ScaleBar:
    """A round distance and its length on the map."""

    metres: int
    length: float

    @property
    def km(self) -> float | None:
        """The distance in km when it is a kilometre or more."""
        return self.metres / 1000 if self.metres >= 1000 else None


def scale_bar(units_per_metre: float, target: float = 110.0) -> ScaleBar | None:
    """The round distance whose bar is nearest ``target`` units long (None for a one-point map)."""
    if units_per_metre <= 0 or units_per_metre > 1e3:
        return None
    metres = min(SCALE_STEPS_M, key=lambda m: abs(m * units_per_metre - target))
    return ScaleBar(metres, round(metres * units_per_metre, 1))


@dataclass(frozen=True)
class NetworkMap:
    """One page of peers with map positions, and this node's own position when known."""

    peers: list[PeerView]
    home: Point | None
    scale: ScaleBar | None = None
    page: int = 1
    pages: int = 1
    total: int = 0
    width: int = VIEW_W
    height: int = VIEW_H

    @property
    def home_anchor(self) -> str:
        """Where "you are here" is written: away from the nearer side edge."""
        return "start" if self.home is None or self.home.x < VIEW_W / 2 else "end"

    @property
    def home_label_x(self) -> float:
        """The anchor of the "you are here" label."""
        x = self.home.x if self.home is not None else 0.0
        return x + LABEL_GAP + 4 if self.home_anchor == "start" else x - LABEL_GAP - 4

    @property
    def placed(self) -> list[PeerView]:
        """The peers with a position on the map."""
        return [p for p in self.peers if p.x is not None and p.y is not None]


def page_count(total: int) -> int:
    """Pages of :data:`PEERS_PER_PAGE` peers (at least one, even when empty)."""
    return max(1, math.ceil(total / PEERS_PER_PAGE))


def network_map(heard: Sequence[HeardPeer], home: tuple[float, float] | None = None, page: int = 1,
                venues: VenueNames | None = None) -> NetworkMap:
    """Page ``page`` (1-based, at most :func:`page_count`) of the peers by venue, laid out on the map.

    The map shows the same peers as the table below it, so a page stays small however many
    nodes were heard.
    """
    ordered = sorted((peer_view(p, venues) for p in heard), key=lambda p: (p.venue.casefold(), p.fingerprint))
    peers = ordered[(page - 1) * PEERS_PER_PAGE : page * PEERS_PER_PAGE]
    placed = [p for p in peers if p.lat is not None and p.lon is not None]
    coords = [(p.lat, p.lon) for p in placed if p.lat is not None and p.lon is not None]
    if home is not None:
        coords.append(home)
    points, units_per_metre = projection(coords)
    positions = {id(p): pt for p, pt in zip(placed, points, strict=False)}
    laid_out = [
        PeerView(**{**p.__dict__, "x": positions[id(p)].x, "y": positions[id(p)].y}) if id(p) in positions else p
        for p in peers
    ]
    return NetworkMap(laid_out, points[-1] if home is not None else None, scale=scale_bar(units_per_metre) if
                      len(points) > 1 else None, page=page, pages=page_count(len(ordered)), total=len(ordered))
