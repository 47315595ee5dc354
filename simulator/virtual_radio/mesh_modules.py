"""The firmware modules a virtual radio runs: NodeInfo, Position, DeviceTelemetry and TraceRoute.

They update the node DB from what the radio hears, build the radio's own announcements, and
answer requests from other radios from the destination itself (each module's ``allocReply``,
driven by ``MeshModule::callModules``), with the firmware's throttles. Times are the radio's clock
in seconds; the module state here (who was answered when) is kept across reboots, as firmware
2.7.20+ keeps it in ``TransmitHistory`` (before 2.7.20 a reboot forgot it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from meshtastic.protobuf import config_pb2, mesh_pb2, portnums_pb2, telemetry_pb2

from simulator.virtual_radio.state import RadioState, node_id
from simulator.virtual_radio.timing import FirmwareTiming

PortNum = portnums_pb2.PortNum
Role = config_pb2.Config.DeviceConfig.Role
BROADCAST = 0xFFFFFFFF
UNKNOWN_SNR = -128  # INT8_MIN in a RouteDiscovery SNR list
ROUTE_SIZE = 8  # RouteDiscovery route max_count
USB_POWERED_BATTERY_LEVEL = 101  # DeviceTelemetry MAGIC_USB_BATTERY_LEVEL: no battery, on external power
ANSWERING_ROLES_FOR_MULTIHOP = frozenset({Role.ROUTER, Role.ROUTER_LATE, Role.SENSOR})


@dataclass
class Answer:
    """A module's reply to a request: ``data`` to send, or nothing (``ignored``: and no NO_RESPONSE NAK)."""

    data: mesh_pb2.Data | None = None
    ignored: bool = False


def hops_away(packet: mesh_pb2.MeshPacket) -> int:
    """Hops a packet travelled (``getHopsAway``), -1 when its header cannot tell."""
    if packet.hop_start < packet.hop_limit:
        return -1
    return packet.hop_start - packet.hop_limit


def response_hop_limit(request: mesh_pb2.MeshPacket, configured: int) -> int:
    """The hop limit of a reply or ACK (``RoutingModule::getHopLimitForResponse``)."""
    used = hops_away(request)
    if used >= 0:
        if used > configured:
            return used
        if request.hop_start == 0:
            return 0  # the requester wanted 0 hops
        if used + 2 < configured:
            return used + 2  # the hops needed, with some margin
    return configured


def with_precision(position: mesh_pb2.Position, precision: int) -> mesh_pb2.Position:
    """``applyPositionPrecision``: keep ``precision`` bits of lat/lon, centred in their bucket; 0 hides it."""
    result = mesh_pb2.Position()
    if precision <= 0:
        result.time = position.time
        return result
    result.CopyFrom(position)
    bits = min(precision, 32)
    result.precision_bits = bits
    if bits < 32:
        mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
        for name in ("latitude_i", "longitude_i"):
            raw = (getattr(position, name) & 0xFFFFFFFF & mask) + (1 << (31 - bits))
            setattr(result, name, raw - (1 << 32) if raw & 0x80000000 else raw)
    return result


def trace_hop(packet: mesh_pb2.MeshPacket, node_num: int, snr_db: float, snr_only: bool) -> None:
    """Add this radio to a passing RouteDiscovery (``TraceRouteModule::alterReceivedProtobuf``).

    Requests grow ``route``/``snr_towards``, replies (``request_id`` set) ``route_back``/``snr_back``;
    hops that did not record themselves are filled in as unknown (``insertUnknownHops``). The
    final recipient adds only the SNR it heard the packet with.
    """
    route = mesh_pb2.RouteDiscovery()
    try:
        route.ParseFromString(packet.decoded.payload)
    except DecodeError:
        return
    towards = packet.decoded.request_id == 0
    hops, snrs = (route.route, route.snr_towards) if towards else (route.route_back, route.snr_back)
    taken = hops_away(packet)
    while 0 <= len(hops) < taken and len(hops) < ROUTE_SIZE:
        hops.append(BROADCAST)
    while len(snrs) < len(hops):
        snrs.append(UNKNOWN_SNR)
    if len(snrs) < ROUTE_SIZE:
        snrs.append(max(-128, min(127, int(snr_db * 4))))
    if not snr_only and len(hops) < ROUTE_SIZE:
        hops.append(node_num)
    packet.decoded.payload = route.SerializeToString()


class MeshModules:
    """Node DB updates, own announcements and far-side answers of one radio."""

    def __init__(self, state: RadioState, timing: FirmwareTiming, clock: Callable[[], float]) -> None:
        self.state = state
        self.timing = timing
        self.clock = clock
        self.last_nodeinfo_sent: float | None = None  # TransmitHistory NODEINFO_APP
        self.last_position_sent: float | None = None  # TransmitHistory POSITION_APP (lastGpsSend)
        self.last_position_reply: float | None = None
        self._nodeinfo_requesters: dict[int, float] = {}

    def forget(self) -> None:
        """A factory reset clears the transmit history too (``NodeDB::factoryReset``)."""
        self.last_nodeinfo_sent = self.last_position_sent = self.last_position_reply = None
        self._nodeinfo_requesters.clear()

    # --- what this radio says about itself ---------------------------------------------------
    def own_user(self) -> mesh_pb2.User:
        """Our NodeInfo payload: the owner, with the public key unless licensed (``NodeInfoModule::allocReply``)."""
        user = mesh_pb2.User()
        user.CopyFrom(self.state.owner)
        user.id = node_id(self.state.node_num)
        user.role = self.state.config.device.role
        if user.is_licensed:
            user.public_key = b""
        return user

    def nodeinfo_allowed(self) -> bool:
        """No NodeInfo within the throttle window after the last one (``NodeInfoModule::allocReply``)."""
        last = self.last_nodeinfo_sent
        return last is None or self.clock() - last >= self.timing.nodeinfo_throttle_s

    def nodeinfo_data(self, want_response: bool = False) -> mesh_pb2.Data:
        """Our NodeInfo as a packet payload; counts as sent for the throttle."""
        self.last_nodeinfo_sent = self.clock()
        return mesh_pb2.Data(portnum=PortNum.NODEINFO_APP, payload=self.own_user().SerializeToString(),
                             want_response=want_response)

    def position_channel(self) -> int | None:
        """The first channel that shares a position (``PositionModule::sendOurPosition``)."""
        return next((i for i in range(len(self.state.channels)) if self.state.position_precision(i) != 0), None)

    def position_data(self, channel_index: int) -> mesh_pb2.Data | None:
        """Our fixed position at the channel's precision; None without one (``allocPositionPacket``)."""
        if not self.state.config.position.fixed_position:
            return None
        position = mesh_pb2.Position()
        position.CopyFrom(self.state.fixed_position)
        if position.latitude_i == 0 and position.longitude_i == 0:
            return None  # "Skip position send because lat/lon are zero!"
        position.location_source = mesh_pb2.Position.LocSource.LOC_MANUAL
        position.time = int(time.time())
        precise = with_precision(position, self.state.position_precision(channel_index))
        return mesh_pb2.Data(portnum=PortNum.POSITION_APP, payload=precise.SerializeToString())

    # --- what this radio learns ---------------------------------------------------------------
    def learn(self, packet: mesh_pb2.MeshPacket, snr_db: float) -> None:
        """Update the node DB from a decoded packet (``NodeDB::updateFrom`` and the modules' handlers)."""
        sender = getattr(packet, "from")
        info = self.state.nodes.setdefault(sender, mesh_pb2.NodeInfo(num=sender))
        info.last_heard = int(time.time())
        info.snr = snr_db
        info.channel = packet.channel
        hops = hops_away(packet)
        if hops >= 0:
            info.hops_away = hops
        data = packet.decoded
        try:
            if data.portnum == PortNum.NODEINFO_APP:
                user = mesh_pb2.User.FromString(data.payload)
                user.id = node_id(sender)  # coerced from the node number
                info.user.CopyFrom(user)
            elif data.portnum == PortNum.POSITION_APP and not data.want_response:
                position = mesh_pb2.Position.FromString(data.payload)
                if position.latitude_i or position.longitude_i:
                    info.position.CopyFrom(position)
            elif data.portnum == PortNum.TELEMETRY_APP:
                telemetry = telemetry_pb2.Telemetry.FromString(data.payload)
                if telemetry.HasField("device_metrics"):
                    info.device_metrics.CopyFrom(telemetry.device_metrics)
        except DecodeError:
            pass  # a malformed payload teaches nothing

    # --- answers from the far side -----------------------------------------------------------------
    def answer(self, request: mesh_pb2.MeshPacket, metrics: telemetry_pb2.DeviceMetrics,
               stats: telemetry_pb2.LocalStats) -> Answer:
        """The reply a module of this radio gives to ``request`` (which has ``want_response``)."""
        port = request.decoded.portnum
        multihop_broadcast = request.to == BROADCAST and request.hop_limit < request.hop_start
        if port == PortNum.NODEINFO_APP:
            return self._answer_nodeinfo(request)
        if port == PortNum.POSITION_APP:
            return self._answer_position(request)
        if port == PortNum.TELEMETRY_APP:
            if multihop_broadcast and self.state.config.device.role not in ANSWERING_ROLES_FOR_MULTIHOP:
                return Answer(ignored=True)
            return self._answer_telemetry(request, metrics, stats)
        if port == PortNum.TRACEROUTE_APP:
            if multihop_broadcast:
                return Answer(ignored=True)  # "Ignore multi-hop broadcast requests"
            return Answer(mesh_pb2.Data(portnum=PortNum.TRACEROUTE_APP, payload=request.decoded.payload))
        return Answer()  # no module: the firmware NAKs with NO_RESPONSE

    def _answer_nodeinfo(self, request: mesh_pb2.MeshPacket) -> Answer:
        sender, now = getattr(request, "from"), self.clock()
        last = self._nodeinfo_requesters.get(sender)
        self._nodeinfo_requesters[sender] = now
        if last is not None and now - last < self.timing.nodeinfo_reply_suppress_s:
            return Answer(ignored=True)  # "Skip send NodeInfo since we heard the requester <12h ago"
        if not self.nodeinfo_allowed():
            return Answer(ignored=True)
        return Answer(self.nodeinfo_data())

    def _answer_position(self, request: mesh_pb2.MeshPacket) -> Answer:
        now = self.clock()
        if self.last_position_reply is not None and now - self.last_position_reply < \
                self.timing.position_reply_throttle_s and self.state.config.device.role != Role.LOST_AND_FOUND:
            return Answer(ignored=True)  # "Skip Position reply since we sent a reply <3min ago"
        data = self.position_data(request.channel)
        if data is not None:
            self.last_position_reply = now
        return Answer(data)

    def _answer_telemetry(self, request: mesh_pb2.MeshPacket, metrics: telemetry_pb2.DeviceMetrics,
                          stats: telemetry_pb2.LocalStats) -> Answer:
        try:
            asked = telemetry_pb2.Telemetry.FromString(request.decoded.payload)
        except DecodeError:
            return Answer()
        reply = telemetry_pb2.Telemetry(time=int(time.time()))
        if asked.HasField("device_metrics"):
            reply.device_metrics.CopyFrom(metrics)
        elif asked.HasField("local_stats"):
            reply.local_stats.CopyFrom(stats)
        else:
            return Answer()  # environment, power, air quality: no such sensor module here
        return Answer(mesh_pb2.Data(portnum=PortNum.TELEMETRY_APP, payload=reply.SerializeToString()))
