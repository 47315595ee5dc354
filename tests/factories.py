"""Deterministic keys and bundles for tests (importable from any test package)."""

from __future__ import annotations

from node.artwork import Endorsement, SecretKey, TrustAnchors, WorkMetadata, build_bundle
from node.artwork.bundle import Bundle
from simulator.workload import pseudo_random_bytes as simulator_bytes

CREATED = 1_790_000_000  # 2026-09-21, fixed so bundles are reproducible


def curator_key(name: str = "curator") -> SecretKey:
    """A fixed curator key."""
    return SecretKey.from_seed_text(f"test-curator-{name}", "curator")


def artist_key(name: str = "ada") -> SecretKey:
    """A fixed artist key."""
    return SecretKey.from_seed_text(f"test-artist-{name}", "artist")


def node_key(name: str = "node") -> SecretKey:
    """A fixed node key."""
    return SecretKey.from_seed_text(f"test-node-{name}", "node")


def trust(*curators: SecretKey) -> TrustAnchors:
    """Trust anchors for the given curators (default: the fixed curator)."""
    return TrustAnchors([c.public for c in (curators or (curator_key(),))])


def pseudo_random_bytes(size: int, label: str = "work") -> bytes:
    """Incompressible deterministic content."""
    return simulator_bytes(size, label)


def make_bundle(
    size: int = 5000,
    label: str = "work",
    *,
    artist: SecretKey | None = None,
    curator: SecretKey | None = None,
    mime: str = "application/octet-stream",
    valid_until: int | None = None,
    created: int = CREATED,
) -> Bundle:
    """A signed bundle of ``size`` pseudo-random bytes."""
    artist = artist or artist_key()
    curator = curator or curator_key()
    endorsement = Endorsement.create(curator, artist.public, "Ada Test", CREATED - 86400, valid_until)
    meta = WorkMetadata(
        title={"en": f"Work {label}", "nl": f"Werk {label}"},
        creator="Ada Test",
        year=2026,
        artform="digital art",
        medium="bytes",
        license="https://creativecommons.org/licenses/by-sa/4.0/",
        alt={"en": "test", "nl": "test"} if mime.startswith("image/") else {},
    )
    return build_bundle(pseudo_random_bytes(size, label), mime, meta, artist, endorsement, created)
