"""Meshtastic's managed flooding rules, as pure functions of role, config and the packet.

Sources (reference/meshtastic.md §2, §5): firmware FloodingRouter / NextHopRouter (who
rebroadcasts and who cancels on hearing a duplicate), Router.cpp (the CORE_PORTNUMS_ONLY
whitelist). The delays themselves are the channel's (``simulator.channel.contention``).
"""

from __future__ import annotations

from meshtastic.protobuf import config_pb2, portnums_pb2

Role = config_pb2.Config.DeviceConfig.Role
RebroadcastMode = config_pb2.Config.DeviceConfig.RebroadcastMode
PortNum = portnums_pb2.PortNum

HOP_MAX = 7
HOP_RELIABLE = 3

# Ports a CORE_PORTNUMS_ONLY relay still forwards (firmware Router.cpp); PRIVATE_APP is not one.
CORE_PORTNUMS = frozenset({
    PortNum.TEXT_MESSAGE_APP, PortNum.TEXT_MESSAGE_COMPRESSED_APP, PortNum.POSITION_APP,
    PortNum.NODEINFO_APP, PortNum.ROUTING_APP, PortNum.TELEMETRY_APP, PortNum.ADMIN_APP,
    PortNum.ALERT_APP, PortNum.KEY_VERIFICATION_APP, PortNum.WAYPOINT_APP, PortNum.STORE_FORWARD_APP,
    PortNum.TRACEROUTE_APP, PortNum.STORE_FORWARD_PLUSPLUS_APP,
})
# Roles that keep their rebroadcast even when a neighbour relayed the same packet first.
NON_CANCELLING_ROLES = frozenset({Role.ROUTER, Role.ROUTER_LATE, Role.CLIENT_BASE})


def is_rebroadcaster(role: int) -> bool:
    """CLIENT_MUTE never relays (firmware ``isRebroadcaster``)."""
    return role != Role.CLIENT_MUTE


def may_relay(role: int, mode: int, decodable: bool, portnum: int, sender_known: bool) -> bool:
    """Whether a radio relays a packet it received with hop_limit left, by role and rebroadcast mode."""
    if not is_rebroadcaster(role):
        return False
    if mode in (RebroadcastMode.ALL, RebroadcastMode.ALL_SKIP_DECODING):
        return True
    if mode == RebroadcastMode.LOCAL_ONLY:
        return decodable
    if mode == RebroadcastMode.KNOWN_ONLY:
        return decodable and sender_known
    if mode == RebroadcastMode.CORE_PORTNUMS_ONLY:
        return decodable and portnum in CORE_PORTNUMS
    return False  # NONE


def cancels_on_duplicate(role: int) -> bool:
    """Whether hearing another relay of a packet cancels this radio's queued relay."""
    return role not in NON_CANCELLING_ROLES


def rebroadcasts_early(role: int) -> bool:
    """``shouldRebroadcastEarlyLikeRouter``: ROUTER only (not ROUTER_LATE)."""
    return role == Role.ROUTER


def sanitize_hop_limit(hop_limit: int) -> int:
    """Firmware resets an out-of-range hop limit to the default before sending."""
    return HOP_RELIABLE if hop_limit > HOP_MAX else hop_limit
