"""A signed manifest whose times lie outside what a page can show is refused at verification."""

from __future__ import annotations

import pytest

from node.artwork import Endorsement, VerificationError, WorkMetadata, build_bundle, read_bundle, verify_manifest
from node.artwork.manifest import MAX_UNIX_TIME, parse_manifest
from tests.factories import CREATED, artist_key, curator_key, trust

META = WorkMetadata(title={"en": "Far future"}, creator="Ada Test", year=2026, artform="poetry", medium="text",
                    license="https://creativecommons.org/licenses/by/4.0/")


def signed_raw(created: int, valid_until: int | None = None, year: int = 2026) -> bytes:
    artist = artist_key("dates")
    endorsement = Endorsement.create(curator_key(), artist.public, "Ada Test", CREATED - 86400, valid_until)
    meta = WorkMetadata(**{**META.__dict__, "year": year})
    return build_bundle(b"a poem", "text/plain", meta, artist, endorsement, created).to_bytes()


@pytest.mark.parametrize(("created", "valid_until", "year", "field"), [
    (MAX_UNIX_TIME + 1, None, 2026, "created"),
    (10**15, None, 2026, "created"),
    (CREATED, MAX_UNIX_TIME + 1, 2026, "endorsement.valid_until"),
])
def test_an_endorsed_artists_out_of_range_time_is_refused_with_one_line(created, valid_until, year, field):
    data = signed_raw(created, valid_until, year)
    with pytest.raises(VerificationError) as info:
        read_bundle(data, trust())
    assert info.value.reason == "invalid-field"
    assert f"manifest field '{field}' is outside 0.." in str(info.value)
    assert "\n" not in str(info.value)


def test_the_last_representable_second_is_still_accepted():
    bundle = read_bundle(signed_raw(MAX_UNIX_TIME - 10, MAX_UNIX_TIME), trust())
    assert verify_manifest(bundle.signed.raw, trust()).manifest.created == MAX_UNIX_TIME - 10


def test_parsing_alone_still_reads_a_stored_out_of_range_manifest():
    # a store re-parses what it verified before this check existed; it must not lose it
    data = signed_raw(10**15)
    length = int.from_bytes(data[8:12], "big")  # the bundle header: magic and version, manifest length
    assert parse_manifest(data[12 : 12 + length]).manifest.created == 10**15
