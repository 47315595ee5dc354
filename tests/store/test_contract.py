"""The WorkStore contract, checked identically on MemoryStore and SqliteStore."""

from __future__ import annotations

import random

import pytest

from node.artwork import Takedown
from node.store import BadChunk, QuotaExceeded, Quotas, TakenDown, UnknownWork
from tests.factories import artist_key, curator_key, make_bundle


def test_manifest_is_stored_once_stamped_by_the_stores_own_clock(make_store) -> None:
    times = iter([1_790_000_012.5, 1_790_000_099.0])
    store = make_store(clock=lambda: next(times))
    bundle = make_bundle(1000)
    assert store.put_manifest(bundle.signed) is True
    assert store.put_manifest(bundle.signed) is False
    got = store.get_manifest(bundle.work_id)
    assert got is not None and got.raw == bundle.signed.raw and got.work_id == bundle.work_id
    assert store.get_manifest(b"\x00" * 32) is None
    assert store.work_ids() == [bundle.work_id]
    (summary,) = store.summaries()
    assert (summary.chunks_have, summary.chunks_total, summary.complete) == (0, 5, False)
    assert summary.received_at == 1_790_000_012.5  # the first storing's wall-clock time


def test_chunks_complete_a_work_only_when_all_are_there(make_store) -> None:
    store = make_store()
    bundle = make_bundle(2000)
    pieces = bundle.chunks()
    store.put_manifest(bundle.signed)
    order = list(range(len(pieces)))
    random.Random(7).shuffle(order)
    for n, index in enumerate(order, start=1):
        assert store.is_complete(bundle.work_id) is False
        assert store.content(bundle.work_id) is None
        assert store.put_chunk(bundle.work_id, index, pieces[index]) is True
        assert store.have_chunks(bundle.work_id) == set(order[:n])
        assert store.get_chunk(bundle.work_id, index) == pieces[index]
    assert store.is_complete(bundle.work_id)
    assert store.content(bundle.work_id) == bundle.content
    assert store.put_chunk(bundle.work_id, order[0], pieces[order[0]]) is False
    (summary,) = store.summaries()
    assert summary.complete and summary.chunks_have == summary.chunks_total == len(pieces)
    assert summary.fraction == 1.0


def test_put_chunk_refuses_unknown_works_and_bad_chunks(make_store) -> None:
    store = make_store()
    bundle = make_bundle(1000)
    pieces = bundle.chunks()
    with pytest.raises(UnknownWork):
        store.put_chunk(bundle.work_id, 0, pieces[0])
    store.put_manifest(bundle.signed)
    flipped = bytes([pieces[0][0] ^ 1]) + pieces[0][1:]
    for index, data in [(0, flipped), (1, pieces[0]), (0, pieces[0][:-1]), (len(pieces), pieces[-1]), (-1, pieces[0])]:
        with pytest.raises(BadChunk):
            store.put_chunk(bundle.work_id, index, data)
    assert store.have_chunks(bundle.work_id) == set()
    assert store.get_chunk(bundle.work_id, 0) is None


def test_ingest_bundle_stores_everything_and_reports_repeats(make_store) -> None:
    store = make_store()
    bundle = make_bundle(3000)
    assert store.ingest_bundle(bundle) is True
    assert store.is_complete(bundle.work_id)
    assert store.content(bundle.work_id) == bundle.content
    assert store.ingest_bundle(bundle) is False
    assert store.used_bytes() == len(bundle.signed.raw) + len(bundle.content)


def test_ingest_bundle_completes_a_partial_work(make_store) -> None:
    store = make_store()
    bundle = make_bundle(3000)
    store.put_manifest(bundle.signed)
    store.put_chunk(bundle.work_id, 3, bundle.chunks()[3])
    assert store.ingest_bundle(bundle) is True
    assert store.content(bundle.work_id) == bundle.content


def test_a_tampered_bundle_stores_nothing(make_store) -> None:
    store = make_store()
    good = make_bundle(3000)
    bad_content = good.content[:-1] + bytes([good.content[-1] ^ 0xFF])
    tampered = type(good)(good.signed, bad_content)  # bypasses read_bundle on purpose
    with pytest.raises(BadChunk):
        store.ingest_bundle(tampered)
    assert store.work_ids() == []
    assert store.used_bytes() == 0


def test_total_quota(make_store) -> None:
    first, second = make_bundle(3000, "a"), make_bundle(3000, "b")
    need = len(first.signed.raw) + 3000
    store = make_store(Quotas(total_bytes=need + 100, per_artist_bytes=10**9))
    store.ingest_bundle(first)
    with pytest.raises(QuotaExceeded):
        store.ingest_bundle(second)
    with pytest.raises(QuotaExceeded):
        store.put_manifest(second.signed)
    assert store.work_ids() == [first.work_id]
    store.delete_work(first.work_id)
    assert store.used_bytes() == 0
    assert store.ingest_bundle(second) is True


def test_per_artist_quota_leaves_room_for_other_artists(make_store) -> None:
    ada, bob = artist_key("ada"), artist_key("bob")
    a1, a2 = make_bundle(3000, "a1", artist=ada), make_bundle(3000, "a2", artist=ada)
    b1 = make_bundle(3000, "b1", artist=bob)
    store = make_store(Quotas(total_bytes=10**9, per_artist_bytes=len(a1.signed.raw) + 3000 + 50))
    store.ingest_bundle(a1)
    with pytest.raises(QuotaExceeded):
        store.ingest_bundle(a2)
    assert store.ingest_bundle(b1) is True
    assert sorted(store.work_ids()) == sorted([a1.work_id, b1.work_id])


def test_takedown_removes_a_work_and_keeps_it_out(make_store) -> None:
    store = make_store()
    bundle, other = make_bundle(2000, "gone"), make_bundle(2000, "stays")
    store.ingest_bundle(bundle)
    store.ingest_bundle(other)
    takedown = Takedown.create(curator_key(), bundle.work_id, "copyright claim", 1_790_000_100)
    assert store.apply_takedown(takedown) is True
    assert store.apply_takedown(takedown) is False
    assert store.is_taken_down(bundle.work_id)
    assert not store.is_taken_down(other.work_id)
    assert store.get_manifest(bundle.work_id) is None
    assert store.content(bundle.work_id) is None
    assert store.have_chunks(bundle.work_id) == set()
    assert store.work_ids() == [other.work_id]
    assert store.takedowns() == [takedown]
    with pytest.raises(TakenDown):
        store.ingest_bundle(bundle)
    with pytest.raises(TakenDown):
        store.put_manifest(bundle.signed)
    with pytest.raises(UnknownWork):
        store.put_chunk(bundle.work_id, 0, bundle.chunks()[0])
    assert store.used_bytes() == len(other.signed.raw) + 2000


def test_takedown_before_the_work_arrives(make_store) -> None:
    store = make_store()
    bundle = make_bundle(1000)
    store.apply_takedown(Takedown.create(curator_key(), bundle.work_id, "", 1))
    with pytest.raises(TakenDown):
        store.ingest_bundle(bundle)
    assert store.work_ids() == []


def test_work_ids_are_sorted_and_delete_is_idempotent(make_store) -> None:
    store = make_store()
    bundles = [make_bundle(500, f"w{i}") for i in range(5)]
    for bundle in bundles:
        store.ingest_bundle(bundle)
    assert store.work_ids() == sorted(b.work_id for b in bundles)
    assert [s.work_id for s in store.summaries()] == store.work_ids()
    store.delete_work(bundles[0].work_id)
    store.delete_work(bundles[0].work_id)
    assert bundles[0].work_id not in store.work_ids()
    assert store.content(bundles[0].work_id) is None


def test_one_works_summary_matches_the_listing(make_store) -> None:
    store = make_store(clock=lambda: 1_790_000_500.0)
    whole, partial = make_bundle(2000, "one"), make_bundle(3000, "two")
    store.ingest_bundle(whole)
    store.put_manifest(partial.signed)
    store.put_chunk(partial.work_id, 1, partial.chunks()[1])
    listed = {s.work_id: s for s in store.summaries()}
    for bundle in (whole, partial):
        assert store.summary(bundle.work_id) == listed[bundle.work_id]
    assert store.summary(b"\x01" * 32) is None
    assert listed[whole.work_id].received_at == 1_790_000_500.0
