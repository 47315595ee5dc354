"""The flood baseline: the firmware's router rules, multi-work holdings, repair, roles and the expert set-up."""

import dataclasses
import random
import subprocess
import sys
from pathlib import Path

import pytest

from node.lora import MAX_APP_PAYLOAD, preset
from node.store.memory import MemoryStore
from simulator.bound import min_connected_dominating_set
from simulator.channel.contention import CW_MAX, cw_size, worst_relay_delay
from simulator.flood.frames import (
    Kind,
    Missing,
    Piece,
    Routing,
    Section,
    missing_payloads,
    parse_payload,
    parse_routing,
    work_packets,
)
from simulator.flood.holdings import MAX_UNVERIFIED, FloodHoldings
from simulator.flood.roles import Role
from simulator.flood.router import NUM_RELIABLE_RETX, ManagedFloodRouter
from simulator.protocols import FloodDriver, hop_limit_across
from simulator.runner import RunSpec, build_world, run
from simulator.scenarios import Reboot, load_scenario
from simulator.workload import make_workload, uniform_specs

ROOT = Path(__file__).resolve().parents[2]
MEDIUM_FAST = preset("MEDIUM_FAST")
SLOT = MEDIUM_FAST.slot_time
PAYLOAD = bytes([Kind.CHUNK]) + b"abcd" + b"\x00\x01" + bytes(200)


def router(role=Role.CLIENT, node=2, seed=1):
    return ManagedFloodRouter(node, role, MEDIUM_FAST, random.Random(seed))


def frame(sender=1, packet_id=7, hop_limit=3, hop_start=3, payload=PAYLOAD):
    return Routing(sender, packet_id, hop_limit, hop_start).pack() + payload


def drain(r, now=0.0, until=3600.0):
    """Run the router's own timers alone (nobody else on air); the frames it sends, with their times."""
    sent = []
    while True:
        due = r.next_due()
        if due is None or due > until:
            return sent
        now = max(now, due)
        r.handle_timer(now)
        out = r.poll(now)
        if out is not None:
            sent.append((now, out))
            now += r.airtime(out)


# -- the four firmware details ----------------------------------------------------------------------
def test_a_reliable_broadcast_nobody_relays_is_sent_three_times_then_given_up():
    source = router(node=1)
    source.originate(PAYLOAD, 0.0, hop_limit=3, want_ack=True)
    sent = drain(source)
    assert NUM_RELIABLE_RETX - 1 == 2
    assert len(sent) == 3  # the first send and 2 retransmissions
    assert {parse_routing(f).key for _, f in sent} == {(1, 1)}
    assert source.counters.retransmitted == 2 and source.counters.gave_up == 1
    assert source.awaiting_ack == 0


def test_hearing_a_relay_is_the_implicit_ack():
    source = router(node=1)
    source.originate(PAYLOAD, 0.0, hop_limit=3, want_ack=True)
    assert source.poll(0.0) is not None
    assert source.receive(frame(sender=1, packet_id=1, hop_limit=2), snr=5.0, now=1.0) is None
    assert source.counters.implicit_acks == 1
    assert source.awaiting_ack == 0 and drain(source, 1.0) == []


def test_an_originators_repeat_does_not_cancel_a_pending_relay_but_a_relay_does():
    relay = router()
    assert relay.receive(frame(hop_limit=3), snr=0.0, now=0.0) == PAYLOAD
    assert relay.queued == 1
    assert relay.receive(frame(hop_limit=3), snr=0.0, now=0.1) is None  # the source retried
    assert relay.queued == 1 and relay.counters.cancelled == 0
    assert relay.receive(frame(hop_limit=2), snr=0.0, now=0.2) is None  # someone else relayed it
    assert relay.queued == 0 and relay.counters.cancelled == 1


def test_an_originators_repeat_is_relayed_again_once_the_relay_went_out():
    relay = router()
    relay.receive(frame(hop_limit=3), snr=0.0, now=0.0)
    first = drain(relay)
    assert len(first) == 1 and parse_routing(first[0][1]) == Routing(1, 7, 2, 3)
    relay.receive(frame(hop_limit=3), snr=0.0, now=10.0)  # its ACK was lost: the source repeats
    assert len(drain(relay, 10.0)) == 1


def test_the_relay_delay_is_drawn_again_after_every_reception_and_busy_channel():
    relay = router()
    relay.receive(frame(packet_id=1), snr=10.0, now=0.0)
    due = relay.next_due()
    assert due is not None and 2 * CW_MAX * SLOT <= due <= worst_relay_delay(10.0, SLOT)
    heard = due - 0.01  # another frame ends just before the relay was due
    relay.receive(frame(sender=3, packet_id=9, hop_limit=0), snr=-15.0, now=heard)
    assert relay.poll(due) is None
    assert relay.next_due() >= heard + 2 * CW_MAX * SLOT
    busy = relay.next_due()
    relay.channel_busy(busy)
    assert relay.next_due() >= busy + 2 * CW_MAX * SLOT
    assert relay.queued == 1


def test_an_enqueue_keeps_the_pending_timer():
    relay = router()
    relay.receive(frame(packet_id=1), snr=10.0, now=0.0)
    due = relay.next_due()
    relay.originate(PAYLOAD, 0.05, hop_limit=3, want_ack=False)  # notifyLater does not overwrite
    assert relay.next_due() == due


def test_every_packet_fits_231_payload_bytes():
    world = build_world(RunSpec(scenario="amsterdam", size=40_000, protocol="flood"))
    bundle = world.driver.works[0].bundle
    packets = work_packets(bundle)
    assert max(len(p) for _, p in packets) == MAX_APP_PAYLOAD
    assert len([k for k, _ in packets if k[1] is Kind.CHUNK]) == bundle.signed.manifest.chunk_count


def test_missing_lists_fit_a_packet_and_name_exactly_the_missing_pieces():
    indices = sorted(random.Random(3).sample(range(5000), 900))
    payloads = missing_payloads(b"abcd", Section.CHUNKS, indices)
    assert all(len(p) <= MAX_APP_PAYLOAD for p in payloads)
    named = [i for p in payloads for i in parse_payload(p).indices]
    assert named == indices
    assert parse_payload(missing_payloads(b"abcd", Section.MANIFEST, [])[0]) == Missing(b"abcd", Section.MANIFEST, ())


# -- roles and hop limit ---------------------------------------------------------------------------
def test_client_mute_never_relays():
    mute = router(Role.CLIENT_MUTE)
    assert mute.receive(frame(), snr=0.0, now=0.0) == PAYLOAD
    assert mute.queued == 0 and drain(mute) == []


def test_a_router_relays_early_and_is_not_cancelled_by_duplicates():
    r = router(Role.ROUTER)
    r.receive(frame(), snr=10.0, now=0.0)
    assert r.next_due() < 2 * cw_size(10.0) * SLOT  # getTxDelayMsecWeighted: random(0, 2·CW) slots
    r.receive(frame(hop_limit=2), snr=0.0, now=0.01)
    assert r.queued == 1 and r.counters.cancelled == 0
    assert len(drain(r, 0.01)) == 1


def test_router_late_moves_its_relay_to_the_late_window_and_still_sends_it():
    r = router(Role.ROUTER_LATE)
    r.receive(frame(), snr=10.0, now=0.0)
    r.receive(frame(hop_limit=2), snr=0.0, now=0.01)
    assert r.counters.late == 1 and r.counters.cancelled == 0
    sent = drain(r, 0.01)
    assert len(sent) == 1 and sent[0][0] >= 0.01 + worst_relay_delay(10.0, SLOT)


def test_hop_limit_is_decremented_and_zero_is_not_relayed():
    r = router()
    r.receive(frame(hop_limit=1, hop_start=4), snr=0.0, now=0.0)
    [(_, out)] = drain(r)
    assert parse_routing(out) == Routing(1, 7, 0, 4)
    last = router()
    last.receive(frame(hop_limit=0, hop_start=4), snr=0.0, now=0.0)
    assert last.queued == 0


def test_hop_limit_across_a_line_of_routers():
    line = [[1], [0, 2], [1, 3], [2, 4], [3]]
    assert hop_limit_across(line, {1, 2, 3}, [0]) == 3  # 4 hops from the end: 3 relays
    assert hop_limit_across(line, {1, 2, 3}, [2]) == 1
    assert hop_limit_across(line, {1, 2, 3}, [0, 2]) == 3


def test_cli_refuses_a_hop_limit_above_seven_in_one_line():
    done = subprocess.run([sys.executable, "-m", "node", "sim", "run", "--scenario", "amsterdam", "--size", "1000",
                           "--protocol", "flood-repair", "--hop-limit", "9"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "--hop-limit must be 0..7" in done.stderr


# -- holdings --------------------------------------------------------------------------------------
def test_holdings_assemble_several_works_from_pieces_in_any_order():
    topo = load_scenario("amsterdam")
    workload = make_workload(uniform_specs(3, 3000), 5, topo, "three")
    holdings = FloodHoldings(MemoryStore(), workload.trust)
    pieces = [parse_payload(p) for w in workload.works for _, p in work_packets(w.bundle)]
    random.Random(2).shuffle(pieces)
    assert all(holdings.take(p, 0.0) for p in pieces)
    assert not any(holdings.take(p, 0.0) for p in pieces)  # nothing is new the second time
    for work in workload.works:
        assert holdings.store.is_complete(work.work_id)
        assert holdings.missing(work.bundle.signed.short_id) is None
    assert holdings.unverified == {}


def test_holdings_list_what_is_missing_and_bound_unverified_works():
    topo = load_scenario("amsterdam")
    work = make_workload(uniform_specs(1, 3000), 5, topo, "one").works[0]
    holdings = FloodHoldings(MemoryStore(), make_workload(uniform_specs(1, 10), 5, topo, "x").trust)
    short = work.bundle.signed.short_id
    chunk = next(parse_payload(p) for k, p in work_packets(work.bundle) if k[1] is Kind.CHUNK)
    holdings.take(chunk, 0.0)
    assert holdings.missing(short) == (Section.MANIFEST, [])  # no manifest piece heard: ask for all of it
    for i in range(MAX_UNVERIFIED + 10):
        holdings.take(Piece(i.to_bytes(4, "big"), Kind.CHUNK, 0, 0, b"x"), 0.0)
    assert len(holdings.unverified) == MAX_UNVERIFIED


# -- whole runs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flood_repair_completes_under_30_percent_loss(seed):
    spec = RunSpec(scenario="amsterdam-wide", size=3000, loss=0.3, seed=seed, hours=2)
    plain = run(RunSpec(**{**spec.__dict__, "protocol": "flood"}))
    repaired = run(RunSpec(**{**spec.__dict__, "protocol": "flood-repair"}))
    assert plain["complete_fraction"] < 1.0  # the reason the repair exists
    assert repaired["complete_fraction"] == 1.0
    assert repaired["max_duty_cycle"] <= repaired["duty_cycle_limit"]


def test_the_expert_routes_on_a_dominating_set_and_its_mute_nodes_never_relay():
    world = build_world(RunSpec(scenario="amsterdam-wide", size=3000, loss=0.3, seed=2, protocol="flood-expert"))
    driver = world.driver
    assert isinstance(driver, FloodDriver)
    routers = set(min_connected_dominating_set(world.links.usable, world.source).members)
    assert {i for i, r in driver.roles.items() if r is Role.ROUTER} == routers
    assert all(driver.roles[i] is Role.CLIENT_MUTE for i in range(len(world.nodes)) if i not in routers)
    world.queue.run_until(2 * 3600 * 1_000_000, stop=lambda: all(n.completed_at is not None for n in world.nodes))
    assert all(n.completed_at is not None for n in world.nodes)
    for node in world.nodes:
        if node.index not in routers:
            assert node.agent.router.counters.relayed == 0


def test_a_node_rebooted_mid_flood_is_repaired():
    spec = RunSpec(scenario="amsterdam", size=8000, protocol="flood-repair")
    rebooting = dataclasses.replace(load_scenario("amsterdam"), reboots=(Reboot("waag", 20.0, 30.0),))
    result = run(spec, topology=rebooting)
    assert result["complete_fraction"] == 1.0
    waag = next(n for n in result["nodes"] if n["name"] == "waag")
    assert waag["completion_s"] > 50


def test_a_multi_work_workload_floods_from_every_venue():
    result = run(RunSpec(scenario="amsterdam", size=2000, works=4, protocol="flood"))
    assert result["complete_fraction"] == 1.0
    assert sorted({w["venue"] for w in result["works"]}) == ["nemo", "oba", "waag", "zwijger"]
    assert all(w["everywhere_s"] is not None for w in result["works"])
