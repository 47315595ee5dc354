"""Round trips and chain verification of manifests and bundles."""

from __future__ import annotations

import pytest

from node.artwork import VerificationError, parse_manifest, read_bundle, verify_manifest
from node.artwork.chunks import CHUNK_SIZE, MAX_FRAME_PAYLOAD
from tests.factories import curator_key, make_bundle, trust


def test_manifest_round_trips_byte_exactly() -> None:
    bundle = make_bundle(3000)
    parsed = parse_manifest(bundle.signed.raw)
    assert parsed.raw == bundle.signed.raw
    assert parsed.manifest == bundle.signed.manifest
    again = parsed.manifest.sign  # re-encoding the parsed manifest gives the same bytes
    assert again is not None
    from node.artwork.manifest import SignedManifest

    assert SignedManifest.from_manifest(parsed.manifest).raw == bundle.signed.raw


def test_bundle_verifies_and_chunks_fit_a_frame() -> None:
    bundle = make_bundle(5000)
    back = read_bundle(bundle.to_bytes(), trust())
    assert back.content == bundle.content
    assert all(len(c) <= CHUNK_SIZE for c in back.chunks())
    assert CHUNK_SIZE + 7 == MAX_FRAME_PAYLOAD


def test_untrusted_curator_is_rejected() -> None:
    rogue = curator_key("rogue")
    bundle = make_bundle(1000, curator=rogue)
    with pytest.raises(VerificationError) as info:
        verify_manifest(bundle.signed.raw, trust())
    assert info.value.reason == "unknown-curator"


def test_expired_endorsement_is_rejected_at_verification_time() -> None:
    bundle = make_bundle(1000, valid_until=1_800_000_000)
    verify_manifest(bundle.signed.raw, trust(), at=1_799_999_999)
    with pytest.raises(VerificationError) as info:
        verify_manifest(bundle.signed.raw, trust(), at=1_800_000_001)
    assert info.value.reason == "expired-endorsement"
