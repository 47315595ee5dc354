"""Why the engine refused or set aside a received frame: one closed set of reasons.

Every :class:`~node.protocol.events.FrameDropped` event and every ``status().drops`` key is a
:class:`DropReason`. It is a ``StrEnum``, so counters stay plain strings in JSON, logs and
Prometheus labels. Reasons raised below the engine (the frame codec, artwork verification,
the store) are mapped onto it by :meth:`DropReason.of`; a reason the engine does not know
(a newer lower layer) is counted as ``INVALID`` rather than growing the set.
"""

from __future__ import annotations

from enum import StrEnum


class DropReason(StrEnum):
    """A counted reason; values are the counter names."""

    # the frame codec (node.protocol.frames)
    EMPTY = "empty"
    OVERSIZE = "oversize"
    UNKNOWN_VERSION = "unknown-version"
    OLD_VERSION = "old-version"
    UNKNOWN_KIND = "unknown-kind"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    # admission
    RATE_LIMITED = "rate-limited"
    OWN_FRAME = "own-frame"
    # works and transfers
    UNKNOWN_WORK = "unknown-work"
    TAKEN_DOWN = "taken-down"
    DUPLICATE = "duplicate"
    BAD_CHUNK = "bad-chunk"
    BAD_CODED = "bad-coded"
    UNTRUSTED_CODED = "untrusted-coded"  # unverifiable here, from a neighbour that never served us
    BAD_MANIFEST_PIECE = "bad-manifest-piece"
    MANIFEST_ID_MISMATCH = "manifest-id-mismatch"
    REJECTED = "rejected"
    CODED_BUFFER_FULL = "coded-buffer-full"
    CODED_BUFFERED = "coded-buffered"  # counted only: kept as an equation, nothing decoded yet
    WANTS_FULL = "wants-full"  # counted only: an advert entry found no room
    ANSWER_CREDIT = "answer-credit"
    # beacons
    BAD_SIGNATURE = "bad-signature"
    REPLAY = "replay"
    # artwork verification (node.artwork.errors.REASONS)
    MALFORMED_CBOR = "malformed-cbor"
    NON_CANONICAL = "non-canonical"
    MISSING_FIELD = "missing-field"
    INVALID_FIELD = "invalid-field"
    BAD_ENDORSEMENT_SIGNATURE = "bad-endorsement-signature"
    UNKNOWN_CURATOR = "unknown-curator"
    EXPIRED_ENDORSEMENT = "expired-endorsement"
    ENDORSEMENT_MISMATCH = "endorsement-mismatch"
    HASH_MISMATCH = "hash-mismatch"
    REVOKED_KEY = "revoked-key"
    BAD_MAGIC = "bad-magic"
    # the store (node.store.base)
    STORE_ERROR = "store-error"
    QUOTA = "quota"
    DISK_FULL = "disk-full"
    CORRUPT_STORE = "corrupt-store"
    # anything a lower layer named that is not above
    INVALID = "invalid"

    @classmethod
    def of(cls, reason: str) -> DropReason:
        """The member named by a lower layer's ``reason`` string (``INVALID`` if unknown)."""
        try:
            return cls(reason)
        except ValueError:
            return cls.INVALID
