"""The simulated world: nodes with radios on one shared LoRa channel, driven by virtual time.

Per node, the radio follows the Meshtastic firmware's transmit path: when the agent has work
(its timer is due) and the radio is idle, it waits ``getTxDelayMsec`` (random(0, 2^CW) slots, CW
from the channel utilisation), then does CAD: a busy channel means a new random wait. A clear
channel means the agent is polled for a frame; the duty-cycle ledger may refuse it
(``send_refused``), otherwise it is on air for its time on air, and the agent is polled again
after the transmission ends. Everything the channel decides (fading, capture, half duplex, CAD,
utilisation, delivery) is :class:`simulator.channel.medium.Medium`'s; foreign traffic comes from
:class:`simulator.channel.background.Background`. Every ``METRICS_INTERVAL_S`` an agent that
takes them gets its radio's device metrics, as the daemon passes them on.

Randomness comes from one ``random.Random`` per purpose, each seeded from the run seed and a
purpose name (string seeds hash with SHA-512, independent of PYTHONHASHSEED).
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.lora import MAX_APP_PAYLOAD, onair_bytes
from node.protocol.events import RxInfo
from node.store.memory import MemoryStore
from simulator.agent import LORA_LINK, NodeAgent, inband_header_bytes
from simulator.channel.background import Background, ForeignSource
from simulator.channel.contention import tx_delay_slots
from simulator.channel.dutycycle import DutyCycleLedger
from simulator.channel.links import LinkTable
from simulator.channel.medium import Frame, Medium, derived_rng
from simulator.channel.propagation import EU868_DUTY_CYCLE, MESHTASTIC_PREAMBLE, ChannelModel, Preset, time_on_air
from simulator.clock import TICKS_PER_SECOND, EventQueue, to_seconds
from simulator.scenarios import NodeSpec, Topology
from simulator.workload import PublishedWork

IDLE, BACKOFF, TX, BLOCKED, DOWN = "idle", "backoff", "tx", "blocked", "down"
MAX_IDLE_HOLD = TICKS_PER_SECOND  # an agent that says "due" but yields nothing is re-asked at most every second
METRICS_INTERVAL_S = 60  # DeviceTelemetryModule: device metrics (channel_utilization, air_util_tx) to the phone

__all__ = ["Driver", "SimNode", "Transmission", "World", "derived_rng"]


@dataclass
class Transmission:
    """One frame on air: the agent's bytes and what the medium made of it."""

    sender: int
    epoch: int
    data: bytes
    frame: Frame


@dataclass
class SimNode:
    """A node: its persistent store, its current agent and radio state, and its counters."""

    index: int
    spec: NodeSpec
    store: MemoryStore
    ledger: DutyCycleLedger
    keep: dict[str, Any] = field(default_factory=dict)  # driver state that survives reboots
    agent: Any = None
    up: bool = True
    epoch: int = 0
    mac: str = IDLE
    timer_tick: int = -1
    hold_until: int = 0
    idle_polls: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    refused: int = 0
    too_large: int = 0
    completed_at: int | None = None
    work_done: dict[int, int] = field(default_factory=dict)  # work index -> tick it completed here
    manifest_at: dict[int, int] = field(default_factory=dict)  # work index -> tick its manifest verified here
    waiting_publish: list[PublishedWork] = field(default_factory=list)  # due while the node was down
    channel_utilisation: Callable[[], float] = lambda: 0.0  # its radio's channelUtilizationPercent now
    pending: list[PublishedWork] | None = None  # works not yet noted complete here (None: not looked yet)


class Driver:
    """How a protocol puts agents on nodes; subclassed by :mod:`simulator.protocols`.

    ``works`` is the workload the world publishes: each work at its venue at its time.
    """

    name = "?"
    works: tuple[PublishedWork, ...] = ()

    def make_agent(self, node: SimNode, rng: random.Random, now: float) -> NodeAgent:
        """A fresh agent for ``node`` (at start or after a reboot), on the node's kept store."""
        raise NotImplementedError

    def publish(self, agent: NodeAgent, work: PublishedWork, now: float) -> None:
        """Let the venue's agent publish ``work``."""
        raise NotImplementedError

    def holds(self, node: SimNode, work: PublishedWork) -> bool:
        """Whether the node holds the whole verified work."""
        return node.store.is_complete(work.work_id)

    def has_manifest(self, node: SimNode, work: PublishedWork) -> bool:
        """Whether the node holds the work's verified manifest (it shows in the gallery's catalogue)."""
        return node.store.get_manifest(work.work_id) is not None

    def is_complete(self, node: SimNode) -> bool:
        """Whether the node holds every work (a driver without works never completes)."""
        return bool(self.works) and all(self.holds(node, w) for w in self.works)

    def counts(self, node: SimNode) -> bool:
        """Whether the node's completion counts in the figures (an attacker's does not)."""
        return True

    @property
    def workload_name(self) -> str:
        """The workload's name, for reports."""
        return f"{len(self.works)} works"


class World:
    """Runs one protocol on one topology."""

    def __init__(self, topology: Topology, preset: Preset, driver: Driver, *, seed: int,
                 model: ChannelModel | None = None, loss: float = 0.0, duty_rule: str = "strict",
                 duty_cycle: float = EU868_DUTY_CYCLE, csma: bool = True, background: float = 0.0,
                 radio_metrics: bool = True, signed_broadcasts: bool = False) -> None:
        self.topology = topology
        self.signed_broadcasts = signed_broadcasts  # firmware 2.8: small broadcasts carry a signature
        self.preset = preset
        self.driver = driver
        self.seed = seed
        self.model = model or ChannelModel()
        self.loss = loss
        self.csma = csma  # False: no random wait and no CAD (hand-built timing tests)
        self.radio_metrics = radio_metrics  # False: agents never get device metrics (as before issue 12)
        self.links = LinkTable(topology, preset, self.model)
        self.medium = Medium(len(topology.nodes), preset, self.model, seed=seed, loss=loss)
        self.background = Background(topology, preset, self.model, background, seed)
        self.queue = EventQueue()
        self.rng_mac = derived_rng(seed, "mac")
        self.slot = round(preset.slot_time * TICKS_PER_SECOND)
        self._noise_dbm = -self.model.snr_db(0.0, preset)  # snr_db(p) = p - noise floor
        self.full_frame = self._airtime(onair_bytes(MAX_APP_PAYLOAD))
        self._airtimes: dict[int, int] = {}
        self.source = topology.index(topology.source)
        self.nodes = [SimNode(i, spec, MemoryStore(), DutyCycleLedger(duty_cycle, duty_rule))
                      for i, spec in enumerate(topology.nodes)]
        for node in self.nodes:
            node.channel_utilisation = functools.partial(self._utilisation, node.index)
        self.on_complete: Callable[[SimNode], None] | None = None

    # -- set-up ---------------------------------------------------------------------------------
    def _airtime(self, onair_bytes: int) -> int:
        p = self.preset
        return round(time_on_air(onair_bytes, p.sf, p.bw_hz, p.cr, preamble=MESHTASTIC_PREAMBLE)
                     * TICKS_PER_SECOND)

    def start(self) -> None:
        """Boot every node and schedule each work's publication at its venue."""
        for node in self.nodes:
            self._boot(node)
        for work in self.driver.works:
            self.queue.schedule(round(work.at_s * TICKS_PER_SECOND), self._on_publish, work)
        for reboot in self.topology.reboots:
            idx = self.topology.index(reboot.node)
            self.queue.schedule(round(reboot.at_s * TICKS_PER_SECOND), self._on_down,
                                (idx, round(reboot.down_s * TICKS_PER_SECOND)))
        for source in self.background.sources:
            self.queue.schedule(self.background.next_at(source, 0), self._on_foreign, source)
        if self.radio_metrics:
            self.queue.schedule(METRICS_INTERVAL_S * TICKS_PER_SECOND, self._on_metrics, None)

    def _utilisation(self, index: int) -> float:
        return self.medium.utilisation_percent(index, self.queue.now)

    @property
    def collisions(self) -> int:
        """Decodable frames lost to collisions, over all receivers."""
        return self.medium.collisions

    def busy_ticks(self, node: SimNode) -> int:
        """Ticks the node's CAD saw the channel busy, its own transmissions included."""
        return self.medium.busy_ticks[node.index]

    def collisions_at(self, node: SimNode) -> int:
        """Decodable frames the node lost to collisions."""
        return self.medium.collisions_at[node.index]

    def _boot(self, node: SimNode) -> None:
        node.up = True
        self.medium.set_up(node.index)
        node.mac = IDLE
        node.timer_tick = -1
        node.hold_until = 0
        rng = derived_rng(self.seed, f"agent:{node.spec.name}:{node.epoch}")
        node.agent = self.driver.make_agent(node, rng, to_seconds(self.queue.now))
        self._after_agent(node)

    def _on_down(self, arg: tuple[int, int]) -> None:
        idx, down_ticks = arg
        node = self.nodes[idx]
        node.up = False
        node.epoch += 1
        node.mac = DOWN
        node.agent = None
        self.medium.set_down(idx)
        self.queue.schedule(self.queue.now + down_ticks, self._on_up, idx)

    def _on_up(self, idx: int) -> None:
        node = self.nodes[idx]
        self._boot(node)
        waiting, node.waiting_publish = node.waiting_publish, []
        for work in waiting:
            self._on_publish(work)

    def _on_publish(self, work: PublishedWork) -> None:
        node = self.nodes[self.topology.index(work.venue)]
        if not node.up:
            node.waiting_publish.append(work)  # the venue publishes once it is back
            return
        self.driver.publish(node.agent, work, to_seconds(self.queue.now))
        self._after_agent(node)

    # -- the agent side -----------------------------------------------------------------------
    def _after_agent(self, node: SimNode) -> None:
        """Drain the agent's events, note completion, and decide when to act next."""
        agent = node.agent
        next_event = getattr(agent, "next_event", None)
        if next_event is not None:
            while next_event() is not None:
                pass
        if node.completed_at is None:
            self._note_progress(node)
        self._service(node)

    def _note_progress(self, node: SimNode) -> None:
        driver, now = self.driver, self.queue.now
        if node.pending is None:
            node.pending = list(driver.works)
        still = []
        for work in node.pending:  # only the works whose manifest or content is still missing here
            i = work.index
            if i not in node.manifest_at and driver.has_manifest(node, work):
                node.manifest_at[i] = now
            if i not in node.work_done and driver.holds(node, work):
                node.work_done[i] = now
            if i not in node.manifest_at or i not in node.work_done:
                still.append(work)
        node.pending = still
        if len(node.work_done) == len(driver.works) and driver.is_complete(node):
            node.completed_at = now
            if self.on_complete is not None:
                self.on_complete(node)

    def _service(self, node: SimNode) -> None:
        if not node.up:
            return
        now = self.queue.now
        now_s = to_seconds(now)
        agent = node.agent
        due = agent.get_timer()
        if due is not None and due <= now_s + 1e-9:
            agent.handle_timer(now_s)
            due = agent.get_timer()
        if due is None:
            return
        if due <= now_s + 1e-9:
            if node.mac != IDLE:
                return  # the radio asks again when it is idle
            if now < node.hold_until:
                self._set_timer(node, node.hold_until)
                return
            self._backoff(node)
        else:
            self._set_timer(node, max(math.ceil(due * TICKS_PER_SECOND), now + 1))

    def _set_timer(self, node: SimNode, tick: int) -> None:
        if node.timer_tick > self.queue.now and node.timer_tick <= tick:
            return  # an earlier wake-up is already pending; it re-reads the timer
        node.timer_tick = tick
        self.queue.schedule(tick, self._on_timer, (node.index, node.epoch, tick))

    def _on_timer(self, arg: tuple[int, int, int]) -> None:
        idx, epoch, tick = arg
        node = self.nodes[idx]
        if node.epoch != epoch or node.timer_tick != tick or not node.up:
            return
        node.timer_tick = -1
        if node.agent is not None:
            self._service(node)
            self._drain(node)

    def _drain(self, node: SimNode) -> None:
        next_event = getattr(node.agent, "next_event", None)
        if next_event is not None:
            while next_event() is not None:
                pass

    # -- the radio ------------------------------------------------------------------------------
    def _backoff(self, node: SimNode) -> None:
        node.mac = BACKOFF
        if not self.csma:
            self.queue.schedule(self.queue.now, self._on_backoff_end, (node.index, node.epoch))
            return
        util = self.medium.utilisation_percent(node.index, self.queue.now)
        delay = tx_delay_slots(util, self.rng_mac) * self.slot
        self.queue.schedule(self.queue.now + delay, self._on_backoff_end, (node.index, node.epoch))

    def _on_backoff_end(self, arg: tuple[int, int]) -> None:
        idx, epoch = arg
        node = self.nodes[idx]
        if node.epoch != epoch or not node.up or node.mac != BACKOFF:
            return
        if self.csma and self.medium.cad_busy(idx, self.queue.now):
            busy = getattr(node.agent, "channel_busy", None)
            if busy is None:
                self._backoff(node)
                return
            busy(to_seconds(self.queue.now))  # the flood redraws its relay delay (RadioLibInterface::onNotify)
            node.mac = IDLE
            self._after_agent(node)
            return
        now = self.queue.now
        now_s = to_seconds(now)
        agent = node.agent
        frame = agent.poll_frame(LORA_LINK, now_s)
        node.mac = IDLE
        if frame is None:
            node.idle_polls += 1
            node.hold_until = now + min(MAX_IDLE_HOLD, self.slot << min(node.idle_polls, 20))
            self._after_agent(node)
            return
        node.idle_polls = 0
        node.hold_until = 0
        payload_len = len(frame) - inband_header_bytes(agent)
        if payload_len > MAX_APP_PAYLOAD:  # Router::perhapsEncode answers TOO_LARGE; nothing is sent
            node.too_large += 1
            self._after_agent(node)
            return
        onair = onair_bytes(payload_len, signed_broadcast=self.signed_broadcasts)
        airtime = self._airtimes.get(onair)
        if airtime is None:
            airtime = self._airtimes[onair] = self._airtime(onair)
        if not node.ledger.allows(now, airtime):
            node.refused += 1
            agent.send_refused(LORA_LINK, frame, now_s)
            node.mac = BLOCKED
            self.queue.schedule(node.ledger.next_allowed(now, self.full_frame), self._on_unblock,
                                (idx, node.epoch))
            self._drain(node)
            return
        self._transmit(node, frame, airtime)
        self._drain(node)

    def _on_unblock(self, arg: tuple[int, int]) -> None:
        idx, epoch = arg
        node = self.nodes[idx]
        if node.epoch == epoch and node.up and node.mac == BLOCKED:
            node.mac = IDLE
            self._after_agent(node)

    def _transmit(self, sender: SimNode, frame: bytes, airtime: int) -> None:
        now = self.queue.now
        end = now + airtime
        sender.mac = TX
        sender.frames_sent += 1
        sender.ledger.record(now, end)
        on_air = self.medium.transmit(sender.index, self.links.paths[sender.index], now, end)
        self.queue.schedule(end, self._on_tx_end, Transmission(sender.index, sender.epoch, frame, on_air))

    def _on_tx_end(self, tx: Transmission) -> None:
        sender = self.nodes[tx.sender]
        if sender.epoch == tx.epoch and sender.mac == TX:
            sender.mac = IDLE
        now_s = to_seconds(self.queue.now)
        delivered = []
        name = f"!{tx.sender + 1:08x}"
        noise = self._noise_dbm
        for reception in self.medium.finish(tx.frame):
            receiver = self.nodes[reception.receiver]
            power = reception.power
            info = RxInfo(sender=name, snr=round(power - noise, 2), rssi=round(power, 1))
            receiver.frames_received += 1
            receiver.agent.receive_frame(tx.data, LORA_LINK, info, now_s)
            delivered.append(receiver)
        for receiver in delivered:
            receiver.idle_polls = 0
            receiver.hold_until = 0
            self._after_agent(receiver)
        if sender.up and sender.epoch == tx.epoch:
            self._after_agent(sender)

    # -- the rest of the slot -------------------------------------------------------------------
    def _on_foreign(self, source: ForeignSource) -> None:
        now = self.queue.now
        end = self.background.frame(source, now)
        if end is not None:
            self.medium.transmit(source.index, source.paths, now, end, source.kind.modulation)
        self.queue.schedule(self.background.next_at(source, now), self._on_foreign, source)

    def _on_metrics(self, _: None) -> None:
        now = self.queue.now
        now_s = to_seconds(now)
        for node in self.nodes:
            note = getattr(node.agent, "note_radio_metrics", None) if node.up else None
            if note is not None:
                util = self.medium.utilisation_percent(node.index, now)
                note(LORA_LINK, util, round(100 * node.ledger.share(now), 3), now_s)
                self._service(node)  # the pacing may have changed; no event or progress comes of it
        self.queue.schedule(now + METRICS_INTERVAL_S * TICKS_PER_SECOND, self._on_metrics, None)
