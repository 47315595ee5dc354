"""One virtual Meshtastic radio: client API behaviour, transmit queue, duty cycle, flooding.

The radio sits between its API client (the ``ClientLink``, usually a TCP session) and the
:class:`Air`. Client packets are checked (channel, size, duty cycle), queued and sent after a
random contention delay when the channel is clear; frames from the air are deduplicated,
delivered to the client when they are decodable and for this node, and relayed according to
the radio's role, rebroadcast mode and the packet's hop limit.
"""

from __future__ import annotations

import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from meshtastic.protobuf import admin_pb2, config_pb2, mesh_pb2, portnums_pb2

from node.lora import MESHTASTIC_HEADER
from simulator.virtual_radio import flooding
from simulator.virtual_radio.admin import AdminHandler
from simulator.virtual_radio.air import Air, AirFrame, Cancellable, Scheduler
from simulator.virtual_radio.duty_cycle import HOUR_S, DutyCycleLedger
from simulator.virtual_radio.links import Link
from simulator.virtual_radio.rf import RfSetup, channel_identity, rf_setup
from simulator.virtual_radio.state import RadioState

log = logging.getLogger(__name__)

BROADCAST = 0xFFFFFFFF
MAX_TX_QUEUE = 16  # firmware RadioInterface.h
MAX_TO_CLIENT_BACKLOG = 32  # firmware MAX_RX_TOPHONE
MAX_LORA_DATA = 255 - 16  # encoded Data bytes that fit a LoRa frame after the 16-byte header
BITFIELD_BYTES = 2  # firmware adds Data.bitfield to every packet it originates
SEEN_MEMORY = 200
REGION_DUTY_CYCLE = {config_pb2.Config.LoRaConfig.RegionCode.EU_868: 10.0,
                     config_pb2.Config.LoRaConfig.RegionCode.EU_433: 10.0}
REGION_POWER_LIMIT = {config_pb2.Config.LoRaConfig.RegionCode.EU_868: 27,
                      config_pb2.Config.LoRaConfig.RegionCode.EU_433: 10}
Error = mesh_pb2.Routing.Error
PortNum = portnums_pb2.PortNum


class ClientLink(Protocol):
    """Where the radio's messages to its API client go."""

    configured: bool  # the client finished its want_config handshake

    def send(self, message: mesh_pb2.FromRadio) -> None:
        """Queue one FromRadio for the client."""
        ...

    def close(self) -> None:
        """Drop the connection."""
        ...


@dataclass
class QueuedTx:
    """A packet waiting in the transmit queue."""

    packet: mesh_pb2.MeshPacket
    channel: tuple[str, bytes]
    payload_len: int
    ready_at: float
    relay: bool


@dataclass
class RadioCounters:
    """Per-radio totals for the status table and tests."""

    sent: int = 0
    relayed: int = 0
    received: int = 0
    delivered: int = 0
    refused_duty_cycle: int = 0
    cancelled_relays: int = 0


class VirtualRadio:
    """A Meshtastic radio on the simulated channel."""

    def __init__(self, index: int, state: RadioState, air: Air, clock: Callable[[], float],
                 schedule: Scheduler, rng: random.Random, duty_window_s: float = HOUR_S,
                 on_state_changed: Callable[[VirtualRadio], None] | None = None) -> None:
        self.index = index
        self.state = state
        self.air = air
        self.clock = clock
        self.schedule = schedule
        self.rng = rng
        self.admin = AdminHandler(state)
        self.ledger = DutyCycleLedger(duty_window_s)
        self.on_state_changed = on_state_changed
        self.counters = RadioCounters()
        self.client: ClientLink | None = None
        self._backlog: deque[mesh_pb2.FromRadio] = deque(maxlen=MAX_TO_CLIENT_BACKLOG)
        self._queue: list[QueuedTx] = []
        self._timer: Cancellable | None = None
        self._transmitting = False
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._pending_relays: dict[tuple[int, int], QueuedTx] = {}
        self._awaiting_implicit_ack: set[int] = set()
        air.attach(self)

    # --- identity and setup -------------------------------------------------------------
    @property
    def node_num(self) -> int:
        """This radio's node number."""
        return self.state.node_num

    @property
    def name(self) -> str:
        """The owner's long name."""
        return self.state.owner.long_name

    def rf_now(self) -> RfSetup | None:
        """The RF setup the current config gives (None while the region is unset)."""
        return rf_setup(self.state.lora, self.state.channels[0])

    def tx_power_dbm(self) -> float:
        """Configured power, where 0 or anything above the region limit means the limit."""
        limit = REGION_POWER_LIMIT.get(self.state.lora.region, 30)
        power = self.state.lora.tx_power
        if power <= 0 or (power > limit and not self.state.owner.is_licensed):
            return float(limit)
        return float(power)

    def duty_cycle_percent(self) -> float:
        """The region's duty cycle limit, or 100 when overridden."""
        if self.state.lora.override_duty_cycle:
            return 100.0
        return REGION_DUTY_CYCLE.get(self.state.lora.region, 100.0)

    # --- the API client -----------------------------------------------------------------
    def attach_client(self, client: ClientLink) -> None:
        """A client connected; like the firmware, the previous one is force-closed."""
        if self.client is not None and self.client is not client:
            self.client.close()
        self.client = client

    def detach_client(self, client: ClientLink) -> None:
        """The client went away."""
        if self.client is client:
            self.client = None

    def client_configured(self) -> None:
        """The handshake finished: hand over what arrived while nobody listened."""
        while self._backlog and self.client is not None:
            self.client.send(self._backlog.popleft())

    def to_client(self, message: mesh_pb2.FromRadio) -> None:
        """Deliver now, or keep packets for the next client (firmware's to-phone queue)."""
        if self.client is not None and self.client.configured:
            self.client.send(message)
        elif message.HasField("packet"):
            self._backlog.append(message)

    def queue_status(self, packet_id: int = 0, res: int = 0) -> mesh_pb2.FromRadio:
        """The QueueStatus the firmware reports after each packet and heartbeat."""
        return mesh_pb2.FromRadio(queueStatus=mesh_pb2.QueueStatus(
            res=res, free=MAX_TX_QUEUE - len(self._queue), maxlen=MAX_TX_QUEUE, mesh_packet_id=packet_id))

    def handle_heartbeat(self) -> None:
        """Answer a heartbeat as firmware does."""
        self.to_client(self.queue_status())

    def handle_client_packet(self, packet: mesh_pb2.MeshPacket) -> None:
        """A ``ToRadio.packet`` from the client: admin for us, or something to transmit."""
        if packet.to == self.node_num:
            # Firmware reports the queue after every ToRadio.packet; the library counts on it to
            # refill its send budget (it stalls after 16 packets without one).
            self.to_client(self.queue_status(packet.id))
            if packet.decoded.portnum == PortNum.ADMIN_APP:
                self._handle_admin(packet)
            return
        self.originate(packet, from_client=True)

    def _handle_admin(self, packet: mesh_pb2.MeshPacket) -> None:
        try:
            message = admin_pb2.AdminMessage.FromString(packet.decoded.payload)
        except Exception:  # garbage from the client: firmware drops it too
            log.warning("%s: undecodable admin message", self.name)
            return
        outcome = self.admin.handle(message)
        if outcome.response is not None:
            reply = mesh_pb2.MeshPacket(id=self._new_packet_id(), channel=packet.channel)
            setattr(reply, "from", self.node_num)
            reply.to = self.node_num
            reply.decoded.portnum = PortNum.ADMIN_APP
            reply.decoded.payload = outcome.response.SerializeToString()
            reply.decoded.request_id = packet.id
            self.to_client(mesh_pb2.FromRadio(packet=reply))
        elif packet.want_ack:
            self._deliver_routing(packet.id, Error.NONE)
        if outcome.changed and self.on_state_changed is not None:
            self.on_state_changed(self)
        if outcome.reboot_after is not None:
            self.schedule(outcome.reboot_after, self._reboot)

    def _reboot(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _deliver_routing(self, request_id: int, error: int) -> None:
        """A Routing ACK/NAK from this radio to its own client."""
        packet = mesh_pb2.MeshPacket(id=self._new_packet_id(), to=self.node_num)
        setattr(packet, "from", self.node_num)
        packet.decoded.portnum = PortNum.ROUTING_APP
        packet.decoded.payload = mesh_pb2.Routing(error_reason=error).SerializeToString()
        packet.decoded.request_id = request_id
        self.to_client(mesh_pb2.FromRadio(packet=packet))

    # --- sending --------------------------------------------------------------------------
    def originate(self, packet: mesh_pb2.MeshPacket, from_client: bool = False) -> bool:
        """Send a packet this node originates; False (and a NAK to the client) if refused."""
        packet = mesh_pb2.MeshPacket.FromString(packet.SerializeToString())
        setattr(packet, "from", self.node_num)
        if not packet.id:
            packet.id = self._new_packet_id()
        hop_limit = flooding.sanitize_hop_limit(packet.hop_limit)
        packet.hop_limit = hop_limit
        packet.hop_start = hop_limit
        error = self._refusal(packet)
        if error is not None:
            if from_client:
                self._deliver_routing(packet.id, error)
                self.to_client(self.queue_status(packet.id))
            return False
        payload_len = len(packet.decoded.SerializeToString()) + BITFIELD_BYTES
        channel = channel_identity(self.state.channels[packet.channel], self.state.lora)
        now = self.clock()
        slot = self.rf_now().preset.slot_time  # type: ignore[union-attr]  # _refusal checked it
        self._remember((self.node_num, packet.id))
        if packet.want_ack and packet.to == BROADCAST:
            self._awaiting_implicit_ack.add(packet.id)
        self._enqueue(QueuedTx(packet, channel, payload_len, now + flooding.origin_delay(slot, self.rng), False))
        self.counters.sent += 1
        if from_client:
            self.to_client(self.queue_status(packet.id))
        return True

    def _refusal(self, packet: mesh_pb2.MeshPacket) -> int | None:
        """Why the firmware would refuse this packet, as a Routing.Error, or None."""
        if self.rf_now() is None or not self.state.lora.tx_enabled:
            return Error.NO_INTERFACE
        if not self.state.channel_index_enabled(packet.channel):
            return Error.NO_CHANNEL
        if len(packet.decoded.SerializeToString()) + BITFIELD_BYTES > MAX_LORA_DATA:
            return Error.TOO_LARGE
        if self.ledger.over_limit(self.clock(), self.duty_cycle_percent()):
            self.counters.refused_duty_cycle += 1
            notice = mesh_pb2.ClientNotification(
                reply_id=packet.id, level=mesh_pb2.LogRecord.Level.WARNING, time=int(time.time()),
                message="Duty cycle limit exceeded. You can send again later.")
            self.to_client(mesh_pb2.FromRadio(clientNotification=notice))
            return Error.DUTY_CYCLE_LIMIT
        if len(self._queue) >= MAX_TX_QUEUE:
            return Error.MAX_RETRANSMIT  # no exact firmware code for a full queue; clients wait on free
        return None

    def announce(self) -> None:
        """Broadcast this node's NodeInfo, as firmware does at boot."""
        packet = mesh_pb2.MeshPacket(to=BROADCAST, hop_limit=self.state.lora.hop_limit)
        packet.decoded.portnum = PortNum.NODEINFO_APP
        packet.decoded.payload = self.state.owner.SerializeToString()
        self.originate(packet)

    def _enqueue(self, item: QueuedTx) -> None:
        self._queue.append(item)
        self._arm()

    def _arm(self) -> None:
        """(Re)schedule the next transmit attempt for the earliest ready packet."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transmitting or not self._queue:
            return
        ready = min(item.ready_at for item in self._queue)
        self._timer = self.schedule(max(ready - self.clock(), 0.0), self._attempt)

    def _attempt(self) -> None:
        self._timer = None
        if self._transmitting or not self._queue:
            return
        now = self.clock()
        item = min(self._queue, key=lambda queued: queued.ready_at)
        if item.ready_at > now + 1e-6:
            self._arm()
            return
        rf = self.rf_now()
        if rf is None:
            self._queue.remove(item)
            self._arm()
            return
        if self.air.is_busy_for(self):  # CAD says busy: back off a random number of slots
            item.ready_at = now + flooding.origin_delay(rf.preset.slot_time, self.rng) + rf.preset.slot_time
            self._arm()
            return
        self._queue.remove(item)
        if item.relay:
            self._pending_relays.pop(_key(item.packet), None)
            self.counters.relayed += 1
        airtime = rf.preset.airtime(MESHTASTIC_HEADER + item.payload_len)
        self.ledger.record(now, airtime)
        self._transmitting = True
        self.air.transmit(AirFrame(self.index, item.packet, item.channel, rf, self.tx_power_dbm(),
                                   item.payload_len, now, now + airtime))
        self.schedule(airtime, self._transmit_done)

    def _transmit_done(self) -> None:
        self._transmitting = False
        self._arm()

    # --- receiving --------------------------------------------------------------------------
    def receive_frame(self, frame: AirFrame, link: Link) -> None:
        """A frame arrived intact from the air."""
        packet = mesh_pb2.MeshPacket.FromString(frame.packet.SerializeToString())
        key = _key(packet)
        sender = getattr(packet, "from")
        if sender == self.node_num:
            if packet.id in self._awaiting_implicit_ack:  # a neighbour relayed our broadcast
                self._awaiting_implicit_ack.discard(packet.id)
                self._deliver_routing(packet.id, Error.NONE)
            return
        if key in self._seen:
            pending = self._pending_relays.get(key)
            if pending is not None and flooding.cancels_on_duplicate(self.state.config.device.role):
                self._queue.remove(pending)
                del self._pending_relays[key]
                self.counters.cancelled_relays += 1
                self._arm()
            return
        self._remember(key)
        self.counters.received += 1
        channel_index = self._decoding_channel(frame.channel)
        if channel_index is not None:
            self._learn_node(packet, link)
            if packet.to in (BROADCAST, self.node_num):
                self._deliver_received(packet, link, channel_index)
            if packet.to == self.node_num and packet.want_ack:
                self._send_ack(packet, channel_index)
        if packet.to != self.node_num and packet.hop_limit > 0:
            self._maybe_relay(frame, packet, link, channel_index is not None)

    def _decoding_channel(self, identity: tuple[str, bytes]) -> int | None:
        for channel in self.state.channels:
            if self.state.channel_index_enabled(channel.index) and \
                    channel_identity(channel, self.state.lora) == identity:
                return channel.index
        return None

    def _learn_node(self, packet: mesh_pb2.MeshPacket, link: Link) -> None:
        sender = getattr(packet, "from")
        info = self.state.nodes.setdefault(sender, mesh_pb2.NodeInfo(num=sender))
        info.last_heard = int(time.time())
        info.snr = link.snr_db
        info.hops_away = max(packet.hop_start - packet.hop_limit, 0)
        if packet.decoded.portnum == PortNum.NODEINFO_APP:
            try:
                info.user.CopyFrom(mesh_pb2.User.FromString(packet.decoded.payload))
            except Exception:
                log.debug("%s: bad NodeInfo payload from %08x", self.name, sender)

    def _deliver_received(self, packet: mesh_pb2.MeshPacket, link: Link, channel_index: int) -> None:
        packet.channel = channel_index
        packet.rx_snr = link.snr_db
        packet.rx_rssi = int(link.rssi_dbm)
        packet.rx_time = int(time.time())
        packet.transport_mechanism = mesh_pb2.MeshPacket.TransportMechanism.TRANSPORT_LORA
        self.counters.delivered += 1
        self.to_client(mesh_pb2.FromRadio(packet=packet))

    def _send_ack(self, packet: mesh_pb2.MeshPacket, channel_index: int) -> None:
        ack = mesh_pb2.MeshPacket(to=getattr(packet, "from"), channel=channel_index,
                                  hop_limit=self.state.lora.hop_limit)
        ack.decoded.portnum = PortNum.ROUTING_APP
        ack.decoded.payload = mesh_pb2.Routing(error_reason=Error.NONE).SerializeToString()
        ack.decoded.request_id = packet.id
        self.originate(ack)

    def _maybe_relay(self, frame: AirFrame, packet: mesh_pb2.MeshPacket, link: Link, decodable: bool) -> None:
        device = self.state.config.device
        known = getattr(packet, "from") in self.state.nodes
        if not flooding.may_relay(device.role, device.rebroadcast_mode, decodable, packet.decoded.portnum, known):
            return
        rf = self.rf_now()
        if rf is None or len(self._queue) >= MAX_TX_QUEUE:
            return
        if self.ledger.over_limit(self.clock(), self.duty_cycle_percent()):
            self.counters.refused_duty_cycle += 1
            return
        relay = mesh_pb2.MeshPacket.FromString(frame.packet.SerializeToString())
        relay.hop_limit = packet.hop_limit - 1
        relay.relay_node = self.node_num & 0xFF
        delay = flooding.relay_delay(device.role, link.snr_db, rf.preset.slot_time, self.rng)
        item = QueuedTx(relay, frame.channel, frame.payload_len, self.clock() + delay, True)
        self._pending_relays[_key(relay)] = item
        self._enqueue(item)

    # --- helpers --------------------------------------------------------------------------
    def _remember(self, key: tuple[int, int]) -> None:
        self._seen[key] = None
        while len(self._seen) > SEEN_MEMORY:
            self._seen.popitem(last=False)

    def _new_packet_id(self) -> int:
        return self.rng.getrandbits(32) or 1


def _key(packet: mesh_pb2.MeshPacket) -> tuple[int, int]:
    return getattr(packet, "from"), packet.id
