"""One virtual Meshtastic radio: client API behaviour, transmit queue, receive path, modules, reboots.

The radio sits between its API client (the ``ClientLink``, usually a TCP session) and the
:class:`Air`. Client packets are checked (channel, size, duty cycle), queued and sent after a
random contention delay when the channel is clear; reliable ones are retried until acknowledged.
Frames from the air pass the firmware's receive filters (``receive_filters``), are deduplicated,
decoded, handed to the firmware modules (``mesh_modules``: node DB, answers to requests),
delivered to the client when they are for this node, and relayed according to the radio's role,
rebroadcast mode and the packet's hop limit. The radio boots, announces itself, and reboots
after the settings that make firmware 2.7 reboot.
"""

from __future__ import annotations

import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from meshtastic.protobuf import admin_pb2, config_pb2, mesh_pb2, portnums_pb2, telemetry_pb2

from node.lora import MESHTASTIC_HEADER
from simulator.channel.contention import relay_delay, tx_delay
from simulator.channel.dutycycle import DutyCycleLedger
from simulator.virtual_radio import flooding, pki, receive_filters
from simulator.virtual_radio.admin import AdminHandler
from simulator.virtual_radio.air import Air, AirFrame, Cancellable, Scheduler, ticks
from simulator.virtual_radio.links import Link
from simulator.virtual_radio.mesh_modules import (
    USB_POWERED_BATTERY_LEVEL,
    MeshModules,
    hops_away,
    response_hop_limit,
    trace_hop,
    with_precision,
)
from simulator.virtual_radio.retransmission import Retransmissions, retransmission_interval_s
from simulator.virtual_radio.rf import RfSetup, channel_identity, rf_setup
from simulator.virtual_radio.state import RadioState
from simulator.virtual_radio.timing import FIRMWARE, FirmwareTiming

log = logging.getLogger(__name__)

BROADCAST = 0xFFFFFFFF
MAX_TX_QUEUE = 16  # firmware RadioInterface.h
MAX_TO_CLIENT_BACKLOG = 32  # firmware MAX_RX_TOPHONE
MAX_LORA_DATA = 255 - 16  # encoded Data bytes that fit a LoRa frame after the 16-byte header
BITFIELD_BYTES = 2  # firmware adds Data.bitfield to every packet it originates
SEEN_MEMORY = 200
HOUR_S = 3600.0
POLITE_CHANNEL_UTIL = 25.0  # airtime.h polite_channel_util_percent
MAX_CHANNEL_UTIL = 40.0  # airtime.h max_channel_util_percent
POLITE_DUTY_CYCLE_SHARE = 0.5  # airtime.h polite_duty_cycle_percent: periodic traffic gets half the budget
DEFAULT_BROADCAST_S = 3600  # Default.h default_broadcast_interval_secs (position, telemetry)
ROUTER_BROADCAST_S = 12 * 3600  # the same, IF_ROUTER
REGION_DUTY_CYCLE = {config_pb2.Config.LoRaConfig.RegionCode.EU_868: 10.0,
                     config_pb2.Config.LoRaConfig.RegionCode.EU_433: 10.0}
REGION_POWER_LIMIT = {config_pb2.Config.LoRaConfig.RegionCode.EU_868: 27,
                      config_pb2.Config.LoRaConfig.RegionCode.EU_433: 10}
Error = mesh_pb2.Routing.Error
PortNum = portnums_pb2.PortNum
Role = config_pb2.Config.DeviceConfig.Role
RESETS = frozenset({"factory_reset_config", "factory_reset_device"})


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
    duplicates: int = 0
    ignored: int = 0  # dropped on arrival: ignore_incoming or an ignored node
    skipped: int = 0  # decoded but skipped: CORE_PORTNUMS_ONLY
    retransmitted: int = 0
    boots: int = 0


class VirtualRadio:
    """A Meshtastic radio on the simulated channel."""

    def __init__(self, index: int, state: RadioState, air: Air, clock: Callable[[], float],
                 schedule: Scheduler, rng: random.Random, duty_window_s: float = HOUR_S,
                 on_state_changed: Callable[[VirtualRadio], None] | None = None,
                 timing: FirmwareTiming = FIRMWARE) -> None:
        self.index = index
        self.state = state
        self.air = air
        self.clock = clock
        self.schedule = schedule
        self.rng = rng
        self.timing = timing
        self.duty_window_s = duty_window_s
        self.admin = AdminHandler(state, rng)
        self.modules = MeshModules(state, timing, clock)
        self.retransmissions = Retransmissions(schedule, self._retransmit, self._give_up)
        self.ledger = self._new_ledger()
        self.on_state_changed = on_state_changed
        self.counters = RadioCounters()
        self.client: ClientLink | None = None
        self.boot_time = clock()
        self.broadcasts = False  # the periodic NodeInfo / position / telemetry modules run
        self._backlog: deque[mesh_pb2.FromRadio] = deque(maxlen=MAX_TO_CLIENT_BACKLOG)
        self._queue: list[QueuedTx] = []
        self._timer: Cancellable | None = None
        self._reboot_timer: Cancellable | None = None
        self._module_timers: list[Cancellable] = []
        self._transmitting = False
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._pending_relays: dict[tuple[int, int], QueuedTx] = {}
        self._last_telemetry_to_mesh: float | None = None
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

    def _new_ledger(self) -> DutyCycleLedger:
        # Router::send refuses while utilizationTXPercent is already above the limit: the firmware rule
        return DutyCycleLedger(self.duty_cycle_percent() / 100.0, "firmware", window=ticks(self.duty_window_s),
                               keep_history=False)

    def _duty_cycle_exceeded(self) -> bool:
        """Whether Router::send would refuse a packet now (NAK ``DUTY_CYCLE_LIMIT``)."""
        self.ledger.limit = self.duty_cycle_percent() / 100.0  # override_duty_cycle may change at any time
        return not self.ledger.allows(ticks(self.clock()), 0)

    # --- boot and reboot ------------------------------------------------------------------------
    def boot(self, broadcasts: bool = True) -> None:
        """Power on: make the PKI keys if a region is set, start the periodic modules."""
        self.boot_time = self.clock()
        self.broadcasts = broadcasts
        self.state.ensure_keys(lambda: pki.private_key_from_rng(self.rng))
        if not broadcasts:
            return
        self._after(self.timing.nodeinfo_start_s, self._nodeinfo_tick)
        self._after(self.timing.position_start_s, self._position_tick)
        self._after(self.timing.telemetry_start_s, self._telemetry_tick)

    def _reboot(self) -> None:
        """What a reboot loses (everything in RAM) before the radio boots again."""
        self._reboot_timer = None
        self.counters.boots += 1
        if self.client is not None:
            self.client.close()
            self.client = None
        for timer in [self._timer, *self._module_timers]:
            if timer is not None:
                timer.cancel()
        self._timer, self._module_timers = None, []
        self._queue.clear()
        self._pending_relays.clear()
        self._seen.clear()
        self._backlog.clear()
        self.retransmissions.clear()
        # airTime keeps its buckets in RAM: a reboot also restarts the duty-cycle hour.
        self.ledger = self._new_ledger()
        self.admin.boot()
        self.boot(self.broadcasts)

    def _reboot_in(self, seconds: float) -> None:
        """Schedule the reboot; a later request replaces an earlier one (``AdminModule::reboot``)."""
        if self._reboot_timer is not None:
            self._reboot_timer.cancel()
        self._reboot_timer = self.schedule(seconds, self._reboot)

    def _after(self, seconds: float, action: Callable[[], None]) -> None:
        self._module_timers.append(self.schedule(seconds, action))

    # --- device metrics -------------------------------------------------------------------------
    def channel_utilization(self) -> float:
        """Percent of the last minute this radio heard or sent frames (``channelUtilizationPercent``)."""
        return self.air.utilisation_percent(self)

    def air_util_tx(self) -> float:
        """Percent of the duty-cycle window spent transmitting (``utilizationTXPercent``)."""
        return 100.0 * self.ledger.share(ticks(self.clock()))

    def device_metrics(self) -> telemetry_pb2.DeviceMetrics:
        """What DeviceTelemetry reports and keeps in the radio's own node entry."""
        return telemetry_pb2.DeviceMetrics(
            battery_level=USB_POWERED_BATTERY_LEVEL, voltage=0.0, channel_utilization=self.channel_utilization(),
            air_util_tx=self.air_util_tx(), uptime_seconds=int(self.clock() - self.boot_time))

    def local_stats(self) -> telemetry_pb2.LocalStats:
        """The LocalStats telemetry (``DeviceTelemetryModule::getLocalStatsTelemetry``)."""
        counters = self.counters
        return telemetry_pb2.LocalStats(
            uptime_seconds=int(self.clock() - self.boot_time), channel_utilization=self.channel_utilization(),
            air_util_tx=self.air_util_tx(), num_packets_tx=counters.sent + counters.relayed,
            num_packets_rx=counters.received, num_online_nodes=len(self.state.nodes) + 1,
            num_total_nodes=len(self.state.nodes) + 1, num_rx_dupe=counters.duplicates,
            num_tx_relay=counters.relayed, num_tx_relay_canceled=counters.cancelled_relays)

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
        for notice in outcome.notifications:
            self.to_client(mesh_pb2.FromRadio(clientNotification=notice))
        if outcome.response is not None:
            reply = mesh_pb2.MeshPacket(id=self._new_packet_id(), channel=packet.channel)
            setattr(reply, "from", self.node_num)
            reply.to = self.node_num
            reply.decoded.portnum = PortNum.ADMIN_APP
            reply.decoded.payload = outcome.response.SerializeToString()
            reply.decoded.request_id = packet.id
            self.to_client(mesh_pb2.FromRadio(packet=reply))
        elif outcome.error is not None:
            self._deliver_routing(packet.id, outcome.error)
        elif packet.want_ack or packet.decoded.want_response:
            self._deliver_routing(packet.id, Error.NONE)
        if message.WhichOneof("payload_variant") in RESETS:
            self.modules.forget()
        if outcome.changed and self.on_state_changed is not None:
            self.on_state_changed(self)
        if outcome.announce_owner:
            self._send_nodeinfo()
        if outcome.announce_position:
            self._send_position()
        if outcome.reboot:
            self._reboot_in(self.timing.reboot_s)
        elif outcome.reboot_after is not None:
            self._reboot_in(outcome.reboot_after)

    def _deliver_routing(self, request_id: int, error: int, sender: int | None = None) -> None:
        """A Routing ACK/NAK to this radio's own client (``sender``: the node it comes from)."""
        packet = mesh_pb2.MeshPacket(id=self._new_packet_id(), to=self.node_num)
        setattr(packet, "from", self.node_num if sender is None else sender)
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
        if from_client and packet.want_ack and packet.hop_limit == 0:
            # "asking for hop_limit 0 in that context means the client app has no preference": use the
            # configured limit (Router::sendLocal since 2.7.19; ReliableRouter::send before, there for any
            # want_ack packet, not only the client's).
            packet.hop_limit = self.state.lora.hop_limit
        hop_limit = flooding.sanitize_hop_limit(packet.hop_limit)
        packet.hop_limit = hop_limit
        packet.hop_start = hop_limit
        error = self._refusal(packet)
        if error is not None:
            if from_client:
                self._deliver_routing(packet.id, error)
                self.to_client(self.queue_status(packet.id))
            return False
        if packet.decoded.portnum == PortNum.POSITION_APP:
            self._apply_channel_precision(packet)
        if packet.want_ack:
            rf = self.rf_now()
            assert rf is not None  # _refusal checked it
            interval = retransmission_interval_s(rf.preset, len(packet.decoded.SerializeToString()) + BITFIELD_BYTES,
                                                 self.channel_utilization())
            self.retransmissions.start(packet, interval)
        self._send_own(packet)
        self.counters.sent += 1
        if from_client:
            self.to_client(self.queue_status(packet.id))
        return True

    def _send_own(self, packet: mesh_pb2.MeshPacket) -> None:
        """Queue one of our own packets (first send or retry) after a random contention delay."""
        air_packet = mesh_pb2.MeshPacket()
        air_packet.CopyFrom(packet)
        if air_packet.to == BROADCAST:
            air_packet.want_ack = False  # "Never set the want_ack flag on broadcast packets sent over the air"
        air_packet.relay_node = self.node_num & 0xFF
        payload_len = len(air_packet.decoded.SerializeToString()) + BITFIELD_BYTES
        channel = channel_identity(self.state.channels[air_packet.channel], self.state.lora)
        slot = self.rf_now().preset.slot_time  # type: ignore[union-attr]  # callers checked the region
        self._remember(_key(air_packet))
        ready_at = self.clock() + tx_delay(self.channel_utilization(), slot, self.rng)
        # MeshPacketQueue sends our own packets in the order they were queued (within a priority).
        ready_at = max([ready_at, *(item.ready_at for item in self._queue if not item.relay)])
        self._enqueue(QueuedTx(air_packet, channel, payload_len, ready_at, False))

    def _apply_channel_precision(self, packet: mesh_pb2.MeshPacket) -> None:
        """Router::send truncates every position we originate to the channel's precision (2.7.26)."""
        try:
            position = mesh_pb2.Position.FromString(packet.decoded.payload)
        except Exception:
            return
        packet.decoded.payload = with_precision(position, self.state.position_precision(packet.channel)) \
            .SerializeToString()

    def _retransmit(self, packet: mesh_pb2.MeshPacket) -> None:
        if self.rf_now() is None or len(self._queue) >= MAX_TX_QUEUE or \
                self._duty_cycle_exceeded():
            return  # this try is lost; the timer still runs
        self.counters.retransmitted += 1
        self._send_own(packet)

    def _give_up(self, packet: mesh_pb2.MeshPacket) -> None:
        """No ACK after every retry: ``doRetransmissions`` NAKs the client with MAX_RETRANSMIT."""
        self._deliver_routing(packet.id, Error.MAX_RETRANSMIT)

    def _refusal(self, packet: mesh_pb2.MeshPacket) -> int | None:
        """Why the firmware would refuse this packet, as a Routing.Error, or None."""
        if self.rf_now() is None or not self.state.lora.tx_enabled:
            return Error.NO_INTERFACE
        if not self.state.channel_index_enabled(packet.channel):
            return Error.NO_CHANNEL
        if len(packet.decoded.SerializeToString()) + BITFIELD_BYTES > MAX_LORA_DATA:
            return Error.TOO_LARGE
        if self._duty_cycle_exceeded():
            self.counters.refused_duty_cycle += 1
            notice = mesh_pb2.ClientNotification(
                reply_id=packet.id, level=mesh_pb2.LogRecord.Level.WARNING, time=int(time.time()),
                message="Duty cycle limit exceeded. You can send again later.")
            self.to_client(mesh_pb2.FromRadio(clientNotification=notice))
            return Error.DUTY_CYCLE_LIMIT
        if len(self._queue) >= MAX_TX_QUEUE:
            return Error.MAX_RETRANSMIT  # no exact firmware code for a full queue; clients wait on free
        return None

    def _broadcast(self, data: mesh_pb2.Data, channel: int = 0, to: int = BROADCAST) -> bool:
        packet = mesh_pb2.MeshPacket(to=to, channel=channel, hop_limit=self.state.lora.hop_limit)
        packet.decoded.CopyFrom(data)
        return self.originate(packet)

    def announce(self) -> None:
        """Broadcast this node's NodeInfo now (what the NodeInfo module does at boot)."""
        self._broadcast(self.modules.nodeinfo_data())

    # --- the periodic modules -------------------------------------------------------------
    def _periodic_allowed(self) -> bool:
        """``isTxAllowedAirUtil`` and the polite ``isTxAllowedChannelUtil`` of periodic traffic."""
        return self.air_util_tx() < self.duty_cycle_percent() * POLITE_DUTY_CYCLE_SHARE and \
            self.channel_utilization() < POLITE_CHANNEL_UTIL

    def _send_nodeinfo(self) -> None:
        """``NodeInfoModule::sendOurNodeInfo`` to everyone, unless one went out within the throttle."""
        if self.rf_now() is not None and self.modules.nodeinfo_allowed():
            self.announce()

    def _nodeinfo_tick(self) -> None:
        """``NodeInfoModule::runOnce``: at boot and every ``node_info_broadcast_secs``."""
        if self._periodic_allowed() and self.state.config.device.role != Role.CLIENT_HIDDEN:
            self._send_nodeinfo()
        self._after(float(self.state.config.device.node_info_broadcast_secs or 3 * 3600), self._nodeinfo_tick)

    def _send_position(self) -> bool:
        """``PositionModule::sendOurPosition``: on the first channel that shares a position."""
        channel = self.modules.position_channel()
        data = None if channel is None or self.rf_now() is None else self.modules.position_data(channel)
        return data is not None and channel is not None and self._broadcast(data, channel)

    def _position_tick(self) -> None:
        """``PositionModule::runOnce``: a fixed position goes out at boot and every ``position_broadcast_secs``."""
        router = self.state.config.device.role in (Role.ROUTER, Role.ROUTER_LATE)
        interval = self.state.config.position.position_broadcast_secs or (ROUTER_BROADCAST_S if router
                                                                          else DEFAULT_BROADCAST_S)
        last, now = self.modules.last_position_sent, self.clock()
        if self.channel_utilization() < POLITE_CHANNEL_UTIL and (last is None or now - last >= interval) \
                and self._send_position():
            self.modules.last_position_sent = now
        self._after(self.timing.position_check_s, self._position_tick)

    def _telemetry_tick(self) -> None:
        """``DeviceTelemetryModule::runOnce``: metrics to the mesh when due and enabled, else to the client."""
        telemetry = self.state.module_config.telemetry
        now, last = self.clock(), self._last_telemetry_to_mesh
        interval = telemetry.device_update_interval or DEFAULT_BROADCAST_S
        data = mesh_pb2.Data(portnum=PortNum.TELEMETRY_APP, payload=telemetry_pb2.Telemetry(
            time=int(time.time()), device_metrics=self.device_metrics()).SerializeToString())
        if telemetry.device_telemetry_enabled and (last is None or now - last >= interval) and \
                self._periodic_allowed() and self.rf_now() is not None:
            self._broadcast(data)
            self._last_telemetry_to_mesh = now
        elif self.client is not None and self.client.configured:
            packet = mesh_pb2.MeshPacket(id=self._new_packet_id(), to=BROADCAST, decoded=data)
            setattr(packet, "from", self.node_num)
            self.client.send(mesh_pb2.FromRadio(packet=packet))
        self._after(self.timing.telemetry_to_phone_s, self._telemetry_tick)

    # --- transmit queue ---------------------------------------------------------------------
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
            slot = rf.preset.slot_time
            item.ready_at = now + tx_delay(self.channel_utilization(), slot, self.rng) + slot
            self._arm()
            return
        self._queue.remove(item)
        if item.relay:
            self._pending_relays.pop(_key(item.packet), None)
            self.counters.relayed += 1
        airtime = rf.preset.airtime(MESHTASTIC_HEADER + item.payload_len)
        self.ledger.record(ticks(now), ticks(now + airtime))
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
            # Someone rebroadcast our packet: the implicit ACK (ReliableRouter::shouldFilterReceived).
            if self.retransmissions.stop(key):
                self._deliver_routing(packet.id, Error.NONE)
            return
        if receive_filters.ignores_sender(self.state, sender):
            self.counters.ignored += 1
            return
        if key in self._seen:
            self._duplicate(frame, packet, link)
            return
        self._remember(key)
        self.counters.received += 1
        channel_index = self._decode(frame, packet)
        if channel_index is not None:
            packet.channel = channel_index
            if receive_filters.skips_port(self.state, packet.decoded.portnum):
                self.counters.skipped += 1
                return
            self._handle_decoded(packet, link)
        if packet.to != self.node_num and packet.hop_limit > 0:
            self._maybe_relay(frame, packet, link, channel_index is not None)

    def _decode(self, frame: AirFrame, packet: mesh_pb2.MeshPacket) -> int | None:
        """The channel that decodes the frame, or None (``perhapsDecode``, KNOWN_ONLY first)."""
        if receive_filters.refuses_to_decode(self.state, getattr(packet, "from")):
            return None
        for channel in self.state.channels:
            if self.state.channel_index_enabled(channel.index) and \
                    channel_identity(channel, self.state.lora) == frame.channel:
                return channel.index
        return None

    def _duplicate(self, frame: AirFrame, packet: mesh_pb2.MeshPacket, link: Link) -> None:
        """A packet heard before (``FloodingRouter`` / ``NextHopRouter::shouldFilterReceived``)."""
        self.counters.duplicates += 1
        key = _key(packet)
        pending = self._pending_relays.get(key)
        repeated = packet.hop_start > 0 and packet.hop_start == packet.hop_limit
        if repeated:
            # The originator retried: its ACK got lost. Relay again (so it hears the implicit ACK),
            # or ACK again if it is for us, unless our copy is still queued.
            if pending is not None:
                return
            channel_index = self._decode(frame, packet)
            if channel_index is not None and receive_filters.skips_port(self.state, packet.decoded.portnum):
                return
            if packet.to == self.node_num:
                if channel_index is not None and packet.want_ack:
                    self._send_ack(packet, channel_index, hop_limit=0)
            elif packet.hop_limit > 0:
                self._maybe_relay(frame, packet, link, channel_index is not None)
            return
        if pending is not None and flooding.cancels_on_duplicate(self.state.config.device.role):
            self._queue.remove(pending)
            del self._pending_relays[key]
            self.counters.cancelled_relays += 1
            self._arm()

    def _handle_decoded(self, packet: mesh_pb2.MeshPacket, link: Link) -> None:
        """``MeshModule::callModules`` for a decoded packet: node DB, delivery, answers, ACK."""
        self.modules.learn(packet, link.snr_db)
        data = packet.decoded
        for_us = packet.to == self.node_num
        if data.portnum == PortNum.TRACEROUTE_APP and for_us:
            trace_hop(packet, self.node_num, link.snr_db, snr_only=True)
        if for_us and data.request_id:
            # An ACK, a NAK or a reply ends the retries of our request (ReliableRouter::sniffReceived).
            self.retransmissions.stop((self.node_num, data.request_id))
        if for_us or packet.to == BROADCAST:
            self._deliver_received(packet, link)
        replied = False
        if data.want_response and (for_us or packet.to == BROADCAST):
            answer = self.modules.answer(packet, self.device_metrics(), self.local_stats())
            if answer.data is not None:
                replied = self._reply(packet, answer.data)
            elif not answer.ignored:
                self._send_routing(packet, Error.NO_RESPONSE)  # "No one responded, send a nak"
        if for_us and packet.want_ack and not replied:
            is_reply = bool(data.request_id or data.reply_id)
            if not is_reply:
                self._send_ack(packet, packet.channel)
            elif hops_away(packet) == 0:
                self._send_ack(packet, packet.channel, hop_limit=0)

    def _deliver_received(self, packet: mesh_pb2.MeshPacket, link: Link) -> None:
        packet.rx_snr = link.snr_db
        packet.rx_rssi = int(link.rssi_dbm)
        packet.rx_time = int(time.time())
        packet.transport_mechanism = mesh_pb2.MeshPacket.TransportMechanism.TRANSPORT_LORA
        self.counters.delivered += 1
        self.to_client(mesh_pb2.FromRadio(packet=packet))

    def _reply(self, request: mesh_pb2.MeshPacket, data: mesh_pb2.Data) -> bool:
        """Send a module's answer back (``setReplyTo``: same channel, reliable if the request was)."""
        reply = mesh_pb2.MeshPacket(to=getattr(request, "from"), channel=request.channel, want_ack=request.want_ack,
                                    hop_limit=response_hop_limit(request, self.state.lora.hop_limit))
        reply.decoded.CopyFrom(data)
        reply.decoded.request_id = request.id
        return self.originate(reply)

    def _send_routing(self, request: mesh_pb2.MeshPacket, error: int, hop_limit: int | None = None) -> None:
        """A Routing ACK/NAK over the air to the request's sender (``RoutingModule::sendAckNak``)."""
        ack = mesh_pb2.MeshPacket(to=getattr(request, "from"), channel=request.channel,
                                  hop_limit=response_hop_limit(request, self.state.lora.hop_limit)
                                  if hop_limit is None else hop_limit)
        ack.decoded.portnum = PortNum.ROUTING_APP
        ack.decoded.payload = mesh_pb2.Routing(error_reason=error).SerializeToString()
        ack.decoded.request_id = request.id
        self.originate(ack)

    def _send_ack(self, packet: mesh_pb2.MeshPacket, channel_index: int, hop_limit: int | None = None) -> None:
        request = mesh_pb2.MeshPacket()
        request.CopyFrom(packet)
        request.channel = channel_index
        self._send_routing(request, Error.NONE, hop_limit)

    def _maybe_relay(self, frame: AirFrame, packet: mesh_pb2.MeshPacket, link: Link, decodable: bool) -> None:
        device = self.state.config.device
        known = getattr(packet, "from") in self.state.nodes
        if not flooding.may_relay(device.role, device.rebroadcast_mode, decodable, packet.decoded.portnum, known):
            return
        rf = self.rf_now()
        if rf is None or len(self._queue) >= MAX_TX_QUEUE:
            return
        if self._duty_cycle_exceeded():
            self.counters.refused_duty_cycle += 1
            return
        relay = mesh_pb2.MeshPacket.FromString(frame.packet.SerializeToString())
        if decodable and relay.decoded.portnum == PortNum.TRACEROUTE_APP:
            trace_hop(relay, self.node_num, link.snr_db, snr_only=False)  # the route grows by this hop
        relay.hop_limit = packet.hop_limit - 1
        relay.relay_node = self.node_num & 0xFF
        delay = relay_delay(flooding.rebroadcasts_early(device.role), link.snr_db, rf.preset.slot_time, self.rng)
        item = QueuedTx(relay, frame.channel, len(relay.decoded.SerializeToString()) + BITFIELD_BYTES,
                        self.clock() + delay, True)
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
