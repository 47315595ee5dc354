"""Order: the catalogue (every manifest) before the bulk; works served in publishing order."""

from __future__ import annotations

import random

import pytest

from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol import frames as fr
from node.protocol.events import ManifestReceived, RxInfo, WorkCompleted
from node.store.memory import MemoryStore
from tests import factories
from tests.protocol.test_dissemination import LOSSY, build


def engine_on(store: MemoryStore, name: str) -> GossipEngine:
    config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])
    return GossipEngine(factories.node_key(name), factories.trust(), store, random.Random(3), config, 0.0)


def sent(engine: GossipEngine, start: float, until: float) -> list[tuple[float, fr.Frame]]:
    out = []
    now = start
    while now < until:
        engine.handle_timer(now)
        while (data := engine.poll_frame("radio", now)) is not None:
            out.append((now, fr.decode(data)))
        now = round(now + 0.05, 6)
    return out


def test_a_holder_sends_a_requested_manifest_before_the_bulk_it_already_promised():
    engine = engine_on(MemoryStore(), "holder")
    bulk, news = factories.make_bundle(20_000, "bulk"), factories.make_bundle(3000, "news")
    engine.ingest_bundle(bulk, 0.0)
    engine.ingest_bundle(news, 0.0)
    engine.receive_frame(fr.encode(fr.Request(bulk.work_id[:4], fr.TARGET_CHUNKS, 0, b"")), "radio", RxInfo("a"), 1.0)
    engine.receive_frame(fr.encode(fr.Request(news.work_id[:4], fr.TARGET_MANIFEST, 0, b"")), "radio",
                         RxInfo("b"), 1.01)
    frames = [f for _, f in sent(engine, 1.01, 30.0) if isinstance(f, (fr.ManifestPiece, fr.DataChunk))]
    pieces = fr.ManifestPiece.piece_count(len(news.signed.raw))
    assert [type(f) for f in frames[:pieces]] == [fr.ManifestPiece] * pieces
    assert all(f.short_id == news.work_id[:4] for f in frames[:pieces])
    assert len(frames) > pieces


def test_a_node_asks_for_a_new_manifest_before_the_chunks_of_a_work_it_knows():
    known, other = factories.make_bundle(8000, "known"), factories.make_bundle(3000, "other")
    store = MemoryStore()
    store.put_manifest(known.signed)  # the catalogue entry of a work whose chunks are all missing
    engine = engine_on(store, "relay")
    advert = fr.Advert(b"abcd", 0, 1, (fr.AdvertEntry(other.work_id[:4], fr.STATE_COMPLETE),))
    engine.receive_frame(fr.encode(advert), "radio", RxInfo("src"), 0.0)
    requests = [(t, f) for t, f in sent(engine, 0.0, 60.0) if isinstance(f, fr.Request)]
    first_chunk_ask = next(t for t, f in requests if f.target == fr.TARGET_CHUNKS)
    manifest_asks = [t for t, f in requests if f.target == fr.TARGET_MANIFEST]
    assert len(manifest_asks) >= 2 and manifest_asks[1] < first_chunk_ask  # its first asks go first


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_catalogue_is_everywhere_before_the_bulk_is(seed):
    mesh, names = build("grid", 9, seed, **LOSSY)
    bundles = [factories.make_bundle(6000 + 500 * i, f"order-{i}") for i in range(3)]
    ids = [mesh.nodes[names[0]].engine.ingest_bundle(b, 0.0) for b in bundles]
    mesh.run(4 * 3600, stop=lambda: all(mesh.complete(w) for w in ids))
    assert all(mesh.complete(w) for w in ids)
    for name in names[1:]:
        events = mesh.nodes[name].events
        manifests = [i for i, e in enumerate(events) if isinstance(e, ManifestReceived)]
        completions = [i for i, e in enumerate(events) if isinstance(e, WorkCompleted)]
        assert len(manifests) == 3 and max(manifests) < completions[-1], name
