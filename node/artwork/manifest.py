"""The signed artwork manifest: metadata, content hashes, artist signature.

Wire form: a canonical CBOR map with short text keys (see docs/PROTOCOL.md for the table and
its mapping to schema.org VisualArtwork and the NDE profile). The artist signs the canonical
encoding of the map without ``sig``, prefixed with a domain string. The work id is the
SHA-256 of the complete signed encoding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from node.artwork import canonical, chunks
from node.artwork.endorsement import Endorsement, TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.keys import PublicKey, SecretKey
from node.artwork.licences import LICENCES

MANIFEST_VERSION = 1
MANIFEST_DOMAIN = b"mesh-art/manifest/v1\x00"
MAX_MANIFEST_BYTES = 16 * 1024
MAX_WORK_SIZE = 256 * 1024
MAX_PREVIEW_BYTES = 1536
MAX_TEXT = 2000
LANGS = ("nl", "en")
PREVIEW_MIMES = ("image/webp", "image/png", "image/jpeg")
# The last time a page can show: Python's datetime ends at 9999-12-31T23:59:59Z.
MAX_UNIX_TIME = 253_402_300_799

# field name -> (required, python type); maps of language -> text use dict
_FIELDS: dict[str, tuple[bool, type]] = {
    "v": (True, int),
    "title": (True, dict),
    "desc": (False, dict),
    "creator": (True, str),
    "year": (True, int),
    "artform": (True, str),
    "medium": (True, str),
    "alt": (False, dict),
    "license": (True, str),
    "attribution": (True, str),
    "mime": (True, str),
    "size": (True, int),
    "created": (True, int),
    "origin": (False, str),
    "hash": (True, bytes),
    "chunk": (True, int),
    "hashes": (True, bytes),
    "preview": (False, bytes),
    "preview_mime": (False, str),
    "artist": (True, bytes),
    "endorsement": (True, dict),
    "sig": (True, bytes),
}


@dataclass(frozen=True)
class Manifest:
    """Everything a gallery and a node need to know about one work."""

    title: dict[str, str]
    creator: str
    year: int
    artform: str
    medium: str
    license: str
    attribution: str
    mime: str
    size: int
    created: int
    content_hash: bytes
    chunk_hashes: bytes
    artist: bytes
    endorsement: Endorsement
    description: dict[str, str] = field(default_factory=dict)
    alt: dict[str, str] = field(default_factory=dict)
    origin: str | None = None
    preview: bytes | None = None
    preview_mime: str | None = None
    chunk_size: int = chunks.CHUNK_SIZE
    signature: bytes = b""

    @property
    def chunk_count(self) -> int:
        """Number of content chunks."""
        return chunks.chunk_count(self.size, self.chunk_size)

    def chunk_hash(self, index: int) -> bytes:
        """Expected 8-byte hash of chunk ``index``."""
        n = chunks.CHUNK_HASH_LEN
        return self.chunk_hashes[index * n : (index + 1) * n]

    def verify_chunk(self, index: int, data: bytes) -> bool:
        """True when ``data`` is exactly chunk ``index`` of this work."""
        if not 0 <= index < self.chunk_count:
            return False
        if len(data) != chunks.expected_chunk_len(index, self.size, self.chunk_size):
            return False
        return chunks.chunk_hash(data, self.content_hash) == self.chunk_hash(index)

    def unsigned_map(self) -> dict[str, Any]:
        """The map the artist signature covers (optional fields left out when empty)."""
        m: dict[str, Any] = {
            "v": MANIFEST_VERSION,
            "title": dict(self.title),
            "creator": self.creator,
            "year": self.year,
            "artform": self.artform,
            "medium": self.medium,
            "license": self.license,
            "attribution": self.attribution,
            "mime": self.mime,
            "size": self.size,
            "created": self.created,
            "hash": self.content_hash,
            "chunk": self.chunk_size,
            "hashes": self.chunk_hashes,
            "artist": self.artist,
            "endorsement": self.endorsement.to_map(),
        }
        if self.description:
            m["desc"] = dict(self.description)
        if self.alt:
            m["alt"] = dict(self.alt)
        if self.origin:
            m["origin"] = self.origin
        if self.preview is not None:
            m["preview"] = self.preview
            m["preview_mime"] = self.preview_mime or "image/webp"
        return m

    def signing_bytes(self) -> bytes:
        """Domain-separated canonical bytes the artist signs."""
        return MANIFEST_DOMAIN + canonical.encode(self.unsigned_map())

    def sign(self, artist_key: SecretKey) -> SignedManifest:
        """Sign with the artist key; the key must match ``artist``."""
        if artist_key.public.raw != self.artist:
            raise ValueError("the signing key is not the manifest's artist key")
        signed = replace(self, signature=artist_key.sign(self.signing_bytes()))
        return SignedManifest.from_manifest(signed)

    def text(self, field_map: dict[str, str], lang: str) -> str:
        """Pick ``lang`` from a language map, falling back to the other language."""
        return field_map.get(lang) or next(iter(field_map.values()), "")


@dataclass(frozen=True)
class SignedManifest:
    """A signed manifest with its exact wire bytes and work id."""

    manifest: Manifest
    raw: bytes
    work_id: bytes

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> SignedManifest:
        """Encode a signed :class:`Manifest`."""
        raw = canonical.encode({**manifest.unsigned_map(), "sig": manifest.signature})
        return cls(manifest, raw, hashlib.sha256(raw).digest())

    @property
    def short_id(self) -> bytes:
        """The 4-byte id used on the air."""
        return self.work_id[:4]


def _lang_map(obj: Any, name: str) -> dict[str, str]:
    if not isinstance(obj, Mapping) or not obj:
        raise VerificationError("invalid-field", f"manifest field {name!r} must be a non-empty language map")
    for lang, text in obj.items():
        if lang not in LANGS or not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
            raise VerificationError("invalid-field", f"manifest field {name!r} has a bad entry for {lang!r}")
    return dict(obj)


def _check_range(name: str, value: int | None, top: int) -> None:
    if value is not None and not 0 <= value <= top:
        raise VerificationError("invalid-field", f"manifest field {name!r} is outside 0..{top}")


def parse_manifest(raw: bytes) -> SignedManifest:
    """Parse and structurally check a manifest (no signature check)."""
    obj = canonical.decode(raw, max_size=MAX_MANIFEST_BYTES, what="manifest")
    if not isinstance(obj, Mapping):
        raise VerificationError("invalid-field", "the manifest is not a CBOR map")
    if "v" not in obj:
        raise VerificationError("missing-field", "manifest lacks its version 'v'")
    if type(obj["v"]) is not int or obj["v"] != MANIFEST_VERSION:  # true == 1 in Python
        raise VerificationError("unknown-version", f"manifest version {obj['v']!r} is not supported")
    for key in obj:
        if key not in _FIELDS:
            raise VerificationError("invalid-field", f"manifest has unknown field {key!r}")
    for key, (required, typ) in _FIELDS.items():
        if key not in obj:
            if required:
                raise VerificationError("missing-field", f"manifest lacks {key!r}")
            continue
        value = obj[key]
        if (typ is int and type(value) is not int) or not isinstance(value, typ):
            raise VerificationError("invalid-field", f"manifest field {key!r} has the wrong type")
        if isinstance(value, str) and not 0 < len(value) <= MAX_TEXT:
            raise VerificationError("invalid-field", f"manifest field {key!r} is empty or too long")
    size, chunk_size = obj["size"], obj["chunk"]
    if chunk_size != chunks.CHUNK_SIZE:
        raise VerificationError("invalid-field", f"chunk size {chunk_size} is not {chunks.CHUNK_SIZE}")
    if not 0 < size <= MAX_WORK_SIZE:
        raise VerificationError("oversize", f"work size {size} outside 1..{MAX_WORK_SIZE}")
    n_chunks = chunks.chunk_count(size, chunk_size)
    if len(obj["hashes"]) != n_chunks * chunks.CHUNK_HASH_LEN:
        raise VerificationError("invalid-field", "the chunk hash list does not match the size")
    if len(obj["hash"]) != 32 or len(obj["artist"]) != 32 or len(obj["sig"]) != 64:
        raise VerificationError("invalid-field", "a hash, key or signature has the wrong length")
    if obj["license"] not in LICENCES:
        raise VerificationError("invalid-field", f"licence {obj['license']!r} is not a canonical CC URI")
    if "/" not in obj["mime"]:
        raise VerificationError("invalid-field", f"MIME type {obj['mime']!r} is malformed")
    if obj["mime"].startswith("image/") and "alt" not in obj:
        raise VerificationError("missing-field", "a visual work must carry alt text")
    if "preview" in obj:
        if len(obj["preview"]) > MAX_PREVIEW_BYTES or obj.get("preview_mime") not in PREVIEW_MIMES:
            raise VerificationError("invalid-field", "the preview is too large or of a wrong type")
    elif "preview_mime" in obj:
        raise VerificationError("invalid-field", "preview_mime without preview")
    manifest = Manifest(
        title=_lang_map(obj["title"], "title"),
        description=_lang_map(obj["desc"], "desc") if "desc" in obj else {},
        alt=_lang_map(obj["alt"], "alt") if "alt" in obj else {},
        creator=obj["creator"],
        year=obj["year"],
        artform=obj["artform"],
        medium=obj["medium"],
        license=obj["license"],
        attribution=obj["attribution"],
        mime=obj["mime"],
        size=size,
        created=obj["created"],
        origin=obj.get("origin"),
        content_hash=obj["hash"],
        chunk_size=chunk_size,
        chunk_hashes=obj["hashes"],
        preview=obj.get("preview"),
        preview_mime=obj.get("preview_mime"),
        artist=obj["artist"],
        endorsement=Endorsement.from_map(obj["endorsement"]),
        signature=obj["sig"],
    )
    # Signatures cover the re-encoded fields, so the wire bytes must be exactly that encoding;
    # otherwise two byte strings (two work ids) could carry one valid signature.
    if SignedManifest.from_manifest(manifest).raw != raw:
        raise VerificationError("invalid-field", "the manifest does not re-encode to the same bytes")
    return SignedManifest(manifest, bytes(raw), hashlib.sha256(raw).digest())


def verify_manifest(raw: bytes, trust: TrustAnchors, *, at: int | None = None) -> SignedManifest:
    """Parse a manifest and verify its whole chain: curator -> endorsement -> artist signature.

    ``at`` (Unix seconds) additionally checks the endorsement has not expired at that time;
    the endorsement must in any case have been valid when the work was created, which keeps
    verification on the mesh independent of a node's (possibly wrong) clock.
    """
    signed = parse_manifest(raw)
    m = signed.manifest
    # At the edge, so no verified work carries a time a page cannot show; a store keeps parsing
    # (not re-verifying) what it holds, and the gallery shows an older out-of-range time as "?".
    _check_range("created", m.created, MAX_UNIX_TIME)
    _check_range("endorsement.issued", m.endorsement.issued, MAX_UNIX_TIME)
    _check_range("endorsement.valid_until", m.endorsement.valid_until, MAX_UNIX_TIME)
    m.endorsement.verify(trust, at=at)
    if m.endorsement.artist != m.artist:
        raise VerificationError("endorsement-mismatch", "the endorsement is for a different artist key")
    if m.endorsement.valid_until is not None and m.created > m.endorsement.valid_until:
        raise VerificationError("expired-endorsement", "the work was signed after the endorsement expired")
    if not PublicKey(m.artist).verify(m.signing_bytes(), m.signature):
        raise VerificationError("bad-signature", "the artist's signature on the manifest does not verify")
    return signed
