"""A deterministic in-memory mesh for engine tests: N engines on virtual time.

Every link is a broadcast medium: a frame one node sends reaches each of its neighbours on that
link, each copy independently lost, delayed (so frames can overtake each other) or duplicated.
LoRa links are half-duplex: a node hears nothing that ends while it is transmitting, and it
transmits one frame at a time for the frame's airtime. All randomness comes from one seed.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from node.artwork import TrustAnchors
from node.protocol import EngineConfig, GossipEngine, LinkConfig, RxInfo
from node.protocol.events import Event
from node.protocol.frames import MAX_FRAME
from node.store.memory import MemoryStore
from tests import factories


@dataclass
class Medium:
    """One named link shared by some nodes: who hears whom, and how badly."""

    name: str
    kind: str = "lora"
    preset: str = "SHORT_FAST"
    loss: float = 0.0
    duplicate: float = 0.0
    max_delay: float = 0.0  # extra random delivery delay; above the airtime frames reorder
    rate_bytes_per_s: float = 2000.0
    neighbours: dict[str, list[str]] = field(default_factory=dict)

    def link_config(self) -> LinkConfig:
        """The engine-side config of this medium."""
        return LinkConfig(self.name, kind=self.kind, preset=self.preset,  # type: ignore[arg-type]
                          rate_bytes_per_s=self.rate_bytes_per_s)


@dataclass
class Sent:
    """One transmission, for traces and ledger checks."""

    time: float
    node: str
    link: str
    data: bytes
    airtime: float


@dataclass
class SimNode:
    """An engine with its store and radio state."""

    name: str
    engine: GossipEngine | None
    store: MemoryStore
    busy_until: dict[str, float] = field(default_factory=dict)
    tx_log: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


class Mesh:
    """Nodes and media on a virtual clock."""

    def __init__(self, seed: int, media: list[Medium], *, trust: TrustAnchors | None = None,
                 config_overrides: dict | None = None) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.media = {m.name: m for m in media}
        self.trust = trust or factories.trust()
        self.nodes: dict[str, SimNode] = {}
        self.now = 0.0
        self.sent: list[Sent] = []
        self.trace: list[tuple] = []
        self._queue: list[tuple[float, int, str, str, bytes, float, str]] = []
        self._seq = 0
        self._jammers: list[tuple[str, float, Callable[[random.Random], bytes], float]] = []
        self._config_overrides = config_overrides or {}
        self.spins = 0

    def add_node(self, name: str, links: list[str] | None = None, trust: TrustAnchors | None = None,
                 **config: object) -> SimNode:
        """Create a node with a fresh memory store on ``links`` (default: all media)."""
        link_names = links if links is not None else sorted(self.media)
        cfg = EngineConfig(links=[self.media[n].link_config() for n in link_names], venue=name,
                           **{**self._config_overrides, **config})  # type: ignore[arg-type]
        store = MemoryStore()
        engine = GossipEngine(factories.node_key(f"{name}-{self.seed}"), trust or self.trust, store,
                              random.Random(f"{self.seed}-{name}"), cfg, self.now)
        node = SimNode(name, engine, store, dict.fromkeys(link_names, 0.0), {n: [] for n in link_names})
        self.nodes[name] = node
        return node

    def add_jammer(self, name: str, link: str, make_frame: Callable[[random.Random], bytes],
                   interval: float) -> None:
        """A hostile node that broadcasts ``make_frame(rng)`` every ``interval`` seconds."""
        self.nodes[name] = SimNode(name, None, MemoryStore(), {link: 0.0}, {link: []})
        self._jammers.append((name, interval, make_frame, 0.0))

    def connect(self, link: str, a: str, b: str) -> None:
        """Make ``a`` and ``b`` hear each other on ``link``."""
        nb = self.media[link].neighbours
        nb.setdefault(a, []).append(b)
        nb.setdefault(b, []).append(a)

    # ----------------------------------------------------------------- running

    def _airtime(self, link: str, size: int) -> float:
        medium = self.media[link]
        if medium.kind == "lora":
            return medium.link_config().frame_cost(size)
        return 0.01

    def _transmit(self, node: SimNode, link: str, data: bytes) -> None:
        if node.engine is not None:
            assert len(data) <= MAX_FRAME, f"{node.name} sent a {len(data)}-byte frame"
        airtime = self._airtime(link, len(data))
        medium = self.media[link]
        self.sent.append(Sent(self.now, node.name, link, data, airtime))
        self.trace.append((round(self.now, 9), node.name, link, data.hex()))
        if medium.kind == "lora":
            node.busy_until[link] = self.now + airtime
            node.tx_log[link].append((self.now, self.now + airtime))
        for other in medium.neighbours.get(node.name, []):
            copies = 2 if self.rng.random() < medium.duplicate else 1
            for _ in range(copies):
                if self.rng.random() < medium.loss:
                    continue
                at = self.now + airtime + self.rng.uniform(0, medium.max_delay)
                self._seq += 1
                heapq.heappush(self._queue, (at, self._seq, other, link, data, self.now, node.name))

    def _deliver(self, item: tuple[float, int, str, str, bytes, float, str]) -> None:
        _, _, receiver, link, data, started, sender = item
        node = self.nodes[receiver]
        if node.engine is None:
            return
        if self.media[link].kind == "lora":
            for begin, end in reversed(node.tx_log[link][-4:]):
                if begin < self.now and end > started:
                    return  # half-duplex: it was transmitting while this frame was on air
        node.engine.receive_frame(data, link, RxInfo(sender=sender), self.now)

    def _step_nodes(self) -> None:
        for name in sorted(self.nodes):
            node = self.nodes[name]
            if node.engine is None:
                continue
            timer = node.engine.get_timer()
            if timer is not None and timer <= self.now:
                node.engine.handle_timer(self.now)
            for link in sorted(node.busy_until):
                if node.busy_until[link] <= self.now:
                    data = node.engine.poll_frame(link, self.now)
                    if data is not None:
                        self._transmit(node, link, data)
                    if self.media[link].kind == "ip":
                        while (data := node.engine.poll_frame(link, self.now)) is not None:
                            self._transmit(node, link, data)
            while (event := node.engine.next_event()) is not None:
                node.events.append(event)

    def _step_jammers(self) -> float:
        soonest = float("inf")
        for i, (name, interval, make, due) in enumerate(self._jammers):
            if due <= self.now:
                link = next(iter(self.nodes[name].busy_until))
                self._transmit(self.nodes[name], link, make(self.rng))
                due = self.now + interval
                self._jammers[i] = (name, interval, make, due)
            soonest = min(soonest, due)
        return soonest

    def _next_time(self, jam_due: float) -> float:
        times = [jam_due]
        if self._queue:
            times.append(self._queue[0][0])
        for node in self.nodes.values():
            if node.engine is None:
                continue
            timer = node.engine.get_timer()
            if timer is None:
                continue
            busy = [b for b in node.busy_until.values() if b > self.now]
            if timer <= self.now:
                if busy:
                    times.append(min(busy))
                else:
                    self.spins += 1
                    times.append(self.now + 1e-6)
            else:
                times.append(timer)
        future = [t for t in times if t > self.now]
        return min(future) if future else float("inf")

    def run(self, until: float, stop: Callable[[], bool] | None = None, max_steps: int = 2_000_000) -> None:
        """Advance virtual time to ``until`` (or until ``stop()`` holds)."""
        for _ in range(max_steps):
            while self._queue and self._queue[0][0] <= self.now:
                self._deliver(heapq.heappop(self._queue))
            self._step_nodes()
            jam_due = self._step_jammers()
            if stop is not None and stop():
                return
            nxt = self._next_time(jam_due)
            if nxt > until:
                self.now = until
                return
            self.now = nxt
        raise AssertionError("the mesh did not settle within max_steps")

    # ----------------------------------------------------------------- observations

    def complete(self, work_id: bytes, names: list[str] | None = None) -> bool:
        """True when every named node (default: all engines) holds ``work_id`` complete."""
        names = names or [n for n, node in self.nodes.items() if node.engine is not None]
        return all(self.nodes[n].store.is_complete(work_id) for n in names)

    def airtime(self, link: str | None = None) -> float:
        """Total airtime sent (on one link or all)."""
        return sum(s.airtime for s in self.sent if link is None or s.link == link)
