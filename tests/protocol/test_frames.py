"""The frame codec: layouts round-trip, nothing encodes over 231 bytes, junk only raises FrameError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.protocol import frames as fr
from node.protocol.peers import beacon_signature_ok, sign_beacon
from tests import factories

short_ids = st.binary(min_size=4, max_size=4)


def advert_strategy():
    entry = st.builds(fr.AdvertEntry, short_ids, st.integers(0, 0xFFFF))
    return st.builds(lambda d, p, n, e: fr.Advert(d, min(p, n - 1), n, tuple(e)),
                     st.binary(min_size=4, max_size=4), st.integers(0, 254), st.integers(1, 255),
                     st.lists(entry, max_size=fr.ADVERT_MAX_ENTRIES))


def manifest_piece_strategy():
    def build(short, total, index_seed):
        count = fr.ManifestPiece.piece_count(total)
        index = index_seed % count
        size = min(fr.MANIFEST_PIECE_MAX, total - index * fr.MANIFEST_PIECE_MAX)
        return fr.ManifestPiece(short, index, total, bytes(size))
    return st.builds(build, short_ids, st.integers(1, 16 * 1024), st.integers(0, 1000))


frame_strategy = st.one_of(
    advert_strategy(),
    manifest_piece_strategy(),
    st.builds(fr.DataChunk, short_ids, st.integers(0, 0xFFFF), st.binary(min_size=1, max_size=fr.DATA_MAX)),
    st.builds(fr.Request.for_indices, short_ids, st.sampled_from([0, 1]),
              st.lists(st.integers(0, 1170), max_size=300)),
    st.builds(fr.TakedownFrame, st.binary(min_size=1, max_size=fr.MAX_FRAME - 1)),
)


@given(frame_strategy)
@settings(max_examples=400)
def test_every_frame_fits_and_round_trips(frame):
    data = fr.encode(frame)
    assert len(data) <= fr.MAX_FRAME
    assert data[0] >> 4 == fr.VERSION
    assert fr.decode(data) == frame


@given(st.text(max_size=300), st.text(max_size=300),
       st.one_of(st.none(), st.floats(-90, 90)), st.one_of(st.none(), st.floats(-180, 180)),
       st.integers(0, 2**32 - 1), st.integers(0, 2**40))
@settings(max_examples=100)
def test_status_beacon_fits_whatever_the_texts_and_verifies(venue, version, lat, lon, seq, uptime):
    key = factories.node_key("beacon")
    beacon = sign_beacon(fr.StatusBeacon(key.public.raw, 7, seq, uptime, 12, 3, lat, lon, version, venue), key)
    data = fr.encode(beacon)
    assert len(data) <= fr.MAX_FRAME
    back = fr.decode(data)
    assert isinstance(back, fr.StatusBeacon)
    assert beacon_signature_ok(back)
    assert venue.startswith(back.venue) and version.startswith(back.version)
    if lat is not None:
        assert back.lat == pytest.approx(lat, abs=1e-6)


@given(st.binary(max_size=300))
@settings(max_examples=1000)
def test_decoding_junk_raises_only_frame_error(data):
    try:
        fr.decode(data)
    except fr.FrameError as exc:
        assert exc.reason


@given(frame_strategy, st.integers(0, 230), st.integers(0, 255))
@settings(max_examples=400)
def test_flipped_or_truncated_frames_raise_only_frame_error(frame, pos, value):
    data = bytearray(fr.encode(frame))
    data[pos % len(data)] = value
    for candidate in (bytes(data), bytes(data[: pos % len(data)])):
        with contextlib.suppress(fr.FrameError):
            fr.decode(candidate)


def test_data_frame_with_full_chunk_is_exactly_231_bytes():
    assert len(fr.encode(fr.DataChunk(b"abcd", 3, bytes(224)))) == 231


def test_encoder_refuses_oversize_frames():
    with pytest.raises(ValueError):
        fr.encode(fr.DataChunk(b"abcd", 0, bytes(225)))
    with pytest.raises(ValueError):
        fr.encode(fr.TakedownFrame(bytes(231)))


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (bytes(232), "oversize"),
    (bytes([0x43]) + bytes(10), "unknown-version"),
    (bytes([0x13]) + bytes(230), "old-version"),  # a version-1 node: it needs an update
    (bytes([0x23]) + bytes(230), "old-version"),  # version 2 (no source margin in requests)
    (bytes([0x3F]) + bytes(10), "unknown-kind"),
    (bytes([0x33, 1, 2]), "truncated"),
    (bytes([0x34, 1, 2, 3, 4, 9, 0, 0, 0]), "malformed"),
])
def test_drop_reasons(data, reason):
    with pytest.raises(fr.FrameError) as info:
        fr.decode(data)
    assert info.value.reason == reason


def test_request_bitmap_names_exactly_the_missing_indices():
    wanted = [5, 6, 17, 400, 1170]
    req = fr.Request.for_indices(b"abcd", fr.TARGET_CHUNKS, wanted)
    assert req.base == 5
    assert fr.decode(fr.encode(req)).indices() == wanted
    assert fr.Request.for_indices(b"abcd", fr.TARGET_MANIFEST, []).wants_all


def test_a_batch_round_trips_and_refuses_nesting_and_single_entries():
    req = fr.encode(fr.Request.for_indices(b"abcd", fr.TARGET_CHUNKS, [1, 2, 3]))
    advert = fr.encode(fr.Advert(b"wxyz", 0, 1, (fr.AdvertEntry(b"abcd", fr.STATE_COMPLETE),)))
    data = fr.encode(fr.Batch((req, advert)))
    assert len(data) == fr.Batch.size([req, advert])
    assert fr.decode(data) == fr.Batch((req, advert))
    with pytest.raises(fr.FrameError):
        fr.decode(data[: 1 + 1 + len(req)])  # one entry only
    with pytest.raises(fr.FrameError):
        fr.decode(bytes([data[0], len(data)]) + data)  # a batch in a batch
    with pytest.raises(fr.FrameError):
        fr.decode(data[:-1])  # an entry runs past the end
