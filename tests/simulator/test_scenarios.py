"""Scenarios: packaged ones, generated ones, topology files and their errors, hop counts."""

import itertools
import json
import random

import pytest

from simulator.bound import _exact, min_connected_dominating_set
from simulator.channel.links import LinkTable
from simulator.channel.propagation import ChannelModel, preset
from simulator.scenarios import TopologyError, load_scenario, parse_topology


def usable_hops(name, preset_name="MEDIUM_FAST"):
    topo = load_scenario(name)
    table = LinkTable(topo, preset(preset_name), ChannelModel())
    return topo, table.hops_from(topo.index(topo.source))


def test_amsterdam_is_the_four_venues_one_hop_apart():
    topo, hops = usable_hops("amsterdam")
    assert sorted(n.name for n in topo.nodes) == ["nemo", "oba", "waag", "zwijger"]
    assert sorted(hops) == [0, 1, 1, 1]


def test_amsterdam_wide_is_connected_and_at_least_three_hops_deep():
    topo, hops = usable_hops("amsterdam-wide")
    assert len(topo.nodes) >= 12
    assert all(h is not None for h in hops)
    assert max(hops) >= 3


def test_grid_and_random_are_deterministic_and_sized():
    assert len(load_scenario("grid:9").nodes) == 9
    a, b = load_scenario("random:20", seed=5), load_scenario("random:20", seed=5)
    assert a == b
    assert a != load_scenario("random:20", seed=6)
    _, hops = usable_hops("grid:16")
    assert max(h for h in hops if h is not None) >= 3


GOOD = {
    "nodes": [{"name": "x", "lat": 52.37, "lon": 4.90, "antenna_m": 10},
              {"name": "y", "lat": 52.38, "lon": 4.91}],
    "source": "x",
    "links": [{"a": "x", "b": "y", "state": "down"}],
    "reboots": [{"node": "y", "at_s": 10, "down_s": 5}],
}


def test_a_good_topology_file(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(GOOD))
    topo = load_scenario(str(path))
    assert topo.source == "x"
    assert topo.links[0].state == "down"
    table = LinkTable(topo, preset("MEDIUM_FAST"), ChannelModel())
    assert table.neighbours == [[], []]  # forced down


def broken(**changes):
    doc = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nodes: [", "not valid JSON"),
        (broken(source="zz"), "source 'zz' is not one of the nodes"),
        (broken(source=None), "'source' must name"),
        (broken(nodes=[{"name": "x", "lat": 95, "lon": 4.9}]), "lat must be a number in -90..90"),
        (broken(nodes=[{"name": "x", "lat": "52", "lon": 4.9}]), "lat must be a number"),
        (broken(nodes=[{"name": "x", "lat": 52.0}]), "needs both 'lat' and 'lon'"),
        (broken(nodes=[{"name": "x", "lat": 52, "lon": 4}, {"name": "x", "lat": 52, "lon": 5}]), "duplicate node name"),
        (broken(nodes=[]), "'nodes' must be a non-empty list"),
        (broken(links=[{"a": "x", "b": "nobody"}]), "b = 'nobody' is not one of the nodes"),
        (broken(links=[{"a": "x", "b": "y", "state": "maybe"}]), "state must be 'up' or 'down'"),
        (broken(reboots=[{"node": "q", "at_s": 1}]), "'node' must name one of the nodes"),
    ],
)
def test_topology_errors_are_one_line(text, message):
    with pytest.raises(TopologyError) as info:
        parse_topology(text, "t.json")
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("t.json")


def test_unknown_scenario_name():
    with pytest.raises(TopologyError, match="unknown scenario"):
        load_scenario("atlantis")
    with pytest.raises(TopologyError, match="whole number"):
        load_scenario("grid:x")


def reachable(adj, source):
    seen, stack = {source}, [source]
    while stack:
        for w in adj[stack.pop()]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def brute_force_mcds(adj, source):
    n = len(adj)
    others = [v for v in range(n) if v != source]
    for k in range(0, n):
        for combo in itertools.combinations(others, k):
            s = {source, *combo}
            covered = set(s).union(*(adj[v] for v in s))
            if len(covered) < n:
                continue
            seen, stack = {source}, [source]
            while stack:
                for w in adj[stack.pop()]:
                    if w in s and w not in seen:
                        seen.add(w)
                        stack.append(w)
            if seen == s:
                return k + 1
    raise AssertionError


@pytest.mark.parametrize("seed", range(12))
def test_exact_mcds_matches_brute_force(seed):
    rng = random.Random(seed)
    n = 9
    while True:  # a random connected geometric graph
        pts = [(rng.random(), rng.random()) for _ in range(n)]
        adj = [[j for j in range(n) if j != i and (pts[i][0] - pts[j][0]) ** 2 + (pts[i][1] - pts[j][1]) ** 2 < 0.2]
               for i in range(n)]
        if len(reachable(adj, 0)) == n:
            break
    result = min_connected_dominating_set(adj, 0)
    assert result.exact
    assert len(result.members) == brute_force_mcds(adj, 0)
    assert len(_exact(adj, 0, list(range(n)))) == len(result.members)


def test_greedy_beyond_the_exact_limit_still_dominates():
    topo = load_scenario("grid:49")
    table = LinkTable(topo, preset("MEDIUM_FAST"), ChannelModel())
    result = min_connected_dominating_set(table.usable, 0)
    assert not result.exact
    members = set(result.members)
    assert 0 in members
    assert all(v in members or members & set(table.usable[v]) for v in range(49))
