"""Manifests and bundles round-trip byte-exactly for any metadata (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.artwork import Endorsement, WorkMetadata, build_bundle, parse_manifest, read_bundle, verify_manifest
from node.artwork.licences import LICENCES
from node.artwork.manifest import MAX_UNIX_TIME, SignedManifest
from tests.factories import CREATED, artist_key, curator_key, trust

text = st.text(min_size=1, max_size=80)
lang_map = st.dictionaries(st.sampled_from(["en", "nl"]), text, min_size=1, max_size=2)
optional_lang_map = st.one_of(st.just({}), lang_map)

metadata = st.builds(
    WorkMetadata,
    title=lang_map,
    creator=text,
    year=st.integers(min_value=-3000, max_value=3000),
    artform=text,
    medium=text,
    license=st.sampled_from(sorted(LICENCES)),
    attribution=st.one_of(st.just(""), text),
    description=optional_lang_map,
    alt=lang_map,
    origin=st.one_of(st.none(), text),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    meta=metadata,
    content=st.binary(min_size=1, max_size=1500),
    mime=st.sampled_from(["image/webp", "text/plain", "audio/ogg", "image/svg+xml", "application/octet-stream"]),
    name=st.text(min_size=1, max_size=120),
    valid_until=st.one_of(st.none(), st.integers(min_value=CREATED, max_value=MAX_UNIX_TIME)),
    preview=st.one_of(st.none(), st.binary(min_size=1, max_size=1024)),
)
def test_manifest_and_bundle_round_trip_byte_exactly(meta, content, mime, name, valid_until, preview) -> None:
    artist = artist_key()
    endorsement = Endorsement.create(curator_key(), artist.public, name, CREATED - 10, valid_until)
    bundle = build_bundle(content, mime, meta, artist, endorsement, CREATED, preview,
                          "image/webp" if preview else None)
    raw = bundle.signed.raw

    parsed = parse_manifest(raw)
    assert parsed.raw == raw
    assert parsed.work_id == bundle.work_id
    assert parsed.manifest == bundle.signed.manifest
    assert SignedManifest.from_manifest(parsed.manifest).raw == raw  # re-encoding is the identity
    assert verify_manifest(raw, trust()).manifest.title == meta.title

    blob = bundle.to_bytes()
    back = read_bundle(blob, trust())
    assert back.content == content
    assert back.to_bytes() == blob
    assert b"".join(back.chunks()) == content
    assert Endorsement.from_bytes(endorsement.to_bytes()) == endorsement
