"""Drivers that put a protocol's agents on simulated nodes: the gossip engine and the flood."""

from __future__ import annotations

import random

from node.lora import Preset
from node.protocol import EngineConfig, GossipAgent, GossipEngine, LinkConfig
from simulator.agent import LORA_LINK, NodeAgent
from simulator.flood import FloodAgent, FloodHoldings
from simulator.workload import Workload
from simulator.world import Driver, SimNode

PROTOCOLS = ("gossip", "flood")


class FloodDriver(Driver):
    """Meshtastic managed flooding (the baseline)."""

    name = "flood"

    def __init__(self, workload: Workload, preset: Preset) -> None:
        self.workload = workload
        self.preset = preset

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> NodeAgent:
        """A flooding agent on the node's kept holdings."""
        holdings = node.keep.setdefault("flood", FloodHoldings(node.store))
        return FloodAgent(node.index + 1, holdings, rng, self.preset, self.workload.trust, now)

    def publish(self, agent: NodeAgent, now: float) -> None:
        """The source queues every piece of the work."""
        assert isinstance(agent, FloodAgent)
        agent.originate(self.workload.bundle, now)

    def is_complete(self, node: SimNode) -> bool:
        """All chunks stored and the manifest verified."""
        return node.store.is_complete(self.workload.bundle.work_id)


class GossipDriver(Driver):
    """The real :class:`node.protocol.GossipEngine`, one per node, on in-memory stores."""

    name = "gossip"

    def __init__(self, workload: Workload, preset: Preset) -> None:
        self.workload = workload
        self.preset = preset

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> GossipAgent:
        """A fresh engine on the node's store (a reboot is a new engine on the same store)."""
        spec = node.spec
        config = EngineConfig(links=[LinkConfig(name=LORA_LINK, kind="lora", preset=self.preset.name)],
                              venue=spec.name, lat=spec.lat, lon=spec.lon)
        return GossipEngine(self.workload.node_key(spec.name), self.workload.trust, node.store, rng, config, now)

    def publish(self, agent: NodeAgent, now: float) -> None:
        """The source ingests the signed bundle."""
        assert isinstance(agent, GossipEngine)
        agent.ingest_bundle(self.workload.bundle, now)

    def is_complete(self, node: SimNode) -> bool:
        """The store holds the whole verified work."""
        return node.store.is_complete(self.workload.bundle.work_id)


def make_driver(protocol: str, workload: Workload, preset: Preset) -> Driver:
    """The driver for ``protocol`` ("gossip" or "flood")."""
    if protocol == "flood":
        return FloodDriver(workload, preset)
    if protocol == "gossip":
        return GossipDriver(workload, preset)
    raise ValueError(f"unknown protocol {protocol!r}; choose gossip or flood")
