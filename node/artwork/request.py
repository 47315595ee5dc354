"""Endorsement requests: an artist asks a curator to endorse their key.

A request is a canonical CBOR map signed by the artist key it names::

    {"v": 1, "artist": pk32, "name": str, "contact": str, "issued": int, "sig": sig64}

so the curator knows whoever sent it holds that key (the fingerprint, read out in person or by
phone, says it is the right person). It travels as a small file (``.meshart-request``, the
CBOR bytes) or as text for a QR code: ``MESHART-REQ:`` and the bytes in unpadded base32, which
fits a QR code's compact alphanumeric mode.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.artwork import canonical
from node.artwork.endorsement import MAX_NAME_LEN
from node.artwork.errors import VerificationError
from node.artwork.keys import PublicKey, SecretKey

REQUEST_VERSION = 1
REQUEST_DOMAIN = b"mesh-art/endorsement-request/v1\x00"
MAX_CONTACT_LEN = 200
MAX_REQUEST_BYTES = 1024
TEXT_PREFIX = "MESHART-REQ:"
FILE_SUFFIX = ".meshart-request"
_FIELDS = frozenset({"v", "artist", "name", "contact", "issued", "sig"})


@dataclass(frozen=True)
class EndorsementRequest:
    """An artist's signed request: this key is mine, this is my name and how to reach me."""

    artist: bytes
    name: str
    contact: str
    issued: int
    signature: bytes

    def unsigned_map(self) -> dict[str, Any]:
        """The map the artist signs."""
        return {"v": REQUEST_VERSION, "artist": self.artist, "name": self.name,
                "contact": self.contact, "issued": self.issued}

    def to_bytes(self) -> bytes:
        """Canonical CBOR of the signed request (the file's content)."""
        return canonical.encode({**self.unsigned_map(), "sig": self.signature})

    def to_text(self) -> str:
        """The QR code's text: ``MESHART-REQ:`` and unpadded base32."""
        return TEXT_PREFIX + base64.b32encode(self.to_bytes()).decode().rstrip("=")

    @property
    def public(self) -> PublicKey:
        """The artist key asking to be endorsed."""
        return PublicKey(self.artist, "artist")

    @classmethod
    def create(cls, artist: SecretKey, name: str, contact: str, issued: int) -> EndorsementRequest:
        """Sign a request with the artist key. Raises ``ValueError`` for an unusable name or contact."""
        if artist.role != "artist":
            raise ValueError(f"an endorsement request is signed with an artist key, not a {artist.role} key")
        name, contact = name.strip(), contact.strip()
        if not 0 < len(name) <= MAX_NAME_LEN:
            raise ValueError(f"the name must be 1..{MAX_NAME_LEN} characters")
        if len(contact) > MAX_CONTACT_LEN:
            raise ValueError(f"the contact must be at most {MAX_CONTACT_LEN} characters")
        draft = cls(artist.public.raw, name, contact, issued, b"")
        signature = artist.sign(REQUEST_DOMAIN + canonical.encode(draft.unsigned_map()))
        return cls(artist.public.raw, name, contact, issued, signature)

    @classmethod
    def from_bytes(cls, data: bytes) -> EndorsementRequest:
        """Parse and verify a request file's bytes; raises :class:`VerificationError`."""
        obj = canonical.decode(data, max_size=MAX_REQUEST_BYTES, what="endorsement request")
        request = cls._from_map(obj)
        request.verify()
        return request

    @classmethod
    def from_text(cls, text: str) -> EndorsementRequest:
        """Parse and verify the QR text form (``MESHART-REQ:...``), as scanned or pasted."""
        body = "".join(text.split())
        if not body.upper().startswith(TEXT_PREFIX):
            raise VerificationError("bad-magic", f"the text does not start with {TEXT_PREFIX}")
        encoded = body[len(TEXT_PREFIX):].upper()
        try:
            data = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
        except (binascii.Error, ValueError):
            raise VerificationError("malformed-cbor", "the request text is not valid base32") from None
        return cls.from_bytes(data)

    @classmethod
    def _from_map(cls, obj: Any) -> EndorsementRequest:
        if not isinstance(obj, Mapping):
            raise VerificationError("invalid-field", "the endorsement request is not a map")
        if set(obj) != _FIELDS:
            raise VerificationError("missing-field", "the endorsement request's fields are incomplete or unknown")
        if type(obj["v"]) is not int or obj["v"] != REQUEST_VERSION:
            raise VerificationError("unknown-version", f"request version {obj['v']!r} is not supported")
        ok = (isinstance(obj["artist"], bytes) and len(obj["artist"]) == 32
              and isinstance(obj["name"], str) and 0 < len(obj["name"]) <= MAX_NAME_LEN
              and isinstance(obj["contact"], str) and len(obj["contact"]) <= MAX_CONTACT_LEN
              and type(obj["issued"]) is int
              and isinstance(obj["sig"], bytes) and len(obj["sig"]) == 64)
        if not ok:
            raise VerificationError("invalid-field", "an endorsement request field has the wrong type or size")
        return cls(obj["artist"], obj["name"], obj["contact"], obj["issued"], obj["sig"])

    def verify(self) -> None:
        """Raise unless the artist key it names signed it."""
        if not self.public.verify(REQUEST_DOMAIN + canonical.encode(self.unsigned_map()), self.signature):
            raise VerificationError("bad-signature", "the artist's signature on the request does not verify")


def read_request(data: bytes) -> EndorsementRequest:
    """A request from a file's bytes or its text form, verified."""
    stripped = data.strip()
    if stripped[: len(TEXT_PREFIX)].upper() == TEXT_PREFIX.encode():
        try:
            return EndorsementRequest.from_text(stripped.decode("ascii"))
        except UnicodeDecodeError:
            raise VerificationError("malformed-cbor", "the request text is not ASCII") from None
    return EndorsementRequest.from_bytes(data)
