"""Curator endorsements of artists, and the trust anchor set a node holds.

An endorsement is a canonical CBOR map signed by a curator key:
``{"v": 1, "curator": pk32, "artist": pk32, "name": str, "issued": int,
"valid_until": int|None, "sig": sig64}``. Times are Unix seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from node.artwork import canonical
from node.artwork.errors import VerificationError
from node.artwork.keys import PublicKey, SecretKey

ENDORSEMENT_VERSION = 1
ENDORSEMENT_DOMAIN = b"mesh-art/endorsement/v1\x00"
MAX_NAME_LEN = 120


@dataclass(frozen=True)
class Endorsement:
    """A curator's signed statement that an artist key belongs to ``name``."""

    curator: bytes
    artist: bytes
    name: str
    issued: int
    valid_until: int | None
    signature: bytes

    def unsigned_map(self) -> dict[str, Any]:
        """The map the signature covers."""
        return {
            "v": ENDORSEMENT_VERSION,
            "curator": self.curator,
            "artist": self.artist,
            "name": self.name,
            "issued": self.issued,
            "valid_until": self.valid_until,
        }

    def to_map(self) -> dict[str, Any]:
        """The full signed map, as embedded in manifests and endorsement files."""
        return {**self.unsigned_map(), "sig": self.signature}

    def to_bytes(self) -> bytes:
        """Canonical CBOR of the signed map."""
        return canonical.encode(self.to_map())

    @classmethod
    def create(
        cls,
        curator: SecretKey,
        artist: PublicKey,
        name: str,
        issued: int,
        valid_until: int | None = None,
    ) -> Endorsement:
        """Sign an endorsement of ``artist`` with the curator key."""
        if curator.role != "curator":
            raise ValueError(f"endorsements are signed with a curator key, not a {curator.role} key")
        if not name or len(name) > MAX_NAME_LEN:
            raise ValueError(f"the artist name must be 1..{MAX_NAME_LEN} characters")
        draft = cls(curator.public.raw, artist.raw, name, issued, valid_until, b"")
        sig = curator.sign(ENDORSEMENT_DOMAIN + canonical.encode(draft.unsigned_map()))
        return cls(curator.public.raw, artist.raw, name, issued, valid_until, sig)

    @classmethod
    def from_map(cls, obj: Any) -> Endorsement:
        """Parse the map form, checking types (not signatures)."""
        if not isinstance(obj, Mapping):
            raise VerificationError("invalid-field", "the endorsement is not a map")
        keys = {"v", "curator", "artist", "name", "issued", "valid_until", "sig"}
        missing = keys - set(obj)
        if missing:
            raise VerificationError("missing-field", f"endorsement lacks {sorted(missing)[0]!r}")
        extra = set(obj) - keys
        if extra:
            # keys can be of any CBOR type (int, bytes, text), which do not sort together
            raise VerificationError("invalid-field", f"endorsement has unknown field {min(map(repr, extra))}")
        if type(obj["v"]) is not int or obj["v"] != ENDORSEMENT_VERSION:  # true == 1 in Python
            raise VerificationError("unknown-version", f"endorsement version {obj['v']!r} is not supported")
        ok = (
            isinstance(obj["curator"], bytes) and len(obj["curator"]) == 32
            and isinstance(obj["artist"], bytes) and len(obj["artist"]) == 32
            and isinstance(obj["name"], str) and 0 < len(obj["name"]) <= MAX_NAME_LEN
            and type(obj["issued"]) is int
            and (obj["valid_until"] is None or type(obj["valid_until"]) is int)
            and isinstance(obj["sig"], bytes) and len(obj["sig"]) == 64
        )
        if not ok:
            raise VerificationError("invalid-field", "endorsement field has the wrong type or size")
        return cls(obj["curator"], obj["artist"], obj["name"], obj["issued"], obj["valid_until"], obj["sig"])

    @classmethod
    def from_bytes(cls, data: bytes) -> Endorsement:
        """Parse an endorsement file's bytes (canonical CBOR)."""
        return cls.from_map(canonical.decode(data, max_size=4096, what="endorsement"))

    def verify(self, trust: TrustAnchors, *, at: int | None = None) -> None:
        """Check the curator is trusted and the signature holds (and validity at ``at``)."""
        curator = trust.get(self.curator)
        if curator is None:
            raise VerificationError(
                "unknown-curator",
                f"endorsement signed by untrusted curator {PublicKey(self.curator).fingerprint}",
            )
        if not curator.verify(ENDORSEMENT_DOMAIN + canonical.encode(self.unsigned_map()), self.signature):
            raise VerificationError("bad-endorsement-signature", "the curator signature on the endorsement fails")
        if at is not None and self.valid_until is not None and at > self.valid_until:
            raise VerificationError("expired-endorsement", f"the endorsement of {self.name!r} expired")


class TrustAnchors:
    """The set of curator public keys a node or verifier trusts."""

    def __init__(self, curators: Iterable[PublicKey] = ()) -> None:
        self._keys: dict[bytes, PublicKey] = {k.raw: k for k in curators}

    def get(self, raw: bytes) -> PublicKey | None:
        """The trusted curator with this raw key, or None."""
        return self._keys.get(raw)

    def __contains__(self, raw: object) -> bool:
        return raw in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self) -> list[PublicKey]:
        """All trusted curator keys."""
        return list(self._keys.values())
