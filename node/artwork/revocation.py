"""Curator-signed revocations: an artist key (or a node key) the mesh stops trusting.

Canonical CBOR ``{"v": 1, "key": pk32, "role": "artist"|"node", "curator": pk32,
"reason": str, "issued": int, "sig": sig64}``; at most 230 bytes, so one frame carries it.
An artist revocation removes every work that key signed and refuses new ones, whatever
``created`` they claim (a stolen or formerly endorsed key can back-date works); a node
revocation makes the mesh ignore that node's signed beacons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.artwork import canonical
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.keys import PublicKey, SecretKey

REVOCATION_VERSION = 1
REVOCATION_DOMAIN = b"mesh-art/revocation/v1\x00"
ROLES = ("artist", "node")
MAX_REASON = 60
MAX_REVOCATION_BYTES = 230  # one PRIVATE_APP frame minus the kind byte


@dataclass(frozen=True)
class Revocation:
    """A curator's signed order to stop trusting one key."""

    key: bytes
    role: str
    curator: bytes
    reason: str
    issued: int
    signature: bytes = b""

    def unsigned_map(self) -> dict[str, Any]:
        """The map the curator signs."""
        return {"v": REVOCATION_VERSION, "key": self.key, "role": self.role, "curator": self.curator,
                "reason": self.reason, "issued": self.issued}

    def to_bytes(self) -> bytes:
        """Canonical CBOR of the signed revocation."""
        return canonical.encode({**self.unsigned_map(), "sig": self.signature})

    @property
    def short_id(self) -> bytes:
        """The first 4 bytes of the revoked key: how adverts and requests name it."""
        return self.key[:4]

    @classmethod
    def create(cls, curator: SecretKey, key: PublicKey, role: str, reason: str, issued: int) -> Revocation:
        """Sign a revocation of ``key`` (an ``artist`` or ``node`` key)."""
        if curator.role != "curator":
            raise ValueError("revocations are signed with a curator key")
        if role not in ROLES:
            raise ValueError(f"a revocation is of an artist or a node key, not {role!r}")
        if key.raw in {curator.public.raw}:
            raise ValueError("a curator cannot revoke its own key")
        reason = reason[:MAX_REASON]
        while True:  # shorten the reason until the signed revocation fits one frame
            draft = cls(key.raw, role, curator.public.raw, reason, issued, bytes(64))
            if len(draft.to_bytes()) <= MAX_REVOCATION_BYTES:
                break
            reason = reason[:-1]
        sig = curator.sign(REVOCATION_DOMAIN + canonical.encode(draft.unsigned_map()))
        return cls(key.raw, role, curator.public.raw, reason, issued, sig)

    @classmethod
    def from_bytes(cls, data: bytes) -> Revocation:
        """Parse (no signature check)."""
        obj = canonical.decode(data, max_size=MAX_REVOCATION_BYTES, what="revocation")
        if not isinstance(obj, Mapping):
            raise VerificationError("invalid-field", "the revocation is not a map")
        if set(obj) != {"v", "key", "role", "curator", "reason", "issued", "sig"}:
            raise VerificationError("missing-field", "the revocation fields are incomplete or unknown")
        if type(obj["v"]) is not int or obj["v"] != REVOCATION_VERSION:
            raise VerificationError("unknown-version", f"revocation version {obj['v']!r} is not supported")
        ok = (isinstance(obj["key"], bytes) and len(obj["key"]) == 32
              and obj["role"] in ROLES
              and isinstance(obj["curator"], bytes) and len(obj["curator"]) == 32
              and isinstance(obj["reason"], str) and len(obj["reason"]) <= MAX_REASON
              and type(obj["issued"]) is int
              and isinstance(obj["sig"], bytes) and len(obj["sig"]) == 64)
        if not ok:
            raise VerificationError("invalid-field", "a revocation field has the wrong type or size")
        return cls(obj["key"], obj["role"], obj["curator"], obj["reason"], obj["issued"], obj["sig"])

    def verify(self, trust: TrustAnchors) -> None:
        """Raise unless a trusted curator signed this revocation."""
        key = trust.get(self.curator)
        if key is None:
            raise VerificationError("unknown-curator",
                                    f"revocation signed by untrusted curator {PublicKey(self.curator).fingerprint}")
        if not key.verify(REVOCATION_DOMAIN + canonical.encode(self.unsigned_map()), self.signature):
            raise VerificationError("bad-signature", "the curator's signature on the revocation does not verify")


def verify_revocation(data: bytes, trust: TrustAnchors) -> Revocation:
    """Parse and verify a revocation."""
    revocation = Revocation.from_bytes(data)
    revocation.verify(trust)
    return revocation
