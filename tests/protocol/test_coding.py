"""Coded repair frames: the GF(2) decoder, and the engine verifying what it decodes."""

from __future__ import annotations

import random

import pytest

from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol import frames as fr
from node.protocol.coding import Decoder, bits, chunk_int, coded_indices, int_chunk
from node.protocol.events import RxInfo
from node.store.memory import MemoryStore
from tests import factories


def combine(chunks: list[bytes], mask: int) -> bytes:
    value = 0
    for i in bits(mask):
        value ^= chunk_int(chunks[i])
    return int_chunk(value)


def test_coded_indices_are_deterministic_and_about_half_dense():
    short = b"\x01\x02\x03\x04"
    a = coded_indices(short, 7, 147)
    assert a == coded_indices(short, 7, 147)
    assert a != coded_indices(short, 8, 147)
    assert a < 1 << 147
    densities = [coded_indices(short, s, 147).bit_count() / 147 for s in range(50)]
    assert 0.4 < sum(densities) / len(densities) < 0.6


def test_decoder_solves_any_independent_set_of_combinations():
    rng = random.Random(3)
    unknown = {i: rng.randbytes(224) for i in (2, 5, 9, 11, 40)}
    decoder = Decoder(max_rows=16)
    decoded: dict[int, int] = {}
    seed = 0
    while len(decoded) < len(unknown):
        mask = coded_indices(b"abcd", seed, 41) & sum(1 << i for i in unknown)
        seed += 1
        payload = 0
        for i in bits(mask):
            payload ^= chunk_int(unknown[i])
        out = decoder.add(mask, payload) if mask else []
        assert out is not None
        decoded.update(out)
        assert seed < 60
    assert {i: int_chunk(v) for i, v in decoded.items()} == unknown
    assert len(decoder) == 0


def test_decoder_learns_plain_chunks_and_reports_pivots_as_not_needing_a_request():
    a, b, c = (bytes([n]) * 224 for n in (1, 2, 3))
    decoder = Decoder(max_rows=4)
    assert decoder.add(0b011, chunk_int(a) ^ chunk_int(b)) == []
    assert decoder.add(0b110, chunk_int(b) ^ chunk_int(c)) == []
    assert decoder.pivots() == [0, 1]  # knowing chunk 2 alone decodes the other two
    got = dict(decoder.learn(2, chunk_int(c)))
    assert got == {0: chunk_int(a), 1: chunk_int(b)}


def test_decoder_buffer_is_bounded():
    decoder = Decoder(max_rows=2)
    assert decoder.add(0b001, 1) == [(0, 1)]
    assert decoder.add(0b0110, 5) == []
    assert decoder.add(0b1100, 6) == []
    assert decoder.add(0b11000, 7) is None  # full: a new equation is refused, not stored
    assert decoder.add(0b1010, 3) is not None  # a dependent one is still recognised


def receiver(bundle, have: list[int]) -> tuple[GossipEngine, MemoryStore]:
    store = MemoryStore()
    store.put_manifest(bundle.signed)
    for i in have:
        store.put_chunk(bundle.work_id, i, bundle.chunks()[i])
    config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])
    engine = GossipEngine(factories.node_key("rx"), factories.trust(), store, random.Random(1), config, 0.0)
    return engine, store


def coded_frame(bundle, seed: int, payload: bytes | None = None) -> bytes:
    chunks = bundle.chunks()
    short = bundle.work_id[:4]
    mask = coded_indices(short, seed, len(chunks))
    return fr.encode(fr.CodedChunk(short, seed, payload if payload is not None else combine(chunks, mask)))


def test_coded_frames_fill_different_holes_and_every_decoded_chunk_is_verified():
    bundle = factories.make_bundle(20 * 224 - 100, "coded")  # the last chunk is short: padding is checked
    chunks = bundle.chunks()
    holes = [3, 8, 19]
    engine, store = receiver(bundle, [i for i in range(len(chunks)) if i not in holes])
    seed = 0
    while not store.is_complete(bundle.work_id):
        engine.receive_frame(coded_frame(bundle, seed), "radio", RxInfo(sender="!src"), 1.0 + seed)
        seed += 1
        assert seed < 30
    assert store.content(bundle.work_id) == bundle.content
    assert engine.status(60.0).drops.get("bad-coded", 0) == 0


@pytest.mark.parametrize("seed", range(5))
def test_a_forged_coded_frame_never_leads_to_a_stored_chunk(seed):
    bundle = factories.make_bundle(12 * 224, "forged-coded")
    chunks = bundle.chunks()
    holes = [1, 6]
    engine, store = receiver(bundle, [i for i in range(len(chunks)) if i not in holes])
    rng = random.Random(seed)
    for n in range(6):
        engine.receive_frame(coded_frame(bundle, 100 + n, rng.randbytes(224)), "radio", RxInfo(sender="!evil"), n)
    assert store.have_chunks(bundle.work_id) == set(range(len(chunks))) - set(holes)
    for n in range(6):  # honest frames still complete the work afterwards
        engine.receive_frame(coded_frame(bundle, n), "radio", RxInfo(sender="!src"), 10.0 + n)
        if store.is_complete(bundle.work_id):
            break
    assert store.content(bundle.work_id) == bundle.content
    assert engine.status(60.0).drops.get("bad-coded", 0) >= 1


def test_coded_frames_are_full_size_and_decode_round_trip():
    frame = fr.CodedChunk(b"wxyz", 513, bytes(range(224)))
    data = fr.encode(frame)
    assert len(data) == fr.MAX_FRAME
    assert fr.decode(data) == frame
    with pytest.raises(fr.FrameError):
        fr.decode(data[:-1])
