"""Drivers that put a protocol's agents on simulated nodes: the gossip engine and the flood."""

from __future__ import annotations

import random

from node.lora import Preset
from simulator.agent import NodeAgent
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
        engine_api = load_engine_api()
        if engine_api is None:
            raise RuntimeError("node.protocol has no GossipEngine yet; use --protocol flood")
        self.api = engine_api
        self.workload = workload
        self.preset = preset

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> NodeAgent:
        """A fresh engine on the node's store (a reboot is a new engine on the same store)."""
        engine_cls, config_cls, link_cls = self.api
        spec = node.spec
        config = config_cls(links=[link_cls(name="lora", kind="lora", preset=self.preset.name)],
                            venue=spec.name, lat=spec.lat, lon=spec.lon)
        engine: NodeAgent = engine_cls(self.workload.node_key(spec.name), self.workload.trust, node.store,
                                       rng, config, now)
        return engine

    def publish(self, agent: NodeAgent, now: float) -> None:
        """The source ingests the signed bundle."""
        agent.ingest_bundle(self.workload.bundle, now)  # type: ignore[attr-defined]

    def is_complete(self, node: SimNode) -> bool:
        """The store holds the whole verified work."""
        return node.store.is_complete(self.workload.bundle.work_id)


def load_engine_api() -> tuple[type, type, type] | None:
    """(GossipEngine, EngineConfig, LinkConfig) once the protocol package provides them."""
    try:
        import node.protocol as protocol
    except ImportError:
        return None
    names = ("GossipEngine", "EngineConfig", "LinkConfig")
    found = [getattr(protocol, n, None) for n in names]
    if any(f is None for f in found):
        try:
            from node.protocol import engine as engine_module
        except ImportError:
            return None
        found = [getattr(engine_module, n, None) for n in names]
    if any(f is None for f in found):
        return None
    return found[0], found[1], found[2]  # type: ignore[return-value]


def make_driver(protocol: str, workload: Workload, preset: Preset) -> Driver:
    """The driver for ``protocol`` ("gossip" or "flood")."""
    if protocol == "flood":
        return FloodDriver(workload, preset)
    if protocol == "gossip":
        return GossipDriver(workload, preset)
    raise ValueError(f"unknown protocol {protocol!r}; choose gossip or flood")
