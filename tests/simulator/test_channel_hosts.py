"""One channel, three hosts: the world, the demo's air and the virtual radios decide alike.

Also the medium's own rules for foreign frames (other modulations, CAD), and background traffic:
its measured busy share matches the setting, and a run with it is reproducible.
"""

import heapq
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from meshtastic.protobuf import mesh_pb2

from node.demo.air import DemoAir
from node.lora import MESHTASTIC_HEADER, onair_bytes
from simulator.channel.background import MESHCORE, PUBLIC_MESH, Background
from simulator.channel.links import LinkTable, Neighbour, PathSet
from simulator.channel.medium import Medium, Modulation
from simulator.channel.propagation import ChannelModel, preset
from simulator.scenarios import NodeSpec, Topology, _offset, load_scenario
from simulator.virtual_radio.air import Air, AirFrame
from simulator.virtual_radio.links import Link
from simulator.virtual_radio.rf import RfSetup
from simulator.world import Driver, World

ROOT = Path(__file__).resolve().parents[2]
P = preset("MEDIUM_FAST")
MODEL = ChannelModel()  # with per-frame fading: the hosts must draw it alike
SEED = 11


def cluster() -> Topology:
    """Six nodes 0.3-2.5 km apart: decodable, marginal and interfering links."""
    offsets = [(0, 0), (300, 900), (-800, 1500), (1200, -400), (-1500, -900), (2000, 1200)]
    nodes = tuple(NodeSpec(chr(ord("a") + i), *_offset(north, east), 6.0) for i, (north, east) in enumerate(offsets))
    return Topology("cluster", nodes, "a")


# (sender, start in seconds, frame bytes): overlaps at every receiver, some inside the preamble lock
FRAMES = [(0, 1.0, bytes(120)), (1, 1.05, bytes(60)), (2, 1.2, bytes(200)), (3, 2.0, bytes(30)),
          (4, 2.001, bytes(30)), (5, 3.0, bytes(100)), (0, 3.05, bytes(100)), (2, 4.0, bytes(10)),
          (1, 5.0, bytes(231)), (3, 5.3, bytes(80)), (4, 6.0, bytes(150)), (5, 6.02, bytes(150))]
FRAMES = [(s, t, bytes([i]) + d[1:]) for i, (s, t, d) in enumerate(FRAMES)]


class Scripted:
    def __init__(self, sends):
        self.sends = sorted(sends)
        self.heard = []

    def receive_frame(self, data, link, rx_info, now):
        self.heard.append(data[0])

    def poll_frame(self, link, now):
        if self.sends and self.sends[0][0] <= now + 1e-9:
            return self.sends.pop(0)[1]
        return None

    def send_refused(self, link, data, now):
        raise AssertionError("no duty-cycle refusal expected")

    def get_timer(self):
        return self.sends[0][0] if self.sends else None

    def handle_timer(self, now):
        pass


class ScriptDriver(Driver):
    def __init__(self, scripts):
        self.scripts = scripts
        self.agents = {}

    def make_agent(self, node, rng, now):
        agent = Scripted(self.scripts.get(node.index, []))
        self.agents[node.index] = agent
        return agent

    def is_complete(self, node):
        return False


def world_decisions(topology):
    scripts = {}
    for sender, at, data in FRAMES:
        scripts.setdefault(sender, []).append((at, data))
    driver = ScriptDriver(scripts)
    world = World(topology, P, driver, seed=SEED, model=MODEL, csma=False)
    world.start()
    world.queue.run_until(10_000_000)
    return {(rx, frame) for rx, agent in driver.agents.items() for frame in agent.heard}, world.collisions


class ManualTime:
    def __init__(self):
        self.now = 0.0
        self.queue = []
        self.seq = itertools.count()

    def clock(self):
        return self.now

    def later(self, delay, callback):
        heapq.heappush(self.queue, (self.now + delay, next(self.seq), callback))

    def run_until(self, t):
        while self.queue and self.queue[0][0] <= t:
            self.now, _, callback = heapq.heappop(self.queue)
            callback()
        self.now = t


class Member:
    def __init__(self, index, heard):
        self.index = index
        self.heard = heard

    def arrive(self, data, rx_info):
        self.heard.add((self.index, data[0]))


def demo_decisions(topology):
    time = ManualTime()
    air = DemoAir(topology, P, seed=SEED, model=MODEL, clock=time.clock, later=time.later)
    heard = set()
    for i in range(len(topology.nodes)):
        air.join(Member(i, heard))
    for sender, at, data in FRAMES:
        time.run_until(at)
        air.transmit(sender, data)
    time.run_until(10.0)
    return heard, air.collisions


class TableFromChannel:
    """The virtual radios' link model over the channel's own link table (mean powers, no rounding)."""

    def __init__(self, table):
        self.paths = {(a, n.receiver): n.mean_dbm for a, ns in enumerate(table.neighbours) for n in ns}

    def link(self, tx, rx, tx_power_dbm, preset):
        mean = self.paths.get((tx, rx))
        return None if mean is None else Link(snr_db=0.0, rssi_dbm=mean)


class Radio:
    def __init__(self, index, rf, heard):
        self.index = index
        self.rf = rf
        self.heard = heard

    def rf_now(self):
        return self.rf

    def receive_frame(self, frame, link):
        self.heard.add((self.index, frame.packet.id))


def radio_decisions(topology):
    time = ManualTime()
    air = Air(TableFromChannel(LinkTable(topology, P, MODEL)), time.clock, time.later, model=MODEL, fading=True,
              seed=SEED)
    rf = RfSetup("EU_868", 869.525, P.sf, P.bw_hz, P.cr)
    heard = set()
    for i in range(len(topology.nodes)):
        air.attach(Radio(i, rf, heard))
    for sender, at, data in FRAMES:
        time.run_until(at)
        # the same bytes on air as the others' PRIVATE_APP frame of len(data)
        airtime = P.airtime(onair_bytes(len(data)))
        packet = mesh_pb2.MeshPacket(id=data[0])
        air.transmit(AirFrame(sender, packet, ("", b""), rf, 27.0, onair_bytes(len(data)) - MESHTASTIC_HEADER,
                              at, at + airtime))
    time.run_until(10.0)
    return heard, air.counters.collisions


def test_the_three_hosts_make_identical_reception_decisions():
    topology = cluster()
    world, world_collisions = world_decisions(topology)
    demo, demo_collisions = demo_decisions(topology)
    radio, _ = radio_decisions(topology)
    assert world == demo == radio
    assert world_collisions == demo_collisions > 0  # the case exercises capture, not only clean air
    assert len(world) >= 6  # and real deliveries


def test_the_virtual_radio_without_fading_hears_every_link_the_model_gives():
    time = ManualTime()
    links = TableFromChannel(LinkTable(cluster(), P, MODEL))
    air = Air(links, time.clock, time.later)  # fading off: the link model decides
    rf = RfSetup("EU_868", 869.525, P.sf, P.bw_hz, P.cr)
    heard = set()
    for i in range(6):
        air.attach(Radio(i, rf, heard))
    air.transmit(AirFrame(0, mesh_pb2.MeshPacket(id=1), ("", b""), rf, 27.0, 20, 0.0, 0.1))
    time.run_until(1.0)
    assert heard == {(rx, 1) for (tx, rx) in links.paths if tx == 0}


# -- the medium's rules for other modulations -----------------------------------------------------
def two_frames(victim_dbm, foreign_dbm, foreign, exhibition="MEDIUM_FAST"):
    medium = Medium(2, preset(exhibition), ChannelModel(shadowing_sigma_db=0.0))
    mine = medium.transmit(0, PathSet([Neighbour(1, victim_dbm, 0.0)]), 0, 400_000)
    medium.transmit(-1, PathSet([Neighbour(1, foreign_dbm, 0.0)]), 100_000, 600_000, foreign)
    return medium, [r.receiver for r in medium.finish(mine)]


def test_a_longfast_frame_under_medium_fast_is_noise_to_the_demodulator():
    # SF9's demodulator floor is -12.5 dB: 10 dB under the interferer still decodes, 15 dB does not
    assert two_frames(-110.0, -100.0, PUBLIC_MESH.modulation)[1] == [1]
    assert two_frames(-115.0, -100.0, PUBLIC_MESH.modulation)[1] == []


def foreign_only(exhibition, foreign):
    medium = Medium(2, preset(exhibition), ChannelModel(shadowing_sigma_db=0.0))
    medium.transmit(-1, PathSet([Neighbour(1, -100.0, 0.0)]), 0, 500_000, foreign)
    return medium


def test_cad_and_utilisation_see_only_the_own_modulation():
    medium = foreign_only("MEDIUM_FAST", PUBLIC_MESH.modulation)
    assert not medium.cad_busy(1, 200_000)  # SF11 chirps: invisible to an SF9 CAD
    assert medium.utilisation_percent(1, 200_000) == 0
    medium = foreign_only("LONG_FAST", PUBLIC_MESH.modulation)
    assert medium.cad_busy(1, 200_000)  # the same preset: CAD, lock and capture apply
    assert medium.utilisation_percent(1, 200_000) > 0
    assert not medium.cad_busy(1, 500_000)


def test_the_same_modulation_foreign_frame_is_captured_like_ours():
    # LONG_FAST exhibition, public LongFast frame 3 dB stronger, arriving after our preamble: ours is lost
    assert two_frames(-110.0, -107.0, PUBLIC_MESH.modulation, exhibition="LONG_FAST")[1] == []
    assert two_frames(-100.0, -110.0, PUBLIC_MESH.modulation, exhibition="LONG_FAST")[1] == [1]


def test_meshcore_inside_the_slot_interferes_and_outside_it_does_not():
    assert MESHCORE.modulation.centre_hz - MESHCORE.modulation.bw_hz / 2 > 869.4e6
    assert two_frames(-115.0, -100.0, MESHCORE.modulation)[1] == []
    outside = Modulation(8, 62_500, 869.3e6)
    assert two_frames(-125.0, -60.0, outside)[1] == [1]


# -- background traffic ---------------------------------------------------------------------------
class Silent:
    def receive_frame(self, data, link, rx_info, now):
        pass

    def poll_frame(self, link, now):
        return None

    def send_refused(self, link, data, now):
        pass

    def get_timer(self):
        return None

    def handle_timer(self, now):
        pass


class SilentDriver(Driver):
    def make_agent(self, node, rng, now):
        return Silent()


@pytest.mark.parametrize("setting", [0.05, 0.2])
def test_measured_background_busy_fraction_is_within_20_percent_of_the_setting(setting):
    topology = load_scenario("amsterdam", 1)
    hours = 2
    world = World(topology, P, SilentDriver(), seed=3, background=setting)
    world.start()
    world.queue.run_until(hours * 3600 * 1_000_000)
    measured = world.medium.foreign_busy_ticks / (hours * 3600 * 1_000_000)
    assert setting * 0.8 <= measured <= setting * 1.2
    assert all(s.ledger.max_share() <= 0.1 for s in world.background.sources)  # their own 10 % limit
    kinds = {s.kind.name for s in world.background.sources}
    assert kinds == {PUBLIC_MESH.name, MESHCORE.name}


def test_background_is_refused_outside_its_range():
    with pytest.raises(ValueError, match=r"--background must be in 0\.\.0\.9"):
        Background(load_scenario("amsterdam", 1), P, MODEL, 0.95, 1)


def test_a_run_with_background_is_the_same_whatever_the_hash_seed():
    args = [sys.executable, "-m", "node", "sim", "run", "--scenario", "amsterdam", "--size", "4000",
            "--background", "0.1", "--seed", "5", "--json"]
    runs = [subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300,
                           env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "999")]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    data = json.loads(runs[0].stdout)
    assert data["background"] == 0.1 and 0 < data["background_busy_fraction"] < 0.3  # a short run: noisy
    assert data["background_frames"] > 0
