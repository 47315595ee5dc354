"""Hand-built channel cases in the world: half-duplex, capture, preamble lock, duty-cycle refusal."""

import pytest

from simulator.channel.propagation import ChannelModel, preset
from simulator.scenarios import NodeSpec, Topology, _offset
from simulator.world import Driver, World

P = preset("MEDIUM_FAST")
QUIET = ChannelModel(shadowing_sigma_db=0.0)  # no random fading: powers are exact


class Scripted:
    """An agent that sends given frames at given times and records what it hears."""

    def __init__(self, sends):
        self.sends = sorted(sends)  # [(time_s, bytes)]
        self.heard = []
        self.refused = []

    def receive_frame(self, data, link, rx_info, now):
        self.heard.append((now, data, rx_info.rssi))

    def poll_frame(self, link, now):
        if self.sends and self.sends[0][0] <= now:
            return self.sends.pop(0)[1]
        return None

    def send_refused(self, link, data, now):
        self.refused.append((now, data))

    def get_timer(self):
        return self.sends[0][0] if self.sends else None

    def handle_timer(self, now):
        pass


class ScriptDriver(Driver):
    name = "script"

    def __init__(self, scripts):
        self.scripts = scripts
        self.agents = {}

    def make_agent(self, node, rng, now):
        agent = Scripted(self.scripts.get(node.spec.name, []))
        self.agents[node.spec.name] = agent
        return agent

    def publish(self, agent, now):
        pass

    def is_complete(self, node):
        return False


def line(*east_m):
    """Nodes a, b, c, ... on an east-west line at the given offsets in metres."""
    nodes = []
    for i, east in enumerate(east_m):
        lat, lon = _offset(0.0, east)
        nodes.append(NodeSpec(chr(ord("a") + i), lat, lon, 10.0))
    return Topology("line", tuple(nodes), "a")


def simulate(topology, scripts, seconds=30.0, **kw):
    driver = ScriptDriver(scripts)
    world = World(topology, P, driver, seed=1, model=QUIET, csma=False, **kw)
    world.start()
    world.queue.run_until(round(seconds * 1_000_000))
    return world, driver.agents


FRAME = bytes(100)


def test_a_lone_frame_is_heard():
    _, agents = simulate(line(0, 100), {"a": [(1.0, b"hello")]})
    assert [d for _, d, _ in agents["b"].heard] == [b"hello"]
    assert agents["b"].heard[0][0] == pytest.approx(1.0 + P.frame_airtime(5), abs=1e-6)


def test_half_duplex_both_transmitting_hear_nothing():
    world, agents = simulate(line(0, 100), {"a": [(1.0, b"from-a" + FRAME)], "b": [(1.2, b"from-b" + FRAME)]})
    assert agents["a"].heard == []
    assert agents["b"].heard == []
    assert world.nodes[0].frames_sent == world.nodes[1].frames_sent == 1


def test_capture_the_much_stronger_frame_survives():
    # c sits 100 m from a and 2 km from b: a is ~27 dB stronger at c
    world, agents = simulate(line(0, 2100, 100),
                             {"a": [(1.0, b"near" + FRAME)], "b": [(1.0, b"far" + FRAME)]})
    heard = [d[:4] for _, d, _ in agents["c"].heard]
    assert heard == [b"near"]
    assert world.collisions >= 1  # b's frame was decodable at c and lost


def test_equal_power_frames_both_die():
    world, agents = simulate(line(-1000, 1000, 0), {"a": [(1.0, b"left" + FRAME)], "b": [(1.01, b"rght" + FRAME)]})
    assert agents["c"].heard == []
    assert world.collisions_at(world.nodes[2]) == 2


def test_a_stronger_frame_after_the_preamble_lock_cannot_capture():
    critical = (16 - 5) * 2**9 / 250_000  # start of the critical section, seconds
    topo = line(0, 2100, 100)  # a near c, b far from c
    _, early = simulate(topo, {"b": [(1.0, b"far" + FRAME)], "a": [(1.0 + critical * 0.5, b"near" + FRAME)]})
    assert [d[:4] for _, d, _ in early["c"].heard] == [b"near"]
    _, late = simulate(topo, {"b": [(1.0, b"far" + FRAME)], "a": [(1.0 + critical * 1.5, b"near" + FRAME)]})
    assert late["c"].heard == []


def test_duty_cycle_refuses_and_is_never_exceeded():
    airtime = P.frame_airtime(200)
    sends = [(1.0 + i * 2 * airtime, bytes(200)) for i in range(40)]
    world, agents = simulate(line(0, 100), {"a": sends}, seconds=600.0, duty_cycle=0.004)  # 14.4 s per hour
    ledger = world.nodes[0].ledger
    allowed = int(0.004 * 3600 // P.frame_airtime(200))
    assert world.nodes[0].frames_sent == allowed
    assert len(agents["a"].refused) >= 1
    assert world.nodes[0].refused == len(agents["a"].refused)
    assert ledger.max_share() <= 0.004
    assert len(agents["b"].heard) == allowed


def test_extra_loss_drops_about_that_share():
    sends = [(1.0 + i, bytes(10)) for i in range(400)]
    _, agents = simulate(line(0, 100), {"a": sends}, seconds=500.0, loss=0.3)
    got = len(agents["b"].heard)
    assert 400 * 0.6 < got < 400 * 0.8
