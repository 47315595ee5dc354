"""One node's Meshtastic router for broadcasts: managed flooding with a transmit queue and reliable sends.

Modelled on meshtastic/firmware 2.7.26 (functions cited where the rule lives):

* **Dedupe** on ``(from, id)`` in a ring of ``PACKET_HISTORY`` records that forgets the least
  recently updated one (``PacketHistory::wasSeenRecently``, ``PacketHistory::insert``); it keeps the
  highest hop limit heard, so a copy with more hops left replaces a queued one
  (``FloodingRouter::perhapsHandleUpgradedPacket``).
* **Relay** a packet heard for the first time with the hop limit decremented, unless the role is
  CLIENT_MUTE or no hops are left (``NextHopRouter::perhapsRebroadcast``).
* **Duplicates**: a repeat by the originator itself (``hop_start == hop_limit``) is relayed again if
  no copy is still queued, so the originator gets its implicit ACK, and cancels nothing; any other
  duplicate cancels a queued relay for CLIENT roles, moves it to the late window for ROUTER_LATE
  and does nothing for ROUTER (``FloodingRouter::shouldFilterReceived``, ``perhapsCancelDupe``,
  ``roleAllowsCancelingDupe``, ``RadioLibInterface::clampToLateRebroadcastWindow``).
* **Transmit queue**: at most ``MAX_TX_QUEUE`` packets; packets in the late window last, then
  relays before own packets, first in first out (``MeshPacketQueue``'s ``CompareMeshPacketFunc``).
  The radio has one transmit timer, drawn for the packet at the front. Every reception and every
  transmission wipes it and draws it anew (``RadioLibInterface::onNotify``: the ISR notification
  overwrites the pending ``TRANSMIT_DELAY_COMPLETED``, then ``setTransmitDelay``), and so does a busy
  channel when it fires; an enqueue draws it only if none is pending (``notifyLater`` without
  overwrite). So a relay goes out only after an SNR-weighted quiet gap (``getTxDelayMsecWeighted``).
  For an own packet the timer fires at once and the world's CSMA draws its ``getTxDelayMsec`` wait.
* **Reliable broadcasts**: an own packet sent with ``want_ack`` is retransmitted up to
  ``NUM_RELIABLE_RETX − 1 = 2`` times (``PendingPacket`` counts the first send) when no relay of it
  is heard within ``getRetransmissionMsec``; every reception and every own send pushes the other
  deadlines back by its airtime (``ReliableRouter::send``, ``ReliableRouter::shouldFilterReceived``,
  ``NextHopRouter::doRetransmissions``). Hearing a relay stops the retransmissions and cancels a
  queued retransmission (``NextHopRouter::stopRetransmission``).

A relay the duty cycle refuses is dropped; an own packet is put back at the front of its class.
"""

from __future__ import annotations

import bisect
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from node.lora import Preset
from simulator.channel.contention import redrawn_deadline, relay_delay, retransmission_timeout, worst_relay_delay
from simulator.flood.frames import ROUTING, Routing, parse_routing
from simulator.flood.roles import Role

MAX_TX_QUEUE = 16  # RadioInterface.h
NUM_RELIABLE_RETX = 3  # NextHopRouter.h; PendingPacket subtracts the first send
PACKET_HISTORY = 200  # PACKETHISTORY_MAX = max(MAX_NUM_NODES · 2, 100) with MAX_NUM_NODES 100


@dataclass
class _Queued:
    routing: Routing
    frame: bytes
    snr: float | None  # the SNR it was heard with; None for an own packet
    seq: int
    late_until: float | None = None  # ROUTER_LATE: the packet's tx_after, once moved to the late window

    @property
    def own(self) -> bool:
        return self.snr is None

    def order(self) -> tuple[bool, bool, int]:
        return (self.late_until is not None, self.own, self.seq)


@dataclass
class _Reliable:
    frame: bytes
    retries: int
    next_tx: float


@dataclass
class RouterCounters:
    """What the router did, for tests and reports."""

    relayed: int = 0
    cancelled: int = 0
    late: int = 0
    upgraded: int = 0
    queue_full: int = 0
    refused: int = 0
    retransmitted: int = 0
    implicit_acks: int = 0
    gave_up: int = 0


class ManagedFloodRouter:
    """The firmware's broadcast path for one node: history, relays, transmit queue, retransmissions."""

    def __init__(self, node_num: int, role: Role, preset: Preset, rng: random.Random,
                 utilisation: Callable[[], float] = lambda: 0.0) -> None:
        self.node_num = node_num
        self.role = role
        self.preset = preset
        self.slot = preset.slot_time
        self.rng = rng
        self.counters = RouterCounters()
        self._history: OrderedDict[tuple[int, int], int] = OrderedDict()  # (from, id) -> highest hop limit
        self._queue: list[_Queued] = []
        self._timer: float | None = None  # the pending TRANSMIT_DELAY_COMPLETED
        self._seq = 0
        self._next_id = 1
        self._pending: dict[int, _Reliable] = {}  # own packet id -> retransmission state
        self._utilisation = utilisation  # the radio's channelUtilizationPercent (the channel's count)
        self._last_sent: _Queued | None = None
        self._airtimes: dict[int, float] = {}

    # -- what the node does ---------------------------------------------------------------------
    def originate(self, payload: bytes, now: float, hop_limit: int, want_ack: bool) -> Routing:
        """Queue an own broadcast (``ReliableRouter::send`` then ``FloodingRouter::send``)."""
        routing = Routing(self.node_num, self._next_id, hop_limit, hop_limit)
        self._next_id += 1
        frame = routing.pack() + payload
        self._remember(routing)
        airtime = self.airtime(frame)
        for entry in self._pending.values():  # we cannot hear an implicit ACK while sending this
            entry.next_tx += airtime
        if want_ack:
            timeout = retransmission_timeout(airtime, self.slot, self._utilisation())
            self._pending[routing.packet_id] = _Reliable(frame, NUM_RELIABLE_RETX - 1, now + timeout)
        self._enqueue(routing, frame, None, now)
        return routing

    def receive(self, frame: bytes, snr: float, now: float) -> bytes | None:
        """A decoded frame: its payload if this is the first time the packet is heard, else None."""
        routing = parse_routing(frame)
        if routing is None:
            return None
        airtime = self.airtime(frame)
        key = routing.key
        if routing.sender == self.node_num and self._pending.pop(routing.packet_id, None) is not None:
            self.counters.implicit_acks += 1  # ReliableRouter::shouldFilterReceived: someone relayed ours
            self._remove(key, lambda q: q.own)
        for entry in self._pending.values():
            entry.next_tx += airtime
        highest = self._history.get(key)
        if highest is None:
            self._remember(routing)
            self._rebroadcast(routing, frame, snr, now)
            self._draw(now)  # ISR_RX
            return frame[ROUTING.size :]
        self._history[key] = max(highest, routing.hop_limit)
        self._history.move_to_end(key)
        if (routing.hop_limit > highest and self.role.rebroadcasts and routing.hop_limit > 0
                and self._remove(key, lambda q: q.routing.hop_limit < routing.hop_limit) is not None):
            self.counters.upgraded += 1
            self._rebroadcast(routing, frame, snr, now)
        elif routing.hop_start > 0 and routing.hop_start == routing.hop_limit:
            if not self._queued(key):  # the originator repeats: relay again so it gets its implicit ACK
                self._rebroadcast(routing, frame, snr, now)
        else:
            self._on_duplicate(key, now)
        self._draw(now)  # ISR_RX
        return None

    def poll(self, now: float) -> bytes | None:
        """The front packet if its delay has passed."""
        if self._timer is None or self._timer > now + 1e-9:
            return None
        if not self._queue:
            self._timer = None
            return None
        front = self._queue[0]
        if front.late_until is not None and front.late_until > now + 1e-9:
            self._timer = front.late_until  # the late window has not opened yet
            return None
        self._queue.pop(0)
        self._last_sent = front
        airtime = self.airtime(front.frame)
        self._draw(now + airtime)  # ISR_TX: the next packet's delay starts when this one ends
        return front.frame

    def refused(self, frame: bytes, now: float) -> None:
        """The duty cycle refused the frame just polled: an own packet waits, a relay is dropped."""
        self.counters.refused += 1
        item, self._last_sent = self._last_sent, None
        if item is None or item.frame != frame:
            return
        if item.own:
            self._insert(item)
        self._draw(now)

    def channel_busy(self, now: float) -> None:
        """CAD found the channel busy when the timer fired: draw it again."""
        self._draw(now)

    def handle_timer(self, now: float) -> None:
        """Queue a retransmission of every reliable packet whose ACK is overdue."""
        for packet_id in sorted(self._pending):
            entry = self._pending[packet_id]
            if entry.next_tx > now + 1e-9:
                continue
            if entry.retries == 0:
                del self._pending[packet_id]  # MAX_RETRANSMIT: the app would get a NAK
                self.counters.gave_up += 1
                continue
            entry.retries -= 1
            self.counters.retransmitted += 1
            routing = parse_routing(entry.frame)
            assert routing is not None
            self._remember(routing)
            self._enqueue(routing, entry.frame, None, now)
            entry.next_tx = now + retransmission_timeout(self.airtime(entry.frame), self.slot, self._utilisation())

    def next_due(self) -> float | None:
        """When the router next has something to do: the front packet's time or a retransmission check."""
        times = [e.next_tx for e in self._pending.values()]
        if self._queue and self._timer is not None:
            times.append(self._timer)
        return min(times) if times else None

    @property
    def own_queued(self) -> bool:
        """Whether an own packet waits in the transmit queue (the app hands over the next one after it)."""
        return any(q.own for q in self._queue)

    @property
    def awaiting_ack(self) -> int:
        """Own reliable packets neither acknowledged nor given up yet."""
        return len(self._pending)

    @property
    def queued(self) -> int:
        """Packets in the transmit queue."""
        return len(self._queue)

    def airtime(self, frame: bytes) -> float:
        """Seconds on air for ``frame`` (its routing fields are part of the 16-byte header)."""
        size = len(frame) - ROUTING.size
        cached = self._airtimes.get(size)
        if cached is None:
            cached = self._airtimes[size] = self.preset.frame_airtime(size)
        return cached

    # -- internals --------------------------------------------------------------------------------
    def _remember(self, routing: Routing) -> None:
        key = routing.key
        self._history[key] = max(self._history.get(key, 0), routing.hop_limit)
        self._history.move_to_end(key)
        if len(self._history) > PACKET_HISTORY:
            self._history.popitem(last=False)

    def _rebroadcast(self, routing: Routing, frame: bytes, snr: float, now: float) -> None:
        if routing.sender == self.node_num or routing.hop_limit == 0 or not self.role.rebroadcasts:
            return
        relayed = Routing(routing.sender, routing.packet_id, routing.hop_limit - 1, routing.hop_start)
        self._remember(relayed)
        if self._enqueue(relayed, relayed.pack() + frame[ROUTING.size :], snr, now):
            self.counters.relayed += 1

    def _on_duplicate(self, key: tuple[int, int], now: float) -> None:
        if self.role.cancels_on_duplicate:
            if self._remove(key, lambda q: True) is not None:
                self.counters.cancelled += 1
        elif self.role is Role.ROUTER_LATE:
            item = self._remove(key, lambda q: q.late_until is None and q.snr is not None)
            if item is not None and item.snr is not None:
                item.late_until = now + worst_relay_delay(item.snr, self.slot)
                self._insert(item)
                self.counters.late += 1

    def _enqueue(self, routing: Routing, frame: bytes, snr: float | None, now: float) -> bool:
        if len(self._queue) >= MAX_TX_QUEUE:  # all our packets share one priority: nothing to evict
            self.counters.queue_full += 1
            return False
        self._seq += 1
        self._insert(_Queued(routing, frame, snr, self._seq))
        if self._timer is None:  # RadioLibInterface::send: notifyLater does not overwrite a pending timer
            self._draw(now)
        return True

    def _insert(self, item: _Queued) -> None:
        keys = [q.order() for q in self._queue]
        self._queue.insert(bisect.bisect_right(keys, item.order()), item)

    def _queued(self, key: tuple[int, int]) -> bool:
        return any(q.routing.key == key for q in self._queue)

    def _remove(self, key: tuple[int, int], which: Callable[[_Queued], bool]) -> _Queued | None:
        for i, q in enumerate(self._queue):
            if q.routing.key == key and which(q):
                return self._queue.pop(i)
        return None

    def _draw(self, now: float) -> None:
        """``setTransmitDelay``: a fresh timer for the front packet, none if the queue is empty."""
        if not self._queue:
            self._timer = None
            return
        front = self._queue[0]
        if front.snr is None:
            self._timer = now
            return
        # shouldRebroadcastEarlyLikeRouter: ROUTER only, not ROUTER_LATE
        delay = relay_delay(self.role is Role.ROUTER, front.snr, self.slot, self.rng)
        if front.late_until is not None:
            front.late_until = redrawn_deadline(front.late_until, now, delay, front.snr, self.slot)
            self._timer = front.late_until
        else:
            self._timer = now + delay
