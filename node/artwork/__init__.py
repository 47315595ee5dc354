"""Signed artworks: keys, endorsements, manifests, chunks, takedowns and bundles."""

from node.artwork.bundle import Bundle, read_bundle
from node.artwork.endorsement import Endorsement, TrustAnchors
from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.keys import PublicKey, SecretKey
from node.artwork.manifest import Manifest, SignedManifest, parse_manifest, verify_manifest
from node.artwork.publish import WorkMetadata, build_bundle
from node.artwork.revocation import Revocation, verify_revocation
from node.artwork.takedown import Takedown, verify_takedown

__all__ = [
    "Bundle",
    "Endorsement",
    "KeyFileError",
    "Manifest",
    "PublicKey",
    "Revocation",
    "SecretKey",
    "SignedManifest",
    "Takedown",
    "TrustAnchors",
    "VerificationError",
    "WorkMetadata",
    "build_bundle",
    "parse_manifest",
    "read_bundle",
    "verify_manifest",
    "verify_revocation",
    "verify_takedown",
]
