"""Issue 17 item 6: small amplifications and replays.

One advert listing 37 taken-down works as complete brought back 32 takedown frames (x32),
once a minute per link; a beacon from 5 boots ago, or one replayed after its node was flushed
from the 256-entry peer table by 300 throw-away identities, was accepted as fresh.
"""

from __future__ import annotations

import random

from node.artwork import SecretKey, Takedown
from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.protocol.peers import sign_beacon
from node.store.memory import MemoryStore
from node.store.sqlite import SqliteStore
from tests import factories

CONFIG = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST")])


def engine(name: str, store: MemoryStore | SqliteStore | None = None, seed: int = 1) -> GossipEngine:
    return GossipEngine(factories.node_key(name), factories.trust(), store or MemoryStore(), random.Random(seed),
                        CONFIG, 0.0)


def drain(e: GossipEngine, now: float) -> list[fr.Frame]:
    return [fr.decode(data) for _, data in e.frames_to_send(now)]


def test_an_advert_of_37_taken_down_works_brings_back_a_few_takedowns_not_37():
    holder = engine("holder")
    curator = factories.curator_key()
    ids = [random.Random(i).randbytes(32) for i in range(37)]
    for work_id in ids:
        holder.apply_takedown(Takedown.create(curator, work_id, "gone", 1), 0.0)
    now = 0.0
    while now < 600.0:  # the takedowns' own repeats go out first
        holder.handle_timer(now)
        drain(holder, now)
        now += 1.0
    advert = fr.encode(fr.Advert(b"liar", 0, 1, tuple(fr.AdvertEntry(w[:4], fr.STATE_COMPLETE) for w in ids)))
    per_advert = []
    for minute in range(10):
        holder.receive_frame(advert, "radio", RxInfo(f"liar-{minute}"), now)
        sent = 0
        for _ in range(60):
            holder.handle_timer(now)
            sent += sum(isinstance(f, fr.TakedownFrame) for f in drain(holder, now))
            now += 1.0
        per_advert.append(sent)
    assert max(per_advert) <= 3, per_advert
    assert sum(per_advert) >= 10  # the stale node is still told, a few at a time


def beacon_of(key: SecretKey, boot: int, seq: int) -> bytes:
    return fr.encode(sign_beacon(fr.StatusBeacon(key.public.raw, boot, seq, 0, 0, 0, None, None, "x", "v"), key))


def test_a_beacon_from_five_boots_ago_is_a_replay():
    e = engine("listener")
    key = factories.node_key("peer")
    for boot in range(1, 7):
        e.receive_frame(beacon_of(key, boot * 1000, 3), "radio", RxInfo("peer"), float(boot))
    e.receive_frame(beacon_of(key, 2000, 3), "radio", RxInfo("replayer"), 10.0)
    assert e.status(10.0).drops.get("replay") == 1


def test_throw_away_identities_do_not_flush_a_real_nodes_guard():
    e = engine("listener")
    real = factories.node_key("real")
    for seq in range(1, 6):  # a real node, heard for an hour
        e.receive_frame(beacon_of(real, 77, seq), "radio", RxInfo("real"), seq * 900.0)
    old = beacon_of(real, 77, 2)
    now = 6 * 900.0
    for i in range(1500):  # throw-away identities, more than the peer table and the guard hold
        e.receive_frame(beacon_of(SecretKey.from_seed_text(f"junk-{i}", "node"), i, 1), "radio",
                        RxInfo(f"n{i}"), now + i)
    before = e.status(now).drops.get("replay", 0)
    e.receive_frame(old, "radio", RxInfo("replayer"), now + 2000)
    assert e.status(now + 2000).drops.get("replay", 0) == before + 1


def test_the_replay_guard_survives_a_reboot(tmp_path):
    key = factories.node_key("peer")
    store = SqliteStore(tmp_path)
    first = engine("listener", store)
    first.receive_frame(beacon_of(key, 5, 9), "radio", RxInfo("peer"), 1.0)
    store.close()
    store = SqliteStore(tmp_path)
    rebooted = engine("listener", store, seed=1)  # the same seed: its own boot id must still be new
    rebooted.receive_frame(beacon_of(key, 5, 9), "radio", RxInfo("replayer"), 1.0)
    rebooted.receive_frame(beacon_of(key, 5, 8), "radio", RxInfo("replayer"), 1.0)
    assert rebooted.status(1.0).drops.get("replay") == 2
    own = [g for g in store.beacon_guards() if g.node_key == rebooted.identity.public.raw]
    assert len(own) == 1 and len(own[0].old_boots) == 1  # a fresh boot id, the old one remembered
    store.close()
