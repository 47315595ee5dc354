"""Which signing keys a node still accepts new works from: revocations and expired endorsements.

The :class:`KeyPolicy` component owns the trusted wall-clock offset. The engine stays
clock-free: a driver whose clock is trustworthy (NTP-synchronised, or GPS time from the radio)
passes the wall time it trusts together with ``now`` (:meth:`set_trusted_time`); the offset
turns any later ``now`` into trusted wall time. With it, a manifest seen for the first time is
refused when its endorsement expired more than ``ENDORSEMENT_MARGIN_S`` ago, whatever
``created`` the artist wrote (the mesh otherwise checks only ``created <= valid_until``, and
the artist chooses ``created``). Without a trusted clock only that check holds. Revoked artist
keys are refused always (the store records revocations).
"""

from __future__ import annotations

from node.artwork.manifest import SignedManifest
from node.protocol.drops import DropReason
from node.store.base import WorkStore

# Clock error and the time a work may spend travelling the mesh after it was signed: a work
# signed just before its endorsement expired still reaches every venue.
ENDORSEMENT_MARGIN_S = 24 * 3600


class KeyPolicy:
    """Refuses new works signed by revoked keys, or under endorsements expired at trusted time."""

    def __init__(self, store: WorkStore) -> None:
        self._store = store
        self._offset: float | None = None  # trusted wall time minus the driver's ``now``

    def set_trusted_time(self, wall_s: float | None, now: float) -> None:
        """The driver trusts ``wall_s`` (Unix seconds) at ``now``; None: no trusted clock (any more)."""
        self._offset = None if wall_s is None else wall_s - now

    def trusted_time(self, now: float) -> float | None:
        """Trusted Unix time at ``now``, or None."""
        return None if self._offset is None else now + self._offset

    def refuses(self, signed: SignedManifest, now: float) -> DropReason | None:
        """Why a manifest seen for the first time is refused, or None when it may be stored."""
        manifest = signed.manifest
        if self._store.is_revoked(manifest.artist):
            return DropReason.REVOKED_KEY
        wall = self.trusted_time(now)
        until = manifest.endorsement.valid_until
        if wall is not None and until is not None and wall - ENDORSEMENT_MARGIN_S > until:
            return DropReason.EXPIRED_ENDORSEMENT
        return None
