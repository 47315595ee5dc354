"""Drivers that put a protocol's agents on simulated nodes: the gossip engine and the flood."""

from __future__ import annotations

import random

from node.lora import Preset
from node.protocol import EngineConfig, GossipAgent, GossipEngine, LinkConfig
from simulator.agent import LORA_LINK, NodeAgent
from simulator.flood import FloodAgent, FloodHoldings
from simulator.workload import PublishedWork, Workload
from simulator.world import Driver, SimNode

PROTOCOLS = ("gossip", "flood")


class FloodDriver(Driver):
    """Meshtastic managed flooding (the baseline)."""

    name = "flood"

    def __init__(self, workload: Workload, preset: Preset) -> None:
        self.workload = workload
        self.works = workload.works
        self.preset = preset

    @property
    def workload_name(self) -> str:
        """The workload's name, for reports."""
        return self.workload.name

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> NodeAgent:
        """A flooding agent on the node's kept holdings."""
        holdings = node.keep.setdefault("flood", FloodHoldings(node.store))
        return FloodAgent(node.index + 1, holdings, rng, self.preset, self.workload.trust, now)

    def publish(self, agent: NodeAgent, work: PublishedWork, now: float) -> None:
        """The venue queues every piece of the work."""
        assert isinstance(agent, FloodAgent)
        agent.originate(work.bundle, now)


class GossipDriver(Driver):
    """The real :class:`node.protocol.GossipEngine`, one per node, on in-memory stores."""

    name = "gossip"

    def __init__(self, workload: Workload, preset: Preset) -> None:
        self.workload = workload
        self.works = workload.works
        self.preset = preset

    @property
    def workload_name(self) -> str:
        """The workload's name, for reports."""
        return self.workload.name

    def engine_config(self, node: SimNode) -> EngineConfig:
        """The engine configuration of ``node``: one LoRa link at the run's preset."""
        spec = node.spec
        return EngineConfig(links=[LinkConfig(name=LORA_LINK, kind="lora", preset=self.preset.name)],
                            venue=spec.name, lat=spec.lat, lon=spec.lon)

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> GossipAgent:
        """A fresh engine on the node's store (a reboot is a new engine on the same store)."""
        return GossipEngine(self.workload.node_key(node.spec.name), self.workload.trust, node.store, rng,
                            self.engine_config(node), now)

    def publish(self, agent: NodeAgent, work: PublishedWork, now: float) -> None:
        """The venue ingests the signed bundle."""
        assert isinstance(agent, GossipEngine)
        agent.ingest_bundle(work.bundle, now)


def make_driver(protocol: str, workload: Workload, preset: Preset) -> Driver:
    """The driver for ``protocol`` ("gossip" or "flood")."""
    if protocol == "flood":
        return FloodDriver(workload, preset)
    if protocol == "gossip":
        return GossipDriver(workload, preset)
    raise ValueError(f"unknown protocol {protocol!r}; choose gossip or flood")
