"""Drivers that put a protocol's agents on simulated nodes: the gossip engine and the flood variants."""

from __future__ import annotations

import random

from node.lora import Preset
from node.protocol import EngineConfig, GossipAgent, GossipEngine, LinkConfig
from simulator.agent import LORA_LINK, NodeAgent
from simulator.bound import min_connected_dominating_set
from simulator.flood import DEFAULT_HOP_LIMIT, FloodAgent, FloodConfig, FloodHoldings, RepairConfig, Role
from simulator.flood.frames import HOP_MAX
from simulator.workload import PublishedWork, Workload
from simulator.world import Driver, SimNode

PROTOCOLS = ("gossip", "flood", "flood-repair", "flood-expert")
FLOOD_PROTOCOLS = PROTOCOLS[1:]


class FloodDriver(Driver):
    """Meshtastic managed flooding: plain (every node a CLIENT), with repair, or the expert set-up.

    ``flood-expert`` is what an experienced operator would configure: ROUTER on a minimum
    connected dominating set of the usable links (:func:`simulator.bound.min_connected_dominating_set`),
    CLIENT_MUTE everywhere else, a hop limit that lets every venue's packets cross the routers,
    and repair. Its roles need the world's links, so :meth:`plan` runs once the world exists.
    """

    def __init__(self, workload: Workload, preset: Preset, protocol: str = "flood",
                 hop_limit: int | None = None) -> None:
        if protocol not in FLOOD_PROTOCOLS:
            raise ValueError(f"unknown flood variant {protocol!r}; choose {', '.join(FLOOD_PROTOCOLS)}")
        if hop_limit is not None and not 0 <= hop_limit <= HOP_MAX:
            raise ValueError(f"--hop-limit must be 0..{HOP_MAX}, got {hop_limit}")
        self.name = protocol
        self.workload = workload
        self.works = workload.works
        self.preset = preset
        self.repair = RepairConfig() if protocol != "flood" else None
        self.expert = protocol == "flood-expert"
        self.requested_hop_limit = hop_limit
        self.hop_limit = DEFAULT_HOP_LIMIT if hop_limit is None else hop_limit
        self.roles: dict[int, Role] = {}  # node index -> role; CLIENT where absent
        self.planned = not self.expert

    @property
    def workload_name(self) -> str:
        """The workload's name, for reports."""
        return self.workload.name

    def plan(self, usable: list[list[int]], source: int, venues: list[int]) -> None:
        """Choose the expert's roles and hop limit from the usable links (a no-op for the other variants)."""
        if not self.expert:
            return
        routers = set(min_connected_dominating_set(usable, source).members)
        self.roles = {i: Role.ROUTER if i in routers else Role.CLIENT_MUTE for i in range(len(usable))}
        if self.requested_hop_limit is None:
            self.hop_limit = hop_limit_across(usable, routers, venues)
        self.planned = True

    def role(self, node: SimNode) -> Role:
        """The node's role."""
        return self.roles.get(node.index, Role.CLIENT)

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> NodeAgent:
        """A flooding agent on the node's kept holdings."""
        if not self.planned:
            raise RuntimeError("flood-expert needs plan() before its agents are made")
        holdings = node.keep.setdefault("flood", FloodHoldings(node.store, self.workload.trust))
        config = FloodConfig(self.role(node), self.hop_limit, self.repair)
        return FloodAgent(node.index + 1, holdings, rng, self.preset, config, now, node.channel_utilisation)

    def publish(self, agent: NodeAgent, work: PublishedWork, now: float) -> None:
        """The venue queues every piece of the work."""
        assert isinstance(agent, FloodAgent)
        agent.originate(work.bundle, now)


def hop_limit_across(usable: list[list[int]], routers: set[int], origins: list[int]) -> int:
    """The least hop limit with which a packet from any origin reaches every node it can over ``routers``.

    Only routers relay; a node ``d`` hops from the origin hears the packet if the hop limit is at
    least ``d - 1``. Clamped to 1..7 (``HOP_MAX``).
    """
    needed = 1
    for origin in sorted(set(origins)):
        dist = {origin: 0}
        frontier = [origin]
        while frontier:
            nxt = []
            for u in frontier:
                if u != origin and u not in routers:
                    continue
                for v in usable[u]:
                    if v not in dist:
                        dist[v] = dist[u] + 1
                        nxt.append(v)
            frontier = sorted(nxt)
        needed = max(needed, max(dist.values()) - 1)
    return min(HOP_MAX, needed)


class GossipDriver(Driver):
    """The real :class:`node.protocol.GossipEngine`, one per node, on in-memory stores."""

    name = "gossip"

    def __init__(self, workload: Workload, preset: Preset, signed_broadcasts: bool = False) -> None:
        self.workload = workload
        self.works = workload.works
        self.preset = preset
        self.signed_broadcasts = signed_broadcasts  # the world costs frames as firmware 2.8 sends them

    @property
    def workload_name(self) -> str:
        """The workload's name, for reports."""
        return self.workload.name

    def engine_config(self, node: SimNode) -> EngineConfig:
        """The engine configuration of ``node``: one LoRa link at the run's preset."""
        spec = node.spec
        return EngineConfig(links=[LinkConfig(name=LORA_LINK, kind="lora", preset=self.preset.name,
                                              signed_broadcasts=self.signed_broadcasts)],
                            venue=spec.name, lat=spec.lat, lon=spec.lon)

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> GossipAgent:
        """A fresh engine on the node's store (a reboot is a new engine on the same store)."""
        return GossipEngine(self.workload.node_key(node.spec.name), self.workload.trust, node.store, rng,
                            self.engine_config(node), now)

    def publish(self, agent: NodeAgent, work: PublishedWork, now: float) -> None:
        """The venue ingests the signed bundle."""
        assert isinstance(agent, GossipEngine)
        agent.ingest_bundle(work.bundle, now)


def make_driver(protocol: str, workload: Workload, preset: Preset, hop_limit: int | None = None,
                signed_broadcasts: bool = False) -> Driver:
    """The driver for ``protocol`` (one of ``PROTOCOLS``); ``hop_limit`` is for the flood variants;
    ``signed_broadcasts``: every radio runs firmware 2.8 (small broadcasts carry a signature)."""
    if protocol in FLOOD_PROTOCOLS:
        return FloodDriver(workload, preset, protocol, hop_limit)
    if protocol == "gossip":
        return GossipDriver(workload, preset, signed_broadcasts)
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
