"""Bundle files (``.meshart``): one signed manifest plus its content, self-verifying.

Layout: ``b"MESHART\\x01"`` magic (8 bytes), manifest length (4 bytes, big-endian),
the manifest's canonical CBOR, then exactly ``manifest.size`` content bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from node.artwork import chunks
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.manifest import MAX_MANIFEST_BYTES, MAX_WORK_SIZE, SignedManifest, verify_manifest

MAGIC = b"MESHART\x01"
MAX_BUNDLE_BYTES = len(MAGIC) + 4 + MAX_MANIFEST_BYTES + MAX_WORK_SIZE


@dataclass(frozen=True)
class Bundle:
    """A verified manifest with its full content."""

    signed: SignedManifest
    content: bytes

    @property
    def work_id(self) -> bytes:
        """The work id (SHA-256 of the signed manifest)."""
        return self.signed.work_id

    def to_bytes(self) -> bytes:
        """Serialise to the bundle file format."""
        return MAGIC + struct.pack(">I", len(self.signed.raw)) + self.signed.raw + self.content

    def chunks(self) -> list[bytes]:
        """The content split into protocol chunks."""
        return chunks.split(self.content, self.signed.manifest.chunk_size)


def read_bundle(data: bytes, trust: TrustAnchors, *, at: int | None = None) -> Bundle:
    """Parse and fully verify a bundle: signature chain, size, every chunk hash, content hash."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise VerificationError("oversize", f"bundle is {len(data)} bytes, limit {MAX_BUNDLE_BYTES}")
    if len(data) < len(MAGIC) + 4:
        raise VerificationError("truncated", "bundle is shorter than its header")
    if data[: len(MAGIC)] != MAGIC:
        if data[:7] == MAGIC[:7]:
            raise VerificationError("unknown-version", f"bundle format version {data[7]} is not supported")
        raise VerificationError("bad-magic", "not a mesh-art bundle (wrong magic bytes)")
    (mlen,) = struct.unpack(">I", data[8:12])
    if mlen > MAX_MANIFEST_BYTES:
        raise VerificationError("oversize", f"manifest length {mlen} exceeds {MAX_MANIFEST_BYTES}")
    if len(data) < 12 + mlen:
        raise VerificationError("truncated", "bundle ends inside the manifest")
    signed = verify_manifest(data[12 : 12 + mlen], trust, at=at)
    content = data[12 + mlen :]
    m = signed.manifest
    if len(content) < m.size:
        raise VerificationError("truncated", f"content is {len(content)} bytes, manifest says {m.size}")
    if len(content) > m.size:
        raise VerificationError("oversize", f"content is {len(content)} bytes, manifest says {m.size}")
    for index, piece in enumerate(chunks.split(content, m.chunk_size)):
        if not m.verify_chunk(index, piece):
            raise VerificationError("hash-mismatch", f"chunk {index} does not match its hash")
    if chunks.content_hash(content) != m.content_hash:
        raise VerificationError("hash-mismatch", "content does not match the manifest's SHA-256")
    return Bundle(signed, content)
