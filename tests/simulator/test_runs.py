"""Whole runs: completion, invariants, reboots, determinism across processes, the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.runner import RunSpec, build_world, public, run
from simulator.scenarios import load_scenario, parse_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("protocol", ["gossip", "flood"])
def test_amsterdam_completes_within_the_limits(protocol):
    result = run(RunSpec(scenario="amsterdam", size=8000, protocol=protocol))
    assert result["complete_fraction"] == 1.0
    assert result["completion_s"] is not None
    assert result["max_duty_cycle"] <= result["duty_cycle_limit"]
    # the source alone dominates the four venues, so it must send the whole work at least once
    assert result["mcds"] == ["oba"]
    # the source must send the work and its manifest once: the cut-set bound is exactly that, and honest
    assert result["lp_bound_airtime_s"] <= result["airtime_s"]
    assert result["airtime_over_lp"] >= 1.0 and result["lp_exact"]
    assert result["lp_time_bound_s"] <= result["completion_s"]
    assert sum(n["airtime_s"] for n in result["nodes"]) == pytest.approx(result["airtime_s"], abs=1e-3)
    assert {n["name"] for n in result["nodes"] if n["complete"]} == {"nemo", "oba", "waag", "zwijger"}


def test_flood_needs_at_least_two_transmissions_per_packet_here():
    result = run(RunSpec(scenario="amsterdam", size=8000, protocol="flood"))
    source = next(n for n in result["nodes"] if n["name"] == "oba")
    relays = result["frames_sent"] - source["frames_sent"]
    assert relays >= source["frames_sent"]  # every packet is rebroadcast at least once (hop limit 3)


def test_a_rebooted_node_keeps_its_store_and_completes():
    topo = load_scenario("amsterdam")
    doc = {
        "nodes": [{"name": n.name, "lat": n.lat, "lon": n.lon, "antenna_m": n.antenna_m} for n in topo.nodes],
        "source": "oba",
        "reboots": [{"node": "waag", "at_s": 20, "down_s": 30}],
    }
    rebooting = parse_topology(json.dumps(doc), "reboot.json")
    result = run(RunSpec(scenario="amsterdam", size=8000, protocol="gossip"), topology=rebooting)
    assert result["complete_fraction"] == 1.0
    waag = next(n for n in result["nodes"] if n["name"] == "waag")
    assert waag["completion_s"] > 50  # it was down from 20 s to 50 s

    # the flood has no repair: what waag missed while down stays missing, what it had stays stored
    world = build_world(RunSpec(scenario="amsterdam", size=8000, protocol="flood"), rebooting)
    work_id = world.driver.workload.bundle.work_id
    waag_node = world.nodes[rebooting.index("waag")]
    world.queue.run_until(19_000_000)
    before = len(waag_node.store.have_chunks(work_id))
    assert before > 0
    world.queue.run_until(3600 * 1_000_000)
    assert waag_node.epoch == 1 and waag_node.up
    after = waag_node.store.have_chunks(work_id)
    assert len(after) >= before
    assert not waag_node.store.is_complete(work_id)


def cli(*args, hashseed="0"):
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.run([sys.executable, "-m", "node", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


@pytest.mark.parametrize("protocol", ["gossip", "flood", "flood-expert"])
def test_same_seed_same_json_whatever_the_hash_seed(protocol):
    args = ("sim", "run", "--scenario", "amsterdam-wide", "--size", "6000", "--loss", "0.3", "--seed", "7",
            "--protocol", protocol, "--json")
    first, second = cli(*args, hashseed="1"), cli(*args, hashseed="4242")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    for key in ("complete_fraction", "completion_s", "airtime_s", "catalogue_s", "works",
                "max_duty_cycle", "frames_sent", "collisions", "nodes"):
        assert key in data
    other_seed = cli(*args[:-3], "--seed", "8", "--protocol", protocol, "--json")
    assert json.loads(other_seed.stdout)["frames_sent"] != data["frames_sent"] or other_seed.stdout != first.stdout


def test_cli_reports_bad_topology_files_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [{"name": "a", "lat": 52, "lon": 4}], "source": "b"}')
    done = cli("sim", "run", "--scenario", str(bad), "--json")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "source 'b' is not one of the nodes" in done.stderr
    done = cli("sim", "run", "--scenario", "amsterdam", "--preset", "SHORT_TURBO")
    assert done.returncode == 1
    assert "not allowed in EU_868" in done.stderr


def test_compare_prints_the_three_peers_and_plots(tmp_path):
    done = cli("sim", "compare", "--scenario", "amsterdam", "--size", "4000", "--plot", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for protocol in ("gossip", "flood-repair", "flood-expert"):
        assert f"{protocol} on amsterdam" in done.stdout
    assert "flood-repair / gossip airtime:" in done.stdout and "flood-expert / gossip airtime:" in done.stdout
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["airtime.png", "completion.png", "map-flood-expert.png", "map-flood-repair.png", "map-gossip.png"]
    assert all((tmp_path / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_public_strips_private_keys():
    assert public({"a": 1, "_x": 2, "b": {"_y": 3, "c": 4}}) == {"a": 1, "b": {"c": 4}}
