"""Venue display names for the gallery: from the venue radio profiles and the beacons heard.

Manifests name their venue of origin by profile id (``oba``); visitors expect the venue's
name (``OBA Oosterdok``). The profiles in ``firmware_config/profiles`` map the one to the other;
a signed beacon carries its node's venue name, so a beacon's own text is a name as well.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from firmware_config.profile import PROFILE_DIR, ProfileError, load_profile
from node.gallery.context import HeardPeer, VenueNames

log = logging.getLogger("node.daemon.venues")


@cache
def profile_labels(directory: Path = PROFILE_DIR) -> dict[str, str]:
    """Venue id (case-folded) -> label of every venue profile in ``directory`` (read once)."""
    labels: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            block = load_profile(str(path)).mesh_art
        except (ProfileError, OSError, ValueError) as exc:
            log.warning("venue profile unreadable path=%s error=%s", path, exc)
            continue
        venue, label = block.get("venue"), block.get("label")
        if isinstance(venue, str) and isinstance(label, str) and venue and label:
            labels[venue.casefold()] = label
    return labels


def venue_names(peers: Iterable[HeardPeer]) -> VenueNames:
    """Names from the profiles and the beacons of ``peers``.

    A beacon names its venue itself; when that text is a known profile id the profile's label
    wins, so a node configured with ``venue = "oba"`` still shows as "OBA Oosterdok".
    """
    labels = dict(profile_labels())
    for peer in peers:
        venue = peer.status.venue.strip()
        if venue and venue.casefold() not in labels:
            labels[venue.casefold()] = venue
    return VenueNames(labels)
