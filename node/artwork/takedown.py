"""Curator-signed takedowns: a work removed from every node and kept from coming back.

Canonical CBOR ``{"v": 1, "work": id32, "curator": pk32, "reason": str, "issued": int,
"sig": sig64}``; at most ~190 bytes, so one frame carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.artwork import canonical
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.keys import PublicKey, SecretKey

TAKEDOWN_VERSION = 1
TAKEDOWN_DOMAIN = b"mesh-art/takedown/v1\x00"
MAX_REASON = 60
# One PRIVATE_APP frame (231 bytes) minus the frame's kind byte. Without a reason a takedown
# is ~175 bytes, so the reason gets what is left (about 50 ASCII characters).
MAX_TAKEDOWN_BYTES = 230


@dataclass(frozen=True)
class Takedown:
    """A curator's signed order to remove one work."""

    work_id: bytes
    curator: bytes
    reason: str
    issued: int
    signature: bytes = b""

    def unsigned_map(self) -> dict[str, Any]:
        """The map the curator signs."""
        return {"v": TAKEDOWN_VERSION, "work": self.work_id, "curator": self.curator,
                "reason": self.reason, "issued": self.issued}

    def to_bytes(self) -> bytes:
        """Canonical CBOR of the signed takedown."""
        return canonical.encode({**self.unsigned_map(), "sig": self.signature})

    @classmethod
    def create(cls, curator: SecretKey, work_id: bytes, reason: str, issued: int) -> Takedown:
        """Sign a takedown of ``work_id``."""
        if curator.role != "curator":
            raise ValueError("takedowns are signed with a curator key")
        if len(work_id) != 32:
            raise ValueError("a work id is 32 bytes")
        reason = reason[:MAX_REASON]
        while True:  # shorten the reason until the signed takedown fits one frame
            draft = cls(work_id, curator.public.raw, reason, issued, bytes(64))
            if len(draft.to_bytes()) <= MAX_TAKEDOWN_BYTES:
                break
            reason = reason[:-1]
        sig = curator.sign(TAKEDOWN_DOMAIN + canonical.encode(draft.unsigned_map()))
        return cls(work_id, curator.public.raw, reason, issued, sig)

    @classmethod
    def from_bytes(cls, data: bytes) -> Takedown:
        """Parse (no signature check)."""
        obj = canonical.decode(data, max_size=MAX_TAKEDOWN_BYTES, what="takedown")
        if not isinstance(obj, Mapping):
            raise VerificationError("invalid-field", "the takedown is not a map")
        keys = {"v", "work", "curator", "reason", "issued", "sig"}
        if set(obj) != keys:
            raise VerificationError("missing-field", "the takedown fields are incomplete or unknown")
        if type(obj["v"]) is not int or obj["v"] != TAKEDOWN_VERSION:  # true == 1 in Python
            raise VerificationError("unknown-version", f"takedown version {obj['v']!r} is not supported")
        ok = (isinstance(obj["work"], bytes) and len(obj["work"]) == 32
              and isinstance(obj["curator"], bytes) and len(obj["curator"]) == 32
              and isinstance(obj["reason"], str) and len(obj["reason"]) <= MAX_REASON
              and type(obj["issued"]) is int
              and isinstance(obj["sig"], bytes) and len(obj["sig"]) == 64)
        if not ok:
            raise VerificationError("invalid-field", "a takedown field has the wrong type or size")
        return cls(obj["work"], obj["curator"], obj["reason"], obj["issued"], obj["sig"])

    def verify(self, trust: TrustAnchors) -> None:
        """Raise unless a trusted curator signed this takedown."""
        key = trust.get(self.curator)
        if key is None:
            raise VerificationError("unknown-curator",
                                    f"takedown signed by untrusted curator {PublicKey(self.curator).fingerprint}")
        if not key.verify(TAKEDOWN_DOMAIN + canonical.encode(self.unsigned_map()), self.signature):
            raise VerificationError("bad-signature", "the curator's signature on the takedown does not verify")


def verify_takedown(data: bytes, trust: TrustAnchors) -> Takedown:
    """Parse and verify a takedown."""
    takedown = Takedown.from_bytes(data)
    takedown.verify(trust)
    return takedown
