"""Verification errors for artworks, endorsements, takedowns and bundles.

Every failure carries a short machine-readable ``reason`` (used for drop counters and
exit messages) and a human sentence. Messages never include private key material.
"""

from __future__ import annotations

# The reasons a piece of outside data can be rejected. Kept as plain strings so that
# counters, logs and JSON status can use them directly.
REASONS = (
    "malformed-cbor",
    "non-canonical",
    "unknown-version",
    "missing-field",
    "invalid-field",
    "bad-signature",
    "bad-endorsement-signature",
    "unknown-curator",
    "expired-endorsement",
    "endorsement-mismatch",
    "hash-mismatch",
    "oversize",
    "truncated",
    "bad-magic",
    "taken-down",
    "revoked-key",
)


class VerificationError(Exception):
    """Outside data failed verification; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


class KeyFileError(Exception):
    """A key file could not be read (wrong format, wrong role, unreadable)."""
