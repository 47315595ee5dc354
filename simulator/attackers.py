"""Hostile nodes for the simulator: junk flooder, replayer, forger, a node that lies in adverts,
and issue 17's attackers (:mod:`simulator.saboteurs`: collider, coded junk, Trickle echo, digest
spam, beacon churn).

Each attacker is a :class:`~simulator.agent.NodeAgent` on an extra node of the topology, so it
shares the channel, the collisions and the EU868 duty-cycle ledger with the honest nodes: the
flooder and the replayer transmit whenever the ledger allows (the legal maximum). Honest nodes
run the real :class:`node.protocol.GossipEngine`. :func:`run_hostile` runs one scenario with or
without an attacker and reports what the honest nodes saw.
"""

from __future__ import annotations

import math
import random
import time
import tracemalloc
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from node.artwork import Endorsement, SecretKey, Takedown, TrustAnchors, WorkMetadata, build_bundle
from node.protocol import GossipAgent, GossipEngine
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from simulator.agent import NodeAgent
from simulator.channel.propagation import preset as lookup_preset
from simulator.clock import TICKS_PER_SECOND, to_seconds
from simulator.protocols import GossipDriver
from simulator.saboteurs import Churn, CodedJunk, Collider, DigestSpam, Echo
from simulator.scenarios import NodeSpec, Topology, load_scenario
from simulator.workload import CREATED, PublishedWork, WorkSpec, exhibition_specs, make_workload, pseudo_random_bytes
from simulator.world import Driver, SimNode, World

ATTACKS = ("flood", "replay", "forger", "liar", "collider", "coded", "echo", "digests", "churn")
ATTACKER = "attacker"


class JunkFlooder:
    """Transmits junk whenever the duty cycle allows: random bytes, adverts, requests, manifest
    pieces and chunks of made-up works, and requests for the real work (asking honest nodes to
    spend airtime serving it again)."""

    def __init__(self, rng: random.Random, real_short_ids: list[bytes]) -> None:
        self.rng = rng
        self.real = real_short_ids
        self.sent = 0

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Ignores what it hears."""

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """A fresh junk frame, always."""
        self.sent += 1
        return junk_frame(self.rng, self.rng.choice(self.real))

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """The ledger said no; the world blocks the radio until it says yes."""

    def get_timer(self) -> float | None:
        """Always due: it transmits as often as the radio and the ledger let it."""
        return 0.0

    def handle_timer(self, now: float) -> None:
        """Nothing to schedule."""


def junk_frame(rng: random.Random, real_short_id: bytes) -> bytes:
    """One hostile frame (layouts as in node/protocol/frames.py)."""
    kind = rng.randrange(6)
    fake = rng.randbytes(fr.SHORT_ID_LEN)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, fr.MAX_FRAME + 1))
    if kind == 1:
        entries = tuple(fr.AdvertEntry(rng.randbytes(4), rng.randrange(0xFFFE)) for _ in range(fr.ADVERT_MAX_ENTRIES))
        return fr.encode(fr.Advert(rng.randbytes(4), 0, 1, entries))
    if kind == 2:
        return fr.encode(fr.Request.for_indices(fake, fr.TARGET_CHUNKS, list(range(0, 900, 3))))
    if kind == 3:
        return fr.encode(fr.ManifestPiece(fake, rng.randrange(4), 4 * fr.MANIFEST_PIECE_MAX,
                                          rng.randbytes(fr.MANIFEST_PIECE_MAX)))
    if kind == 4:
        return fr.encode(fr.DataChunk(fake, rng.randrange(200), rng.randbytes(fr.DATA_MAX)))
    return fr.encode(fr.Request(real_short_id, fr.TARGET_CHUNKS, 0, b""))  # "send me everything"


class Replayer:
    """Keeps what it overhears and re-broadcasts frames at least ``min_age_s`` old, at the legal
    maximum rate, picked at random (a bounded memory of ``memory`` frames)."""

    def __init__(self, rng: random.Random, min_age_s: float = 120.0, memory: int = 4096) -> None:
        self.rng = rng
        self.min_age_s = min_age_s
        self.heard: deque[tuple[float, bytes]] = deque(maxlen=memory)
        self.now = 0.0
        self.sent = 0

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Record the frame for later."""
        self.heard.append((now, data))

    def _eligible(self, now: float) -> int:
        """How many of the oldest recorded frames are old enough (times are ascending)."""
        lo, hi = 0, len(self.heard)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.heard[mid][0] <= now - self.min_age_s:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """An old frame, or None while nothing heard is old enough."""
        self.now = now
        count = self._eligible(now)
        if not count:
            return None
        self.sent += 1
        return self.heard[self.rng.randrange(count)][1]

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """Blocked by the ledger; it will pick another frame next time."""

    def get_timer(self) -> float | None:
        """Due as soon as the oldest recorded frame is old enough."""
        if not self.heard:
            return None
        return self.heard[0][0] + self.min_age_s

    def handle_timer(self, now: float) -> None:
        """Nothing to schedule."""
        self.now = now


class Liar:
    """Advertises works it never serves: the real work as complete (before it has it, and
    forever) and ``fakes`` made-up works, fresh ids every advert; it answers no request."""

    def __init__(self, rng: random.Random, real_short_ids: list[bytes], interval_s: float = 30.0,
                 fakes: int = 12) -> None:
        self.rng = rng
        self.real = real_short_ids
        self.interval_s = interval_s
        self.fakes = fakes
        self.next_at = rng.uniform(0, interval_s)
        self.sent = 0

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Ignores requests (that is the attack)."""

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """The next lying advert when it is due."""
        if now < self.next_at:
            return None
        self.next_at = now + self.interval_s
        self.sent += 1
        entries = [fr.AdvertEntry(short, fr.STATE_COMPLETE) for short in self.real[: fr.ADVERT_MAX_ENTRIES // 2]]
        entries += [fr.AdvertEntry(self.rng.randbytes(4), fr.STATE_COMPLETE) for _ in range(self.fakes)]
        return fr.encode(fr.Advert(self.rng.randbytes(4), 0, 1, tuple(entries)))

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """Try again on the next interval."""

    def get_timer(self) -> float | None:
        """When the next advert is due."""
        return self.next_at

    def handle_timer(self, now: float) -> None:
        """Nothing beyond the advert schedule."""


class Forger:
    """A real engine that trusts only a self-made curator key: it publishes ``works`` works
    endorsed by that key and, at ``takedown_at_s``, a takedown of the real work signed by it."""

    def __init__(self, engine: GossipAgent, takedown: Takedown, takedown_at_s: float) -> None:
        self.engine = engine
        self.takedown = takedown
        self.takedown_at_s = takedown_at_s
        self.taken_down = False

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """See :class:`~node.protocol.GossipEngine`."""
        self.engine.receive_frame(data, link, rx_info, now)

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """See :class:`~node.protocol.GossipEngine`."""
        frame: bytes | None = self.engine.poll_frame(link, now)
        return frame

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """See :class:`~node.protocol.GossipEngine`."""
        self.engine.send_refused(link, data, now)

    def get_timer(self) -> float | None:
        """The engine's timer, or the forged takedown's time if sooner."""
        timer: float | None = self.engine.get_timer()
        if self.taken_down:
            return timer
        return self.takedown_at_s if timer is None else min(timer, self.takedown_at_s)

    def handle_timer(self, now: float) -> None:
        """Issue the forged takedown when due, then run the engine's timers."""
        if not self.taken_down and now >= self.takedown_at_s:
            self.taken_down = True
            self.engine.apply_takedown(self.takedown, now)
        self.engine.handle_timer(now)

    def next_event(self) -> object:
        """Drain the engine's events (the world discards them)."""
        return self.engine.next_event()


def forged_works(seed: int, count: int, size: int) -> tuple[TrustAnchors, list[Any], SecretKey]:
    """Trust anchors of a self-made curator, ``count`` works it endorsed, and its key."""
    curator = SecretKey.from_seed_text(f"sim-{seed}-forger-curator", "curator")
    artist = SecretKey.from_seed_text(f"sim-{seed}-forger-artist", "artist")
    endorsement = Endorsement.create(curator, artist.public, "Forger", CREATED - 86400)
    bundles = []
    for i in range(count):
        meta = WorkMetadata(title={"en": f"Forged {i}"}, creator="Forger", year=2026, artform="digital art",
                            medium="bytes", license="https://creativecommons.org/licenses/by-sa/4.0/")
        content = pseudo_random_bytes(size, f"sim-{seed}-forged-{i}")
        bundles.append(build_bundle(content, "application/octet-stream", meta, artist, endorsement, CREATED))
    return TrustAnchors([curator.public]), bundles, curator


class HostileDriver(Driver):
    """The gossip driver for honest nodes; ``attack`` decides the agent on the attacker node."""

    name = "gossip"

    def __init__(self, inner: GossipDriver, attack: str, seed: int, forged: int = 3) -> None:
        if attack not in ATTACKS:
            raise ValueError(f"unknown attack {attack!r}; choose one of {', '.join(ATTACKS)}")
        self.inner = inner
        self.works = inner.works
        self.attack = attack
        self.seed = seed
        self.forged = forged
        self.attacker_agent: Any = None

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> NodeAgent:
        """An attacker on the attacker node, the real engine everywhere else."""
        if node.spec.name != ATTACKER:
            return self.inner.make_agent(node, rng, now)
        shorts = [w.work_id[:4] for w in self.inner.works]
        agent: NodeAgent
        match self.attack:
            case "flood":
                agent = JunkFlooder(rng, shorts)
            case "replay":
                agent = Replayer(rng)
            case "liar":
                agent = Liar(rng, shorts)
            case "collider":
                agent = Collider(rng)
            case "coded":
                agent = CodedJunk(rng)
            case "echo":
                agent = Echo(rng)
            case "digests":
                agent = DigestSpam(rng)
            case "churn":
                agent = Churn(rng, self.seed)
            case _:
                agent = self._forger(node, rng, now)
        self.attacker_agent = agent
        return agent

    def _forger(self, node: SimNode, rng: random.Random, now: float) -> Forger:
        first = self.inner.works[0].bundle
        trust, bundles, curator = forged_works(self.seed, self.forged, first.signed.manifest.size)
        engine = GossipEngine(SecretKey.from_seed_text(f"sim-{self.seed}-forger-node", "node"), trust,
                              node.store, rng, self.inner.engine_config(node), now)
        for bundle in bundles:
            engine.ingest_bundle(bundle, now)
        takedown = Takedown.create(curator, first.work_id, "forged", CREATED)
        return Forger(engine, takedown, takedown_at_s=600.0)

    def publish(self, agent: NodeAgent, work: PublishedWork, now: float) -> None:
        """The honest venue publishes the real work."""
        self.inner.publish(agent, work, now)

    def is_complete(self, node: SimNode) -> bool:
        """The attacker never counts as complete."""
        return node.spec.name != ATTACKER and self.inner.is_complete(node)

    def counts(self, node: SimNode) -> bool:
        """Only honest nodes count."""
        return node.spec.name != ATTACKER

    @property
    def workload_name(self) -> str:
        """The honest workload's name."""
        return self.inner.workload_name


def with_attacker(topology: Topology) -> Topology:
    """``topology`` plus an attacker node at the centroid of the venues, where it hears the most."""
    lat = sum(n.lat for n in topology.nodes) / len(topology.nodes)
    lon = sum(n.lon for n in topology.nodes) / len(topology.nodes)
    spec = NodeSpec(ATTACKER, round(lat, 6), round(lon, 6), 10.0, "hostile node")
    return replace(topology, nodes=(*topology.nodes, spec))


@dataclass(frozen=True)
class HostileSpec:
    """One run: scenario, attack (None: the same run without the attacker), size, horizon."""

    scenario: str = "amsterdam"
    attack: str | None = None
    size: int = 16 * 1024
    preset: str = "MEDIUM_FAST"
    seed: int = 1
    hours: float = 3.0
    trace_memory: bool = False
    workload: str = "single"  # "single" (one work of ``size``) or "exhibition" (simulator.workload)
    works: int | None = None  # only the first ``works`` works of the exhibition (cheaper runs)
    stop_when_complete: bool = False  # end the run when every honest node holds every work


def run_hostile(spec: HostileSpec) -> dict[str, Any]:
    """Run to the horizon; honest nodes' delivery, airtime, engine state sizes and drops."""
    started = time.perf_counter()
    if spec.trace_memory:
        tracemalloc.start()
    topology = load_scenario(spec.scenario, spec.seed)
    if spec.attack is not None:
        topology = with_attacker(topology)
    p = lookup_preset(spec.preset)
    specs = [WorkSpec(spec.size)] if spec.workload == "single" else exhibition_specs()[: spec.works]
    inner = GossipDriver(make_workload(specs, spec.seed, topology), p)
    driver: Driver = inner if spec.attack is None else HostileDriver(inner, spec.attack, spec.seed)
    world = World(topology, p, driver, seed=spec.seed)
    world.start()
    honest = [n for n in world.nodes if n.spec.name != ATTACKER]
    stop = (lambda: all(n.completed_at is not None for n in honest)) if spec.stop_when_complete else None
    world.queue.run_until(round(spec.hours * 3600 * TICKS_PER_SECOND), stop=stop)
    traced = tracemalloc.get_traced_memory() if spec.trace_memory else None
    if spec.trace_memory:
        tracemalloc.stop()
    return summarise(world, spec, traced, time.perf_counter() - started)


def summarise(world: World, spec: HostileSpec, traced: tuple[int, int] | None, wall_s: float) -> dict[str, Any]:
    """The figures of one finished run (honest nodes only, plus the attacker's own airtime)."""
    now = to_seconds(world.queue.now)
    honest = [n for n in world.nodes if n.spec.name != ATTACKER]
    attacker = [n for n in world.nodes if n.spec.name == ATTACKER]
    done = [to_seconds(n.completed_at) for n in honest if n.completed_at is not None]
    drops: dict[str, int] = {}
    state = {"works_wanted": 0, "assemblies": 0, "peers": 0, "takedowns": 0, "queued": 0, "stored_works": 0}
    for node in honest:
        status = node.agent.status(now)
        for reason, count in status.drops.items():
            drops[reason] = drops.get(reason, 0) + count
        state["works_wanted"] = max(state["works_wanted"], status.works_wanted)
        state["assemblies"] = max(state["assemblies"], status.assemblies)
        state["peers"] = max(state["peers"], status.peers)
        state["takedowns"] = max(state["takedowns"], status.takedowns)
        state["queued"] = max(state["queued"], sum(link.queued for link in status.links.values()))
        state["stored_works"] = max(state["stored_works"], len(node.store.work_ids()))
    return {
        "scenario": world.topology.name, "attack": spec.attack or "none", "size": spec.size, "seed": spec.seed,
        "workload": spec.workload if spec.works is None else f"{spec.workload}[:{spec.works}]",
        "missing": _missing(world, honest),
        "hours": spec.hours, "honest_nodes": len(honest),
        "complete_fraction": round(len(done) / len(honest), 4),
        "completion_s": round(max(done), 1) if len(done) == len(honest) else None,
        "honest_airtime_s": round(sum(_airtime(n) for n in honest), 2),
        "honest_frames": sum(n.frames_sent for n in honest),
        "attacker_airtime_s": round(sum(_airtime(n) for n in attacker), 2),
        "attacker_frames": sum(n.frames_sent for n in attacker),
        "max_duty_cycle": round(max(n.ledger.max_share() for n in world.nodes), 4),
        "collisions": world.collisions,
        "state_max": state,
        "drops": dict(sorted(drops.items())),
        "taken_down_real": _taken_down(world, honest),
        "traced_kib": None if traced is None else {"current": traced[0] // 1024, "peak": traced[1] // 1024},
        "wall_s": round(wall_s, 1),
    }


def _airtime(node: SimNode) -> float:
    return sum(e - s for s, e in node.ledger.history) / TICKS_PER_SECOND


def _missing(world: World, honest: list[SimNode]) -> int:
    """(honest node, work) pairs not complete at the end: a blocked work shows here."""
    driver = world.driver
    inner = driver.inner if isinstance(driver, HostileDriver) else driver
    works = [w.work_id for w in inner.works]
    return sum(1 for n in honest for w in works if not n.store.is_complete(w))


def _taken_down(world: World, honest: list[SimNode]) -> int:
    """Honest nodes where a real work was taken down."""
    driver = world.driver
    inner = driver.inner if isinstance(driver, HostileDriver) else driver
    works = [w.work_id for w in inner.works]
    return sum(1 for n in honest if any(n.store.is_taken_down(w) for w in works))


def overhead(attacked: dict[str, Any], baseline: dict[str, Any]) -> float:
    """Honest airtime under attack relative to the same run without it (0.25 = 25 % more)."""
    base = baseline["honest_airtime_s"]
    return math.inf if base == 0 else round(attacked["honest_airtime_s"] / base - 1, 4)
