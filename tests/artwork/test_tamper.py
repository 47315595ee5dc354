"""Any change to a bundle, manifest, chunk or signature is rejected, with the right reason."""

from __future__ import annotations

import struct
from functools import cache

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.artwork import Bundle, Takedown, VerificationError, canonical, read_bundle, verify_manifest, verify_takedown
from node.artwork.bundle import MAGIC
from tests.factories import curator_key, make_bundle, trust

HEADER = len(MAGIC) + 4
MANIFEST_REASONS = {
    "malformed-cbor", "non-canonical", "unknown-version", "missing-field", "invalid-field", "bad-signature",
    "bad-endorsement-signature", "unknown-curator", "endorsement-mismatch", "expired-endorsement", "oversize",
}


@cache
def sample() -> Bundle:
    return make_bundle(700, "tamper", mime="image/webp")


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


def reason_of(data: bytes) -> str:
    with pytest.raises(VerificationError) as info:
        read_bundle(data, trust())
    return info.value.reason


def expected_reasons(bundle: Bundle, position: int) -> set[str]:
    """What a flip at ``position`` of the bundle file must be reported as."""
    raw = bundle.signed.raw
    m = bundle.signed.manifest
    start = HEADER
    regions = {
        raw.find(m.signature): ("bad-signature", 64),
        raw.find(m.endorsement.signature): ("bad-endorsement-signature", 64),
        raw.find(m.endorsement.curator): ("unknown-curator", 32),
    }
    if position < 7:
        return {"bad-magic"}
    if position == 7:
        return {"unknown-version"}
    if position < HEADER:  # the manifest length
        return {"truncated", "oversize", "malformed-cbor", "non-canonical"}
    if position >= start + len(raw):
        return {"hash-mismatch"}
    offset = position - start
    for region_start, (reason, length) in regions.items():
        assert region_start >= 0
        if region_start <= offset < region_start + length:
            return {reason}
    return MANIFEST_REASONS


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_flipping_any_byte_of_a_bundle_is_rejected_for_the_right_reason(data) -> None:
    bundle = sample()
    blob = bundle.to_bytes()
    position = data.draw(st.integers(0, len(blob) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor mask")
    assert reason_of(flip(blob, position, mask)) in expected_reasons(bundle, position)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_flipping_any_byte_of_a_chunk_is_rejected(data) -> None:
    bundle = sample()
    pieces = bundle.chunks()
    index = data.draw(st.integers(0, len(pieces) - 1))
    position = data.draw(st.integers(0, len(pieces[index]) - 1))
    mask = data.draw(st.integers(1, 255))
    manifest = bundle.signed.manifest
    assert manifest.verify_chunk(index, pieces[index])
    assert not manifest.verify_chunk(index, flip(pieces[index], position, mask))


def test_every_single_bit_flip_of_a_manifest_is_rejected() -> None:
    raw = sample().signed.raw
    for position in range(len(raw)):
        for bit in range(8):
            with pytest.raises(VerificationError):
                verify_manifest(flip(raw, position, 1 << bit), trust())


# -- targeted cases: one reason each ------------------------------------------------------


def test_artist_signature_byte_gives_bad_signature() -> None:
    bundle = sample()
    blob = bundle.to_bytes()
    pos = HEADER + bundle.signed.raw.find(bundle.signed.manifest.signature) + 10
    assert reason_of(flip(blob, pos)) == "bad-signature"


def test_endorsement_signature_byte_gives_bad_endorsement_signature() -> None:
    bundle = sample()
    blob = bundle.to_bytes()
    pos = HEADER + bundle.signed.raw.find(bundle.signed.manifest.endorsement.signature) + 5
    assert reason_of(flip(blob, pos)) == "bad-endorsement-signature"


def test_signed_field_change_gives_bad_signature() -> None:
    bundle = sample()
    obj = cbor2.loads(bundle.signed.raw)
    obj["title"]["en"] = "Another title"
    with pytest.raises(VerificationError) as info:
        verify_manifest(canonical.encode(obj), trust())
    assert info.value.reason == "bad-signature"


def test_swapped_artist_key_gives_endorsement_mismatch() -> None:
    obj = cbor2.loads(sample().signed.raw)
    obj["artist"] = bytes(32)
    with pytest.raises(VerificationError) as info:
        verify_manifest(canonical.encode(obj), trust())
    assert info.value.reason == "endorsement-mismatch"


def test_content_byte_gives_hash_mismatch() -> None:
    blob = sample().to_bytes()
    assert reason_of(flip(blob, len(blob) - 100)) == "hash-mismatch"


def test_truncated_bundle_gives_truncated() -> None:
    blob = sample().to_bytes()
    assert reason_of(blob[:-1]) == "truncated"
    assert reason_of(blob[: HEADER + 20]) == "truncated"
    assert reason_of(blob[:5]) == "truncated"


def test_appended_bytes_give_oversize() -> None:
    assert reason_of(sample().to_bytes() + b"\x00") == "oversize"


def test_bundle_version_byte_gives_unknown_version() -> None:
    blob = sample().to_bytes()
    assert reason_of(blob[:7] + b"\x02" + blob[8:]) == "unknown-version"


def test_manifest_version_gives_unknown_version() -> None:
    obj = cbor2.loads(sample().signed.raw)
    obj["v"] = 2
    with pytest.raises(VerificationError) as info:
        verify_manifest(canonical.encode(obj), trust())
    assert info.value.reason == "unknown-version"


@pytest.mark.parametrize("inside_endorsement", [False, True])
def test_boolean_version_is_not_version_one(inside_endorsement: bool) -> None:
    """``true == 1`` in Python; a flipped 0x01 -> 0xf5 must not yield a second valid encoding."""
    obj = cbor2.loads(sample().signed.raw)
    (obj["endorsement"] if inside_endorsement else obj)["v"] = True
    with pytest.raises(VerificationError):
        verify_manifest(canonical.encode(obj), trust())


def test_magic_gives_bad_magic() -> None:
    blob = sample().to_bytes()
    assert reason_of(b"PNGFILE\x01" + blob[8:]) == "bad-magic"


def test_non_canonical_cbor_gives_non_canonical() -> None:
    raw = sample().signed.raw
    obj = cbor2.loads(raw)
    reordered = cbor2.dumps(dict(reversed(list(obj.items()))))  # same content, keys out of order
    assert reordered != raw
    with pytest.raises(VerificationError) as info:
        verify_manifest(reordered, trust())
    assert info.value.reason == "non-canonical"


def test_garbage_cbor_gives_malformed_cbor() -> None:
    with pytest.raises(VerificationError) as info:
        verify_manifest(b"\xff\x00garbage", trust())
    assert info.value.reason == "malformed-cbor"
    garbage = MAGIC + struct.pack(">I", 4) + b"\x5f\x41\x00\x00" + sample().content  # broken byte string
    assert reason_of(garbage) == "malformed-cbor"


def test_untrusted_curator_is_rejected_even_with_valid_signatures() -> None:
    rogue = make_bundle(500, "rogue", curator=curator_key("rogue"))
    assert reason_of(rogue.to_bytes()) == "unknown-curator"
    assert read_bundle(rogue.to_bytes(), trust(curator_key("rogue"))).content == rogue.content


def test_takedown_must_come_from_a_trusted_curator_and_be_intact() -> None:
    work_id = sample().work_id
    good = Takedown.create(curator_key(), work_id, "withdrawn", 1_790_000_000).to_bytes()
    assert verify_takedown(good, trust()).work_id == work_id
    rogue = Takedown.create(curator_key("rogue"), work_id, "withdrawn", 1_790_000_000).to_bytes()
    with pytest.raises(VerificationError) as info:
        verify_takedown(rogue, trust())
    assert info.value.reason == "unknown-curator"
    for position in range(len(good)):
        with pytest.raises(VerificationError):
            verify_takedown(flip(good, position), trust())
