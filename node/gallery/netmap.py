"""The network page's data: peers from the status beacons, placed on an inline SVG map.

``GalleryContext.peers()`` returns one dict per node heard, with the fields of
:class:`node.protocol.events.PeerStatus` plus ``last_heard`` (Unix seconds) and optionally
``hops`` and ``duty_cycle_permille`` (the limit; EU868 allows 10 %). Missing fields are shown
as unknown rather than failing the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.artwork.keys import fingerprint

VIEW_W, VIEW_H, PAD = 600, 340, 60
DEFAULT_LIMIT_PERMILLE = 100  # EU868 sub-band: 10 % duty cycle


@dataclass(frozen=True)
class PeerView:
    """One node heard, ready for the table and the map."""

    venue: str
    fingerprint: str
    lat: float | None
    lon: float | None
    last_heard: float | None
    snr: float | None
    rssi: float | None
    hops: int | None
    airtime_permille: int | None
    limit_permille: int
    works_held: int | None
    link: str
    x: float | None = None
    y: float | None = None

    @property
    def quality(self) -> str:
        """A coarse link-quality class from the SNR (LoRa decodes down to about -20 dB)."""
        if self.snr is None:
            return "unknown"
        if self.snr >= 0:
            return "good"
        return "fair" if self.snr >= -10 else "weak"

    @property
    def airtime_percent(self) -> float | None:
        """Airtime used in the last hour, percent."""
        return None if self.airtime_permille is None else self.airtime_permille / 10

    @property
    def over_limit(self) -> bool:
        """True when the node reports more airtime than its duty-cycle limit."""
        return self.airtime_permille is not None and self.airtime_permille > self.limit_permille


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _key_fingerprint(value: Any) -> str:
    if isinstance(value, bytes) and len(value) == 32:
        return fingerprint(value)
    return str(value or "?")[:40]


def peer_view(raw: Mapping[str, Any]) -> PeerView:
    """Normalise one peer dict from ``GalleryContext.peers()``."""
    lat, lon = _number(raw.get("lat")), _number(raw.get("lon"))
    if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
        lat = lon = None
    return PeerView(
        venue=str(raw.get("venue") or "?"),
        fingerprint=_key_fingerprint(raw.get("node_key")),
        lat=lat,
        lon=lon,
        last_heard=_number(raw.get("last_heard")),
        snr=_number(raw.get("snr")),
        rssi=_number(raw.get("rssi")),
        hops=_int(raw.get("hops")),
        airtime_permille=_int(raw.get("airtime_permille")),
        limit_permille=_int(raw.get("duty_cycle_permille")) or DEFAULT_LIMIT_PERMILLE,
        works_held=_int(raw.get("works_held")),
        link=str(raw.get("link") or ""),
    )


@dataclass(frozen=True)
class Point:
    """A position on the map, in SVG user units."""

    x: float
    y: float


def project(coords: list[tuple[float, float]]) -> list[Point]:
    """Place (lat, lon) pairs in the map's viewBox, north up, keeping distances' proportions."""
    if not coords:
        return []
    mean_lat = math.radians(sum(lat for lat, _ in coords) / len(coords))
    flat = [(lon * math.cos(mean_lat), -lat) for lat, lon in coords]
    min_x, max_x = min(p[0] for p in flat), max(p[0] for p in flat)
    min_y, max_y = min(p[1] for p in flat), max(p[1] for p in flat)
    span = max(max_x - min_x, (max_y - min_y) * (VIEW_W - 2 * PAD) / (VIEW_H - 2 * PAD), 1e-9)
    scale = (VIEW_W - 2 * PAD) / span
    off_x = (VIEW_W - (max_x - min_x) * scale) / 2
    off_y = (VIEW_H - (max_y - min_y) * scale) / 2
    return [Point(round(off_x + (x - min_x) * scale, 1), round(off_y + (y - min_y) * scale, 1)) for x, y in flat]


@dataclass(frozen=True)
class NetworkMap:
    """Peers with map positions, and this node's own position when known."""

    peers: list[PeerView]
    home: Point | None
    width: int = VIEW_W
    height: int = VIEW_H


def network_map(raw_peers: list[dict[str, Any]], home_lat: Any = None, home_lon: Any = None) -> NetworkMap:
    """Normalise the peers and lay out those with a position (plus this node)."""
    peers = sorted((peer_view(p) for p in raw_peers), key=lambda p: p.venue.lower())
    placed = [p for p in peers if p.lat is not None and p.lon is not None]
    home_pos = (_number(home_lat), _number(home_lon))
    coords = [(p.lat, p.lon) for p in placed if p.lat is not None and p.lon is not None]
    has_home = home_pos[0] is not None and home_pos[1] is not None
    if has_home:
        coords.append((home_pos[0] or 0.0, home_pos[1] or 0.0))
    points = project(coords)
    positions = {id(p): pt for p, pt in zip(placed, points, strict=False)}
    laid_out = [
        PeerView(**{**p.__dict__, "x": positions[id(p)].x, "y": positions[id(p)].y}) if id(p) in positions else p
        for p in peers
    ]
    return NetworkMap(laid_out, points[-1] if has_home else None)
