"""The work a simulation disseminates, and the keys of the simulated network.

Everything is derived from the run's seed, so two runs with the same seed carry byte-identical
signed bundles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from node.artwork import Endorsement, SecretKey, TrustAnchors, WorkMetadata, build_bundle
from node.artwork.bundle import Bundle

CREATED = 1_790_000_000  # fixed creation time, so bundles do not depend on the wall clock


def pseudo_random_bytes(size: int, label: str) -> bytes:
    """Incompressible deterministic content."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}-{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


@dataclass(frozen=True)
class Workload:
    """The curator's trust anchors and the one signed work the source publishes."""

    trust: TrustAnchors
    bundle: Bundle
    seed: int

    def node_key(self, name: str) -> SecretKey:
        """The identity key of node ``name`` in this run."""
        return SecretKey.from_seed_text(f"sim-{self.seed}-node-{name}", "node")


def make_workload(size: int, seed: int) -> Workload:
    """A signed work of ``size`` pseudo-random bytes and the trust anchors that accept it."""
    curator = SecretKey.from_seed_text(f"sim-{seed}-curator", "curator")
    artist = SecretKey.from_seed_text(f"sim-{seed}-artist", "artist")
    endorsement = Endorsement.create(curator, artist.public, "Sim Artist", CREATED - 86400)
    meta = WorkMetadata(
        title={"en": "Simulated work", "nl": "Gesimuleerd werk"},
        creator="Sim Artist",
        year=2026,
        artform="digital art",
        medium="bytes",
        license="https://creativecommons.org/licenses/by-sa/4.0/",
    )
    content = pseudo_random_bytes(size, f"sim-{seed}-work")
    bundle = build_bundle(content, "application/octet-stream", meta, artist, endorsement, CREATED)
    return Workload(TrustAnchors([curator.public]), bundle, seed)
