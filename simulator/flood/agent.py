"""A simulated node running the flood baseline: the router, what it holds, and (optionally) repair.

The node's app publishes a work as one reliable broadcast (``want_ack``) per manifest piece and
chunk, and sends the next one when the last is acknowledged (the firmware's implicit ACK: a relay
was heard) or has failed, like a Python app that waits for ``sendData(wantAck=True,
onResponse=...)``. Streaming them back to back instead would starve the relays: the source's
own wait (``getTxDelayMsec``) is shorter than a relay's SNR-weighted one, which every frame
heard redraws. With repair, missing lists go first, then re-floods for others, then the node's
own works.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from node.artwork.bundle import Bundle
from node.lora import Preset
from node.protocol.events import RxInfo
from simulator.flood.frames import HOP_MAX, ROUTING, Missing, Piece, PieceKey, parse_payload, work_packets
from simulator.flood.holdings import FloodHoldings
from simulator.flood.repair import Repair, RepairConfig
from simulator.flood.roles import Role
from simulator.flood.router import ManagedFloodRouter

DEFAULT_HOP_LIMIT = 3  # HOP_RELIABLE, the firmware default


@dataclass(frozen=True)
class FloodConfig:
    """How one node floods: its role, the hop limit of what it originates, and the repair (None: off)."""

    role: Role = Role.CLIENT
    hop_limit: int = DEFAULT_HOP_LIMIT
    repair: RepairConfig | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.hop_limit <= HOP_MAX:
            raise ValueError(f"hop limit must be 0..{HOP_MAX}, got {self.hop_limit}")


class FloodAgent:
    """One node of the flood (a :class:`simulator.agent.NodeAgent`)."""

    INBAND_HEADER_BYTES = ROUTING.size

    def __init__(self, node_num: int, holdings: FloodHoldings, rng: random.Random, preset: Preset,
                 config: FloodConfig, now: float = 0.0, utilisation: Callable[[], float] = lambda: 0.0) -> None:
        self.holdings = holdings
        self.config = config
        self.router = ManagedFloodRouter(node_num, config.role, preset, rng, utilisation)
        self.repair = Repair(holdings, rng, config.repair) if config.repair is not None else None
        self._backlog: deque[tuple[PieceKey, bytes]] = deque()  # own pieces the app has not handed over yet
        self._backlog_keys: set[PieceKey] = set()
        self._asks: deque[bytes] = deque()  # missing lists to send
        if self.repair is not None:
            self.repair.start(now)

    # -- the app ------------------------------------------------------------------------------------
    def originate(self, bundle: Bundle, now: float) -> None:
        """Publish a work: store it and queue one broadcast per manifest piece and chunk."""
        self.holdings.add_own(bundle, now)
        for key, payload in work_packets(bundle):
            self._backlog.append((key, payload))
            self._backlog_keys.add(key)
        self._feed(now)

    # -- NodeAgent ----------------------------------------------------------------------------------
    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Route the frame; keep what it carries if it is new."""
        snr = rx_info.snr if rx_info.snr is not None else 0.0
        payload = self.router.receive(data, snr, now)
        if payload is not None:
            item = parse_payload(payload)
            if isinstance(item, Piece):
                new = self.holdings.take(item, now)
                if self.repair is not None:
                    self.repair.heard_piece(item, new, now)
            elif isinstance(item, Missing) and self.repair is not None:
                self.repair.heard_missing(item, now)
        self._feed(now)

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """The router's front packet if it is due; the app hands over its next packet when it ends."""
        frame = self.router.poll(now)
        if frame is not None:
            self._feed(now + self.router.airtime(frame))
        return frame

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """Duty cycle: our own packet waits, a relay is dropped."""
        self.router.refused(data, now)

    def channel_busy(self, now: float) -> None:
        """CAD found the channel busy when a frame was due."""
        self.router.channel_busy(now)

    def get_timer(self) -> float | None:
        """The router's next deadline or the repair's (a re-flood only once the radio can take it)."""
        times = [self.router.next_due()]
        if self.repair is not None:
            times.append(self.repair.next_ask())
            if not self.router.own_queued and not self.router.awaiting_ack:
                times.append(self.repair.next_answer_due())
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def handle_timer(self, now: float) -> None:
        """Retransmissions, then asks and re-floods that are due."""
        self.router.handle_timer(now)
        if self.repair is not None:
            self._asks.extend(self.repair.due_asks(now))
        self._feed(now)

    # -- internals ----------------------------------------------------------------------------------
    def _feed(self, now: float) -> None:
        """Hand the radio the app's next packet once the last one is sent and acknowledged (or failed)."""
        if self.router.own_queued or self.router.awaiting_ack:
            return
        if self._asks:
            self.router.originate(self._asks.popleft(), now, hop_limit=0, want_ack=False)
            return
        if self.repair is not None:
            answer = self.repair.next_answer(now, self._backlog_keys)
            if answer is not None:
                hops = self.repair.config.answer_hop_limit
                if hops is None:
                    self.router.originate(answer[1], now, self.config.hop_limit, want_ack=True)
                else:  # nothing relays a zero-hop packet, so no implicit ACK can come: send it once
                    self.router.originate(answer[1], now, hops, want_ack=hops > 0)
                return
        if self._backlog:
            key, payload = self._backlog.popleft()
            self._backlog_keys.discard(key)
            self.router.originate(payload, now, self.config.hop_limit, want_ack=True)
