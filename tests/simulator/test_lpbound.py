"""The cut-set bounds: against brute force, on hand-checkable networks, and against real gossip runs."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.stats import norm

from node.lora import MAX_APP_PAYLOAD
from simulator.channel.links import LinkTable
from simulator.channel.propagation import ChannelModel, preset
from simulator.lpbound import (
    WorkDemand,
    cut_set_bound,
    delivery_from_links,
    delivery_matrix,
    full_frame_airtime,
    payload_per_full_frame,
    time_bound,
    time_feasible,
    workload_airtime_bound,
)
from simulator.runner import RunSpec, run
from simulator.scenarios import LinkOverride, NodeSpec, Topology, _offset
from simulator.world import Driver, World

MEDIUM_FAST = preset("MEDIUM_FAST")
T_FULL = full_frame_airtime(MEDIUM_FAST)
MODEL = ChannelModel()


def brute_force_airtime(p, source, payload_bytes, full_frame_s):
    """The programme with every cut written out (nodes the source cannot reach left out)."""
    n = len(p)
    reach = {source}
    frontier = [source]
    while frontier:
        u = frontier.pop()
        for v in range(n):
            if p[u, v] > 0 and v not in reach:
                reach.add(v)
                frontier.append(v)
    nodes = sorted(reach)
    others = [v for v in nodes if v != source]
    rows = []
    for k in range(len(others)):  # cuts with k of the other nodes on the source's side
        for chosen in itertools.combinations(others, k):
            inside = {source, *chosen}
            outside = [v for v in nodes if v not in inside]
            rows.append([1 - np.prod([1 - p[u, v] for v in outside]) if u in inside else 0.0 for u in nodes])
    if not rows:
        return 0.0
    result = linprog(np.ones(len(nodes)), A_ub=-np.array(rows), b_ub=-np.ones(len(rows)), method="highs")
    assert result.status == 0
    return result.fun * payload_bytes / MAX_APP_PAYLOAD * full_frame_s


def random_delivery(rng, n):
    """A random directed network: about half the links present, some perfect, some weak."""
    p = rng.uniform(0.05, 1.0, (n, n)) * (rng.random((n, n)) < 0.55)
    p[rng.random((n, n)) < 0.1] = 1.0
    np.fill_diagonal(p, 0.0)
    return p


@pytest.mark.parametrize("exact_limit", [22, 0], ids=["exhaustive", "local-search"])
def test_constraint_generation_equals_every_cut_written_out(exact_limit):
    rng = np.random.default_rng(2026)
    for _ in range(40):
        n = int(rng.integers(3, 9))
        p = random_delivery(rng, n)
        source = int(rng.integers(n))
        bound = cut_set_bound(p, source, 10_000, T_FULL, exact_limit=exact_limit)
        assert bound.airtime_s == pytest.approx(brute_force_airtime(p, source, 10_000, T_FULL), rel=1e-6, abs=1e-9)
        assert bound.exact == (exact_limit > 0 or bound.airtime_s == 0)  # a source alone has no cut
        assert sum(bound.frames) * T_FULL == pytest.approx(bound.airtime_s)


def test_exhaustive_separation_over_both_code_tables_equals_brute_force():
    rng = np.random.default_rng(13)
    p = random_delivery(rng, 13)  # 12 other nodes: more bits than the low table holds
    for source in (0, 6):
        bound = cut_set_bound(p, source, 10_000, T_FULL)
        assert bound.exact
        assert bound.airtime_s == pytest.approx(brute_force_airtime(p, source, 10_000, T_FULL), rel=1e-6)


def test_two_nodes_with_a_perfect_link_need_the_work_once():
    p = np.array([[0.0, 1.0], [1.0, 0.0]])
    bound = cut_set_bound(p, 0, 23_100, 0.5)
    assert bound.airtime_s == pytest.approx(100 * 0.5)
    assert bound.frames == pytest.approx((100.0, 0.0))
    assert bound.cuts == ((0,),)
    assert bound.exact


def test_loss_scales_a_two_node_link_by_one_over_one_minus_loss():
    mean = np.array([[-np.inf, -100.0], [-100.0, -np.inf]])
    lossless = delivery_matrix(mean, -110.0, 0.0, 0.0, np.zeros((2, 2)))
    lossy = delivery_matrix(mean, -110.0, 0.0, 0.3, np.zeros((2, 2)))
    base = cut_set_bound(lossless, 0, 32_768, T_FULL).airtime_s
    assert cut_set_bound(lossy, 0, 32_768, T_FULL).airtime_s == pytest.approx(base / 0.7)
    assert base == pytest.approx(32_768 / MAX_APP_PAYLOAD * T_FULL)


def test_a_line_of_perfect_links_needs_every_node_but_the_last_to_send():
    n = 5
    p = np.zeros((n, n))
    for i in range(n - 1):
        p[i, i + 1] = p[i + 1, i] = 1.0
    bound = cut_set_bound(p, 0, 2310, 1.0)
    assert bound.airtime_s == pytest.approx((n - 1) * 10)
    assert bound.frames == pytest.approx((10, 10, 10, 10, 0))


def test_a_star_from_the_centre_is_one_broadcast_and_from_a_leaf_two():
    n = 6
    p = np.zeros((n, n))
    p[0, 1:] = p[1:, 0] = 1.0
    assert cut_set_bound(p, 0, 2310, 1.0).airtime_s == pytest.approx(10)
    from_leaf = cut_set_bound(p, 3, 2310, 1.0)
    assert from_leaf.airtime_s == pytest.approx(20)
    assert from_leaf.frames[0] == pytest.approx(10) and from_leaf.frames[3] == pytest.approx(10)


def test_unreachable_nodes_are_left_out():
    p = np.zeros((3, 3))
    p[0, 1] = p[1, 0] = 0.5
    bound = cut_set_bound(p, 0, 2310, 1.0)
    assert bound.airtime_s == pytest.approx(20)
    assert bound.frames[2] == 0
    assert cut_set_bound(p, 2, 2310, 1.0).airtime_s == 0


def test_delivery_matrix_is_the_channel_models_own_probability():
    mean = np.array([[-np.inf, -120.0, -np.inf], [-125.0, -np.inf, -130.0], [-np.inf, -118.0, -np.inf]])
    extra = np.zeros((3, 3))
    extra[1, 2] = 0.5
    p = delivery_matrix(mean, -124.0, 3.57, 0.1, extra)
    assert p[0, 1] == pytest.approx(norm.cdf(4 / 3.57) * 0.9)
    assert p[1, 2] == pytest.approx(norm.cdf(-6 / 3.57) * 0.9 * 0.5)
    assert p[0, 2] == 0 and p[2, 0] == 0
    assert np.all(np.diag(p) == 0)
    step = delivery_matrix(mean, -124.0, 0.0, 0.0, np.zeros((3, 3)))
    assert step[0, 1] == 1 and step[1, 0] == 0 and step[2, 1] == 1


def test_bad_input_is_a_one_line_error():
    with pytest.raises(ValueError, match="square"):
        delivery_matrix(np.zeros((2, 3)), -120.0, 3.0, 0.0, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"loss must be in 0\.\.1"):
        delivery_matrix(np.zeros((2, 2)), -120.0, 3.0, 1.5, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="source 5 is not a node"):
        cut_set_bound(np.zeros((2, 2)), 5, 100, 1.0)
    with pytest.raises(ValueError, match="duty_cycle"):
        time_bound(np.zeros((2, 2)), [WorkDemand(0, 100)], 1.0, duty_cycle=0.0)


def test_payload_per_full_frame_is_the_best_rate():
    assert payload_per_full_frame(MEDIUM_FAST) == pytest.approx(MAX_APP_PAYLOAD)
    long_fast = preset("LONG_FAST")  # 229 bytes fill their symbols better than 231
    assert payload_per_full_frame(long_fast) > MAX_APP_PAYLOAD
    assert payload_per_full_frame(long_fast) == pytest.approx(229 / long_fast.frame_airtime(229)
                                                              * full_frame_airtime(long_fast))


# -- the 3-node line S-R-T: the old MCDS "bound" fails, the cut-set bound holds -----------------------

def line_topology(extra_loss=0.0):
    nodes = tuple(NodeSpec(name, *_offset(0.0, east), 12.0) for name, east in (("S", 0.0), ("R", 1900.0),
                                                                              ("T", 3800.0)))
    links = (LinkOverride("S", "T", extra_loss=extra_loss),) if extra_loss else ()
    return Topology("line", nodes, "S", links)


def test_line_gossip_needs_at_least_the_lp_bound_and_beats_the_old_one():
    topology = line_topology()
    p = delivery_from_links(LinkTable(topology, MEDIUM_FAST, MODEL), MODEL.shadowing_sigma_db, 0.0)
    assert 0.75 < p[0, 2] < 0.85 and p[0, 1] > 0.99  # S-T decodes about 80 % of frames
    bound = cut_set_bound(p, 0, 32 * 1024, T_FULL)
    assert bound.exact
    old_bound_beaten = False
    for seed in (1, 2, 3):
        result = run(RunSpec("line", size=32 * 1024, seed=seed), topology=topology)
        assert result["complete_fraction"] == 1.0
        assert result["airtime_s"] >= bound.airtime_s
        old_bound_beaten |= result["airtime_s"] < result["mcds_reference_airtime_s"]
    assert old_bound_beaten


class Beacon:
    """Sends ``count`` frames a second apart and counts what it hears."""

    def __init__(self, count):
        self.count = count
        self.next_s = 1.0
        self.heard = 0

    def receive_frame(self, data, link, rx_info, now):
        self.heard += 1

    def poll_frame(self, link, now):
        if self.count and now >= self.next_s:
            self.count -= 1
            self.next_s += 1.0
            return bytes(MAX_APP_PAYLOAD)
        return None

    def send_refused(self, link, data, now):
        raise AssertionError("the beacon stays within the duty cycle")

    def get_timer(self):
        return self.next_s if self.count else None

    def handle_timer(self, now):
        pass


class BeaconDriver(Driver):
    def __init__(self, sender, count):
        self.sender, self.count, self.agents = sender, count, {}

    def make_agent(self, node, rng, now):
        agent = self.agents[node.spec.name] = Beacon(self.count if node.spec.name == self.sender else 0)
        return agent

    def publish(self, agent, now):
        pass

    def is_complete(self, node):
        return False


def test_delivery_from_links_matches_what_the_world_draws():
    topology = line_topology(extra_loss=0.25)
    frames = 400
    driver = BeaconDriver("S", frames)
    world = World(topology, MEDIUM_FAST, driver, seed=3, model=MODEL, loss=0.2, csma=False)
    world.start()
    world.queue.run_until(round((frames + 5) * 1_000_000))
    p = delivery_from_links(world.links, MODEL.shadowing_sigma_db, 0.2)
    assert p[0, 2] == pytest.approx(norm.cdf((world.links.neighbours[0][1].mean_dbm - world.links.threshold_dbm)
                                             / MODEL.shadowing_sigma_db) * 0.8 * 0.75)
    for name, column in (("R", 1), ("T", 2)):
        share = driver.agents[name].heard / frames
        spread = 4 * np.sqrt(p[0, column] * (1 - p[0, column]) / frames) + 1e-9
        assert abs(share - p[0, column]) <= spread


# -- workloads and the time bound ---------------------------------------------------------------------

def amsterdam_like():
    """Two clusters joined by one marginal link, four sources."""
    rng = np.random.default_rng(7)
    n = 10
    p = np.zeros((n, n))
    for cluster in (range(0, 5), range(5, 10)):
        for u, v in itertools.permutations(cluster, 2):
            p[u, v] = rng.uniform(0.6, 1.0)
    p[4, 5] = p[5, 4] = 0.5
    return p


def test_workload_airtime_is_the_sum_over_works():
    p = amsterdam_like()
    works = [WorkDemand(s, size) for s, size in ((0, 24_000), (9, 8_000), (0, 4_000))]
    expected = sum(cut_set_bound(p, w.source, w.payload_bytes, T_FULL).airtime_s for w in works)
    assert workload_airtime_bound(p, works, T_FULL) == pytest.approx(expected)


def test_time_bound_two_nodes_by_hand():
    p = np.array([[0.0, 1.0], [1.0, 0.0]])
    small = 2310  # 10 full frames of 1 s: the receiver needs 10 s
    assert time_bound(p, [WorkDemand(0, small)], 1.0) == pytest.approx(10.0)
    # 1000 s of airtime at 10 % per hour: concave hull min(T, 0.1·T + 0.9·360) = 1000 gives T = 6760 s
    assert time_bound(p, [WorkDemand(0, 231_000)], 1.0) == pytest.approx((1000 - 0.9 * 360) / 0.1)
    # published at 500 s: nothing can be sent before
    assert time_bound(p, [WorkDemand(0, small, 500.0)], 1.0) == pytest.approx(510.0)


def test_time_bound_properties():
    p = amsterdam_like()
    n = len(p)
    sources = (0, 9, 2, 7)
    works = [WorkDemand(sources[i % 4], 24_576) for i in range(8)]
    bounds = [time_bound(p, works[:k], T_FULL) for k in range(1, len(works) + 1)]
    assert all(a <= b * (1 + 1e-9) for a, b in itertools.pairwise(bounds))  # monotone in the works
    assert bounds[-1] > bounds[0]
    horizon = bounds[-1]
    assert horizon >= workload_airtime_bound(p, works, T_FULL) / n
    assert time_feasible(p, works, T_FULL, horizon * (1 + 1e-6))
    assert not time_feasible(p, works, T_FULL, 0.95 * horizon)


def test_time_bound_with_publish_times_covers_each_work_alone():
    p = amsterdam_like()
    works = [WorkDemand(0, 24_576, 0.0), WorkDemand(9, 16_000, 600.0), WorkDemand(2, 8_000, 900.0)]
    joint = time_bound(p, works, T_FULL)
    for w in works:
        alone = time_bound(p, [WorkDemand(w.source, w.payload_bytes)], T_FULL)
        assert joint >= w.publish_s + alone - 1e-6
    at_once = time_bound(p, [WorkDemand(w.source, w.payload_bytes) for w in works], T_FULL)
    assert joint >= at_once - 1e-6  # publishing later never makes the exhibition faster
